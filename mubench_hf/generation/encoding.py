"""Prompt–completion rows → the batch format every generation component shares.

* causal LM: ``input_ids`` = prompt tokens + completion tokens + EOS, ``labels`` the same with ``-100`` on
  the prompt (and, after collation, on padding);
* seq2seq LM: ``input_ids`` = the prompt (encoder input), ``labels`` = the completion tokens + EOS.

A tokenizer with a chat template gets the prompt as one user message, rendered with the generation prompt
(``apply_chat_template(..., add_generation_prompt=True)``); the completion is the rest of the rendered
conversation (the assistant's turn with its end-of-turn markers), closed by the EOS token when the template
does not end with it — as ``mubench_hf.evaluation.generation`` scores it. Without a template the prompt text is used as it stands (the task's rows carry
their own formatting). Prompt and completion are tokenized separately, so the boundary between them is
exact whatever the tokenizer merges.

Rows longer than ``max_length`` lose the start of their prompt (the completion and the end of the prompt,
next to it, are what matter); ``truncated`` says which rows were cut, so the report can count them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

IGNORE_INDEX = -100


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def prompt_text(tokenizer: Any, prompt: str) -> str:
    """The prompt as the model sees it: the chat template's rendering of one user turn, or as is."""
    if has_chat_template(tokenizer):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    return prompt


def prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    """Token ids of the prompt (BOS included where the tokenizer adds one; none after a chat template,
    which writes its own)."""
    text = prompt_text(tokenizer, prompt)
    return list(tokenizer(text, add_special_tokens=not has_chat_template(tokenizer))["input_ids"])


def completion_ids(tokenizer: Any, completion: str, prompt: str | None = None) -> list[int]:
    """Token ids of the completion, closed by EOS (no BOS). With a chat template, the assistant turn's
    tokens as the template renders them after ``prompt``'s user turn (its end-of-turn markers included)."""
    if has_chat_template(tokenizer) and prompt is not None:
        before = prompt_text(tokenizer, prompt)
        full = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}],
            tokenize=False,
        )
        completion = full[len(before) :] if full.startswith(before) else completion
    ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
    eos = tokenizer.eos_token_id
    if eos is not None and (not ids or ids[-1] != eos):
        ids.append(int(eos))
    return ids


def encode_causal(
    tokenizer: Any, prompt: str, completion: str, max_length: int | None
) -> tuple[dict[str, list[int]], bool]:
    """One causal-LM row and whether its prompt was cut from the left."""
    p, c = prompt_ids(tokenizer, prompt), completion_ids(tokenizer, completion, prompt)
    truncated = False
    if max_length is not None and len(p) + len(c) > max_length:
        truncated = True
        c = c[:max_length]
        keep = max(max_length - len(c), 0)
        p = p[len(p) - keep :] if keep else []
    ids = p + c
    return {
        "input_ids": ids,
        "attention_mask": [1] * len(ids),
        "labels": [IGNORE_INDEX] * len(p) + c,
    }, truncated


def encode_seq2seq(
    tokenizer: Any, prompt: str, completion: str, max_length: int | None
) -> tuple[dict[str, list[int]], bool]:
    """One seq2seq row (encoder input = prompt, labels = completion) and whether its prompt was cut."""
    p = list(tokenizer(prompt)["input_ids"])
    c = completion_ids(tokenizer, completion)
    truncated = False
    if max_length is not None and len(p) > max_length:
        truncated = True
        p = p[len(p) - max_length :]
    if max_length is not None:
        c = c[:max_length]
    return {"input_ids": p, "attention_mask": [1] * len(p), "labels": c}, truncated


def encode_rows(
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    *,
    seq2seq: bool,
    max_length: int | None,
) -> tuple[dict[str, list[list[int]]], list[bool]]:
    """Encode a batch of rows (unpadded); returns the fields and which rows were truncated."""
    encode = encode_seq2seq if seq2seq else encode_causal
    out: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
    cut: list[bool] = []
    for prompt, completion in zip(prompts, completions, strict=True):
        row, truncated = encode(tokenizer, prompt, completion, max_length)
        for key in out:
            out[key].append(row[key])
        cut.append(truncated)
    return out, cut
