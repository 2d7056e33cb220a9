"""Running a classification model on a batch: logits for one batch, or for a paired batch in one pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn


def model_inputs(batch: Mapping[str, Any]) -> dict[str, Any]:
    """The batch without its labels: methods compute their own losses, so the model need not."""
    return {k: v for k, v in batch.items() if k != "labels"}


def logits_of(model: nn.Module, batch: Mapping[str, Any]) -> torch.Tensor:
    """Class logits of ``model`` on ``batch`` (any Hugging Face classifier, a PEFT model, or a module
    returning a dict or tuple whose first entry is the logits)."""
    outputs = model(**model_inputs(batch))
    if hasattr(outputs, "logits"):
        return outputs.logits
    if isinstance(outputs, Mapping):
        return outputs["logits"]
    return outputs[0]


def concat_batches(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """Two batches with the same keys as one (tensors are concatenated along the batch dimension)."""
    joined = {}
    for key, value in first.items():
        other = second[key]
        joined[key] = torch.cat([value, other]) if isinstance(value, torch.Tensor) else [*value, *other]
    return joined


def pair_logits(
    model: nn.Module, batch: Mapping[str, Mapping[str, Any]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits on the forget and the retain half of a paired batch, from a single forward pass.

    One pass instead of two is faster and, under DistributedDataParallel, keeps one forward per
    backward. (Batch-norm layers then see both halves together, as they would in a shuffled union.)
    """
    forget, retain = batch["forget"], batch["retain"]
    n_forget = len(forget["labels"]) if "labels" in forget else next(iter(forget.values())).shape[0]
    logits = logits_of(model, concat_batches(model_inputs(forget), model_inputs(retain)))
    return logits[:n_forget], logits[n_forget:]
