"""Gradient ascent on the forget set.

Minimises −CE(Df): pushes the model away from the labels of the forgotten samples. A baseline of
Golatkar et al., CVPR 2020 and Thudi et al., "Unrolling SGD: Understanding Factors Influencing Machine
Unlearning", EuroS&P 2022; for language models, Jang et al., "Knowledge Unlearning for Mitigating
Privacy Risks in Language Models", ACL 2023. Unbounded below: keep learning rates and step counts
small (a diverging run stops with ``NonFiniteLossError`` and keeps its last finite weights).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import UnlearnTrainer
from .data import DataUse
from .registry import register_method


class GradAscentTrainer(UnlearnTrainer):
    """Loss = −CE(θ; Df): the negated task loss on the forget batch."""

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        logits = self.objective.outputs(model, inputs)
        loss = -self.objective.loss(logits, inputs)
        return (loss, {"logits": logits}) if return_outputs else loss


register_method(
    "grad_ascent",
    trainer=GradAscentTrainer,
    data_use=DataUse.FORGET,
    kinds=("classification", "generation", "image_generation"),
    citation='Thudi et al., "Unrolling SGD", EuroS&P 2022; Jang et al., ACL 2023',
    quick_settings=dict(learning_rate=1e-3, num_train_epochs=2),
)
