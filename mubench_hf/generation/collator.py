"""Padding encoded prompt–completion rows into a batch: ``input_ids`` and ``attention_mask`` padded with the
tokenizer's pad token, ``labels`` with ``-100``, on the right (training and scoring; generation pads the
prompt on the left itself)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .encoding import IGNORE_INDEX

PADDED = {"input_ids": None, "attention_mask": 0, "labels": IGNORE_INDEX}


@dataclass
class GenerationCollator:
    """Pads ``input_ids`` / ``attention_mask`` / ``labels`` (see the module docstring); other fields are
    dropped (the transform emits only these)."""

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, rows: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch: dict[str, torch.Tensor] = {}
        for key, pad in PADDED.items():
            if key not in rows[0]:
                continue
            seqs = [list(row[key]) for row in rows]
            width = max(len(s) for s in seqs)
            if self.pad_to_multiple_of:
                width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
            fill = self.pad_token_id if pad is None else pad
            batch[key] = torch.tensor([s + [fill] * (width - len(s)) for s in seqs], dtype=torch.long)
        return batch
