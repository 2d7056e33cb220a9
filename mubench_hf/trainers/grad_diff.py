"""Gradient difference (NegGrad+): ascend on the forget set while descending on the retain set.

Loss = −γ·CE(θ; Df) + α·CE(θ; Dr) on paired forget/retain batches (the forget-plus-retain objective of
``forget_retain.py`` with the negated task loss as forget term). Kurmanji et al., "Towards Unbounded
Machine Unlearning", NeurIPS 2023 (NegGrad+); Liu, Liu & Stone, "Continual Learning and Private
Unlearning", CoLLAs 2022 (GradDiff).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .data import DataUse
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .registry import register_method


@dataclass
class GradDiffConfig(ForgetRetainConfig):
    """``ForgetRetainConfig``: γ weighs −CE(Df), α weighs the retain term."""


class GradDiffTrainer(ForgetRetainTrainer):
    """Loss = −γ·CE(Df) + α·CE(Dr)."""

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        return -self.objective.loss(outputs, batch)


register_method(
    "grad_diff",
    trainer=GradDiffTrainer,
    config=GradDiffConfig,
    data_use=DataUse.PAIRED,
    kinds=("classification", "generation", "image_generation"),
    citation="Kurmanji et al., NeurIPS 2023 (NegGrad+); Liu, Liu & Stone, CoLLAs 2022",
    quick_settings=dict(learning_rate=1e-3, max_steps=15),
)
