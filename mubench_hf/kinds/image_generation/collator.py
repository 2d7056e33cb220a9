"""The collator of text-to-image rows: the prompt of each row's concept and the draws of the forward process.

Rows arrive as ``pixel_values`` and ``label`` (after the task's transform; random-label methods replace
``label``, which re-targets the row's prompt to another concept). The batch gets ``input_ids`` (the
prompt's tokens), ``noise`` ε ~ N(0, I) and ``timesteps`` t ~ U{0 .. T-1}, drawn from torch's global
generator, which ``Trainer`` seeds: one batch then holds the same x_t for every model that reads it.
With ``condition_dropout`` p > 0 each prompt is replaced by the empty one with probability p, as Stable
Diffusion is trained (so classifier-free guidance has an unconditional prediction to start from).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ...errors import MubenchError

# Where a row keeps its concept (the trainers' random relabelling writes any of them).
LABEL_KEYS = ("labels", "label", "label_ids")


class DenoisingCollator:
    """See the module docstring; ``prompt_ids`` is ``[K, L]``: the tokens of each concept's prompt."""

    def __init__(
        self,
        prompt_ids: torch.Tensor,
        empty_ids: torch.Tensor,
        *,
        num_train_timesteps: int,
        condition_dropout: float = 0.0,
    ) -> None:
        if not 0.0 <= condition_dropout < 1.0:
            raise MubenchError(f"condition_dropout must be in [0, 1), got {condition_dropout}")
        self.prompt_ids, self.empty_ids = prompt_ids, empty_ids
        self.num_train_timesteps = int(num_train_timesteps)
        self.condition_dropout = float(condition_dropout)

    def __call__(self, rows: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        pixels = torch.stack([torch.as_tensor(row["pixel_values"], dtype=torch.float32) for row in rows])
        labels = torch.tensor([int(next(row[k] for k in LABEL_KEYS if k in row)) for row in rows])
        input_ids = self.prompt_ids[labels].clone()
        if self.condition_dropout:
            dropped = torch.rand(len(rows)) < self.condition_dropout
            input_ids[dropped] = self.empty_ids
        return {
            "pixel_values": pixels,
            "input_ids": input_ids,
            "labels": labels,
            "noise": torch.randn_like(pixels),
            "timesteps": torch.randint(0, self.num_train_timesteps, (len(rows),)),
        }


def denoising_collator(
    model_or_tokenizer: Any,
    prompts: list[str],
    *,
    condition_dropout: float = 0.0,
    num_train_timesteps: int = 1000,
    max_length: int | None = None,
) -> DenoisingCollator:
    """A ``DenoisingCollator`` for ``prompts`` (one per concept, in label order) tokenized by the tokenizer."""
    tokenizer = model_or_tokenizer
    length = int(max_length or tokenizer.model_max_length)
    encode = lambda texts: tokenizer(  # noqa: E731
        texts, padding="max_length", max_length=length, truncation=True, return_tensors="pt"
    )["input_ids"]
    return DenoisingCollator(
        encode(prompts), encode([""])[0], num_train_timesteps=num_train_timesteps,
        condition_dropout=condition_dropout,
    )  # fmt: skip
