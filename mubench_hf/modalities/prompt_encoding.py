"""Prompt–completion rows → token ids: the one encoder that training and scoring share.

Base and retrain models are fine-tuned on what ``PromptEncoder.encode`` makes of a row, the unlearning
methods train on it, and the generation report scores answers and generates from prompts with the same
``prompt_ids`` / ``completion_ids``, so what is trained and what is scored cannot drift apart.

* causal LM: ``input_ids`` = prompt tokens + completion tokens + EOS, ``labels`` the same with ``-100`` on
  the prompt (and, after collation, on padding);
* seq2seq LM: ``input_ids`` = the prompt (encoder input), ``labels`` = the completion tokens + EOS.

With ``chat`` (a causal LM whose tokenizer has a chat template, unless told otherwise) the prompt is one user
message rendered with the generation prompt (``apply_chat_template(..., add_generation_prompt=True)``) and
the completion is the rest of the rendered conversation (the assistant's turn with its end-of-turn markers),
closed by the EOS token when the template does not end with it. Without a template the prompt text is used
as it stands (the task's rows carry their own formatting). Prompt and completion are tokenized separately,
so the boundary between them is exact whatever the tokenizer merges.

Rows longer than ``max_length`` lose the start of their prompt (the completion and the end of the prompt,
next to it, are what matter); ``encode`` says which rows were cut, so the report can count them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..columns import IGNORE_INDEX


def has_chat_template(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` carries a chat template."""
    return bool(getattr(tokenizer, "chat_template", None))


@dataclass
class PromptEncoder:
    """Turns prompts and completions into token ids the way the model is fine-tuned (module docstring).

    ``seq2seq`` keeps prompt (encoder) and completion (decoder) apart; ``chat`` applies the tokenizer's
    chat template (causal LMs); ``context`` is the model's context length for :meth:`fit_prompt`
    (``None``: unlimited).
    """

    tokenizer: Any
    seq2seq: bool
    chat: bool
    context: int | None = None

    @classmethod
    def for_training(cls, tokenizer: Any, *, seq2seq: bool) -> PromptEncoder:
        """The encoder training uses: the chat template whenever a causal LM's tokenizer has one."""
        return cls(tokenizer, seq2seq=seq2seq, chat=has_chat_template(tokenizer) and not seq2seq)

    # ------------------------------------------------------------------ one row
    def prompt_text(self, prompt: str) -> str:
        """The prompt as the model sees it: the chat template's rendering of one user turn, or as is."""
        if not self.chat:
            return prompt
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )

    def prompt_ids_of(self, prompt: str) -> list[int]:
        """Token ids of one prompt (BOS included where the tokenizer adds one; none after a chat template,
        which writes its own)."""
        text = self.prompt_text(prompt)
        return list(self.tokenizer(text, add_special_tokens=not self.chat)["input_ids"])

    def completion_ids(self, prompt: str, completion: str) -> list[int]:
        """Token ids of the completion after ``prompt``, closed by EOS (no BOS). With a chat template, the
        assistant turn's tokens as the template renders them after the user turn (end-of-turn markers
        included)."""
        if self.chat:
            before = self.prompt_text(prompt)
            full = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}],
                tokenize=False,
            )
            completion = full[len(before) :] if full.startswith(before) else completion
        ids = list(self.tokenizer(str(completion), add_special_tokens=False)["input_ids"])
        eos = self.tokenizer.eos_token_id
        if eos is not None and (not ids or ids[-1] != eos):
            ids.append(int(eos))
        return ids

    def encode(
        self, prompt: str, completion: str, max_length: int | None
    ) -> tuple[dict[str, list[int]], bool]:
        """One training row (``input_ids``, ``attention_mask``, ``labels``) and whether its prompt was cut
        from the left to fit ``max_length``."""
        p, c = self.prompt_ids_of(prompt), self.completion_ids(prompt, completion)
        truncated = False
        if self.seq2seq:
            if max_length is not None and len(p) > max_length:
                truncated, p = True, p[len(p) - max_length :]
            if max_length is not None:
                c = c[:max_length]
            return {"input_ids": p, "attention_mask": [1] * len(p), "labels": c}, truncated
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

    # ------------------------------------------------------------------ batches
    def prompt_ids(self, prompts: Sequence[str]) -> list[list[int]]:
        """Untruncated prompt ids of every prompt: :meth:`prompt_ids_of` of each, in one tokenizer call (a
        list without padding is encoded text by text, the same ids as one call each, without the per-call
        overhead)."""
        if not prompts:
            return []
        texts = [self.prompt_text(p) for p in prompts]
        return [list(ids) for ids in self.tokenizer(texts, add_special_tokens=not self.chat)["input_ids"]]

    def answer_ids(self, prompts: Sequence[str], answers: Sequence[str]) -> list[list[int]]:
        """Each answer's ids as the model is trained on them after its prompt, ending with EOS
        (:meth:`completion_ids` of each; without a chat template in one tokenizer call)."""
        if self.chat or not answers:
            return [self.completion_ids(p, str(a)) for p, a in zip(prompts, answers, strict=True)]
        if len(prompts) != len(answers):
            raise ValueError(f"{len(prompts)} prompts but {len(answers)} answers")
        eos = self.tokenizer.eos_token_id
        out = []
        for ids in self.tokenizer([str(a) for a in answers], add_special_tokens=False)["input_ids"]:
            ids = list(ids)
            if eos is not None and (not ids or ids[-1] != eos):
                ids.append(int(eos))
            out.append(ids)
        return out

    def encode_rows(
        self, prompts: Sequence[str], completions: Sequence[str], max_length: int | None
    ) -> tuple[dict[str, list[list[int]]], list[bool]]:
        """Encode a batch of rows (unpadded); returns the fields and which rows were truncated."""
        out: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
        cut: list[bool] = []
        for prompt, completion in zip(prompts, completions, strict=True):
            row, truncated = self.encode(prompt, completion, max_length)
            for key in out:
                out[key].append(row[key])
            cut.append(truncated)
        return out, cut

    def fit_prompt(self, prompt: list[int], room: int | None) -> tuple[list[int], bool]:
        """``prompt`` cut from the left to ``room`` tokens (at least one); whether it was cut."""
        if room is None or len(prompt) <= room:
            return prompt, False
        return prompt[len(prompt) - max(room, 1) :], True


def encode_rows(
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    *,
    seq2seq: bool,
    max_length: int | None,
) -> tuple[dict[str, list[list[int]]], list[bool]]:
    """Training rows of a batch (``PromptEncoder.for_training``), unpadded, and which were truncated."""
    return PromptEncoder.for_training(tokenizer, seq2seq=seq2seq).encode_rows(
        prompts, completions, max_length
    )
