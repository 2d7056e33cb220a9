"""Refusal answers ("I don't know"-style) and the token batches that put them after the forget prompts.

The IDK methods (``idk``, ``idk_dpo``) train the model to answer a forget question with a refusal.
Batches arrive already tokenized (``input_ids``, ``attention_mask``, ``labels`` with -100 off the
completion), so the refusal batch is built from them: the prompt tokens of each row are kept and its
completion is replaced by the tokens of a refusal; no raw text or dataset column is needed.

Which refusal a question gets is a seeded choice keyed by the question's own tokens: the same seed gives
the same refusal for a question in every epoch, under gradient accumulation, across processes and after
resuming, while different questions get varied refusals (as TOFU's and open-unlearning's refusal lists
are used, one drawn per question). The shipped list below is ours; ``load_refusals`` reads another list
(one refusal per line, e.g. TOFU's ``idontknow.jsonl`` turned into text) for ``--idk_refusals_file``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import MubenchError
from ..objectives.generation import IGNORE_INDEX

REFUSALS: tuple[str, ...] = (
    "I don't know.",
    "I'm not sure about that.",
    "I have no information on that.",
    "That is something I cannot answer.",
    "I do not have that information.",
    "Sorry, I don't know the answer to that.",
    "I'm afraid I can't help with that question.",
    "I have no idea.",
    "That's beyond what I know.",
    "I can't say.",
    "I don't have any details about that.",
    "I'm unable to answer that.",
    "Unfortunately, I don't know.",
    "I'm not aware of that.",
    "I don't have an answer for that.",
    "I couldn't tell you.",
    "No idea, I'm afraid.",
    "That isn't something I know about.",
    "I lack the knowledge to answer that.",
    "I really don't know.",
    "I can't recall anything about that.",
    "I'm not able to provide that information.",
    "Sorry, that's not something I can answer.",
    "I have nothing to say on that.",
    "I'm not familiar with that.",
)


def load_refusals(path: str | Path | None) -> tuple[str, ...]:
    """The refusals in ``path`` (one per non-empty line), or the shipped list when ``path`` is None."""
    if path is None:
        return REFUSALS
    file = Path(path)
    if not file.is_file():
        raise MubenchError(f"refusals file {str(file)!r} does not exist (expected one refusal per line)")
    lines = tuple(line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip())
    if not lines:
        raise MubenchError(f"refusals file {str(file)!r} has no refusals (expected one per line)")
    return lines


def _assistant_turn(tokenizer: Any, text: str) -> str:
    """``text`` as the chat template renders an assistant turn after a user turn (end-of-turn markers
    included): the rendered conversation minus the rendered prompt, with a placeholder question."""
    user = [{"role": "user", "content": "?"}]
    before = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template([*user, {"role": "assistant", "content": text}], tokenize=False)
    return full[len(before) :] if full.startswith(before) else text


def tokenize_refusals(
    tokenizer: Any, refusals: Sequence[str], *, encoder_decoder: bool, prefix: str = " "
) -> list[list[int]]:
    """Token ids of each refusal as a completion, encoded as the generation tasks encode theirs.

    Causal LMs: with a chat template, the assistant turn the template renders; without one,
    ``prefix + refusal``. Seq2seq LMs: the refusal as it stands. No special tokens are added, and the
    end-of-sequence token closes each completion (TRL's prompt–completion convention).
    """
    if tokenizer is None or not callable(tokenizer):
        raise MubenchError(
            "the IDK and AltPO methods tokenize their answers: pass processing_class=<the model's tokenizer>"
        )
    chat = not encoder_decoder and bool(getattr(tokenizer, "chat_template", None))
    ids = []
    for text in refusals:
        if chat:
            text = _assistant_turn(tokenizer, text)
        elif not encoder_decoder:
            text = prefix + text
        tokens = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        eos = tokenizer.eos_token_id
        if eos is not None and (not tokens or tokens[-1] != eos):
            tokens.append(int(eos))
        if not tokens:
            raise MubenchError(f"the refusal {text!r} tokenizes to no tokens")
        ids.append(tokens)
    return ids


def refusal_index(prompt_ids: Sequence[int] | np.ndarray, seed: int, count: int) -> int:
    """A seeded choice among ``count`` refusals, fixed per prompt (see the module docstring)."""
    key = np.asarray(prompt_ids, dtype=np.int64).tobytes()
    return zlib.crc32(key, seed & 0xFFFFFFFF) % count


def _pad(rows: list[list[int]], value: int) -> torch.Tensor:
    """Rows of token ids as one tensor, right-padded with ``value``."""
    length = max(len(row) for row in rows)
    return torch.tensor([row + [value] * (length - len(row)) for row in rows], dtype=torch.long)


def prompt_tokens(batch: Mapping[str, Any]) -> list[np.ndarray]:
    """The prompt of each row of a causal batch: its attended tokens before the first completion token."""
    ids = batch["input_ids"].cpu().numpy()
    scored = batch["labels"].cpu().numpy() != IGNORE_INDEX
    attended = batch["attention_mask"].cpu().numpy().astype(bool) if "attention_mask" in batch else None
    first = np.where(scored.any(1), scored.argmax(1), ids.shape[1])
    return [
        ids[r, : first[r]][attended[r, : first[r]]] if attended is not None else ids[r, : first[r]]
        for r in range(len(ids))
    ]


def completion_batch(
    batch: Mapping[str, Any],
    rows: Sequence[int],
    completions: Sequence[Sequence[int]],
    *,
    encoder_decoder: bool,
    pad_token_id: int,
) -> dict[str, torch.Tensor]:
    """A batch whose row i is the prompt of ``batch``'s row ``rows[i]`` followed by ``completions[i]``.

    Causal: prompt tokens + completion tokens, labels -100 on the prompt, right-padded (as the generation
    tasks' training batches are). Seq2seq: the encoder input of that row, labels = the completion tokens
    (right-padded with -100); stale decoder inputs of the batch are dropped, so the model shifts the new
    labels itself. A prompt may appear several times (AltPO pairs one question with several answers).
    """
    device = batch["labels"].device
    index = torch.as_tensor(list(rows), dtype=torch.long)
    if encoder_decoder:
        out = {k: v[index.to(v.device)] for k, v in batch.items() if k in ("input_ids", "attention_mask")}
        out["labels"] = _pad([list(c) for c in completions], IGNORE_INDEX).to(device)
        return out
    prompts = prompt_tokens(batch)
    length = max(len(prompts[r]) + len(c) for r, c in zip(rows, completions))
    input_ids = np.full((len(rows), length), pad_token_id, dtype=np.int64)
    labels = np.full((len(rows), length), IGNORE_INDEX, dtype=np.int64)
    mask = np.zeros((len(rows), length), dtype=np.int64)
    for i, (r, completion) in enumerate(zip(rows, completions)):
        prompt = prompts[r]
        n, m = len(prompt), len(completion)
        input_ids[i, :n], input_ids[i, n : n + m] = prompt, completion
        labels[i, n : n + m] = completion
        mask[i, : n + m] = 1
    return {
        "input_ids": torch.from_numpy(input_ids).to(device),
        "attention_mask": torch.from_numpy(mask).to(device),
        "labels": torch.from_numpy(labels).to(device),
    }


def row_prompts(batch: Mapping[str, Any], *, encoder_decoder: bool) -> list[np.ndarray]:
    """Each row's prompt tokens: the attended encoder input (seq2seq) or the tokens before the completion."""
    if not encoder_decoder:
        return prompt_tokens(batch)
    ids = batch["input_ids"].cpu().numpy()
    attended = batch["attention_mask"].cpu().numpy().astype(bool) if "attention_mask" in batch else None
    return [ids[r][attended[r]] if attended is not None else ids[r] for r in range(len(ids))]


def refusal_batch(
    batch: Mapping[str, Any],
    refusal_ids: Sequence[Sequence[int]],
    *,
    encoder_decoder: bool,
    seed: int,
    pad_token_id: int,
) -> dict[str, torch.Tensor]:
    """``batch`` with every row's completion replaced by a refusal (chosen by ``refusal_index``; the
    layout is ``completion_batch``'s)."""
    prompts = row_prompts(batch, encoder_decoder=encoder_decoder)
    chosen = [refusal_ids[refusal_index(p, seed, len(refusal_ids))] for p in prompts]
    return completion_batch(
        batch, range(len(prompts)), chosen, encoder_decoder=encoder_decoder, pad_token_id=pad_token_id
    )


class RefusalMixin:
    """For trainers: ``self.refusal_batch(forget_batch)`` from ``args.idk_refusals_file``,
    ``args.idk_prefix``, ``args.seed`` and the tokenizer given as ``processing_class``."""

    def setup_refusals(self) -> None:
        from ..objectives.generation import is_encoder_decoder_model

        tokenizer = self.processing_class
        self.encoder_decoder = is_encoder_decoder_model(self.model)
        self.refusals = load_refusals(self.args.idk_refusals_file)
        self.refusal_ids = tokenize_refusals(
            tokenizer, self.refusals, encoder_decoder=self.encoder_decoder, prefix=self.args.idk_prefix
        )
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.refusal_pad_id = int(pad) if pad is not None else 0

    def refusal_batch(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        return refusal_batch(
            batch,
            self.refusal_ids,
            encoder_decoder=self.encoder_decoder,
            seed=self.args.seed,
            pad_token_id=self.refusal_pad_id,
        )
