"""UNDIAL: self-distillation toward the original model's logits with the target token's logit lowered.

On each forget completion position, the teacher is θo's next-token distribution after subtracting γ
from the logit of the token the data says comes next: softmax(z_θo − γ·onehot(y_t)). The student
minimises KL(teacher ‖ θ) there, taken on log-probabilities over the completion positions only (the
objective's ``kl_to_teacher``): the memorised token loses mass, every other token keeps θo's relative
preference, so the model forgets the answer without collapsing. With α > 0 the retain term of
``forget_retain.py`` is added. Dong, Lin, Belkin, Huerta & Vulić, "UNDIAL: Self-Distillation with
Adjusted Logits for Robust Unlearning in Large Language Models", NAACL 2025 (arXiv 2402.10052, 2024).

Defaults are open-unlearning's ``UNDIAL`` config: γ = 10 (its ``beta``, the penalty on the memorised
token), forget weight 1 (``gamma``), retain weight 0 (``alpha``) with an NLL retain loss; learning rate
1e-4 and 10 epochs are the run's training arguments there. open-unlearning takes the cross-entropy to the
adjusted distribution averaged over every position; here only completion positions count (prompt and
padding positions carry no target token) and the loss is the KL, which differs from that cross-entropy
by the teacher's entropy, a constant: the gradients are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from .data import DataUse
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .registry import Needs, register_method


@dataclass
class UndialConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` (retain weight 0 by default) plus UNDIAL's logit adjustment γ."""

    retain_weight: float = field(
        default=0.0, metadata={"help": "α: weight of the retain term (open-unlearning's UNDIAL: 0)."}
    )
    undial_gamma: float = field(
        default=10.0,
        metadata={
            "help": "γ ≥ 0: how much the target token's logit in θo's output is lowered to make the "
            "distillation target (open-unlearning's beta = 10)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.undial_gamma < 0:
            raise MubenchError(f"undial_gamma must be >= 0, got {self.undial_gamma}")


def adjusted_logits(teacher: torch.Tensor, target_one_hot: torch.Tensor, gamma: float) -> torch.Tensor:
    """z − γ·onehot(y): the teacher's logits with each scored position's target token lowered by γ."""
    return teacher.float() - gamma * target_one_hot.float()


class UndialTrainer(ForgetRetainTrainer):
    """Loss = γ_f·KL(softmax(z_θo − γ·onehot(y)) ‖ θ) on Df + α·retain term."""

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        objective = self.objective
        with torch.no_grad():
            teacher = objective.outputs(self.original_model, batch)
            target = adjusted_logits(
                teacher, objective.target_one_hot(teacher, batch), self.args.undial_gamma
            )
        return objective.kl_to_teacher(outputs, target, batch)


register_method(
    "undial",
    trainer=UndialTrainer,
    config=UndialConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("generation",),
    citation='Dong, Lin, Belkin, Huerta & Vulić, "UNDIAL: Self-Distillation with Adjusted Logits for '
    'Robust Unlearning in Large Language Models", NAACL 2025',
    quick_settings=dict(learning_rate=1e-3, max_steps=15),
)
