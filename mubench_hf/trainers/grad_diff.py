"""Gradient difference (NegGrad+): ascend on the forget set while descending on the retain set.

Loss = −γ·CE(θ; Df) + α·CE(θ; Dr) on paired forget/retain batches. Kurmanji et al., "Towards
Unbounded Machine Unlearning", NeurIPS 2023 (NegGrad+); Liu, Liu & Stone, "Continual Learning and
Private Unlearning", CoLLAs 2022 (GradDiff).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .forward import pair_logits
from .registry import register_method


@dataclass
class GradDiffConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the weights of the two terms."""

    method: str | None = field(default="grad_diff", metadata={"help": "Unlearning method (grad_diff)."})
    forget_weight: float = field(default=1.0, metadata={"help": "γ: weight of the ascent term −CE(Df)."})
    retain_weight: float = field(default=1.0, metadata={"help": "α: weight of the descent term CE(Dr)."})


@register_method
class GradDiffTrainer(UnlearnTrainer):
    """Loss = −γ·CE(Df) + α·CE(Dr)."""

    method = "grad_diff"
    data_use = DataUse.PAIRED
    config_class = GradDiffConfig

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget_logits, retain_logits = pair_logits(model, inputs)
        forget_ce = F.cross_entropy(forget_logits, inputs["forget"]["labels"])
        retain_ce = F.cross_entropy(retain_logits, inputs["retain"]["labels"])
        loss = -self.args.forget_weight * forget_ce + self.args.retain_weight * retain_ce
        outputs = {"forget_logits": forget_logits, "retain_logits": retain_logits}
        return (loss, outputs) if return_outputs else loss
