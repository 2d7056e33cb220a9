"""SimNPO: NPO without a reference model, normalised by the target's length.

Forget term −(2/β)·E_Df[log σ(−(β/|y|)·ℓ − γ)] with ℓ = log πθ(y|x) the sample's log-likelihood, |y| its
target length (1 for a class label) and γ ≥ 0 a reward margin; the retain term and the weights of the
two terms come from ``forget_retain.py``. Fan, Liu, Lin, Jia, Zhang, Mei & Liu, "Simplicity Prevails:
Rethinking Negative Preference Optimization for LLM Unlearning", 2024. Defaults follow open-unlearning's
SimNPO: β = 4.5, margin 0 (its ``delta``), forget weight 0.125 (its ``gamma``, which there weighs the
forget term, not the margin) and retain weight 1 (its ``alpha``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MubenchError
from .data import DataUse
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .registry import register_method


@dataclass
class SimNPOConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` plus SimNPO's inverse temperature β and reward margin γ."""

    forget_weight: float = field(default=0.125, metadata={"help": "Weight of the SimNPO forget term."})
    simnpo_beta: float = field(default=4.5, metadata={"help": "β > 0: inverse temperature."})
    simnpo_gamma: float = field(default=0.0, metadata={"help": "γ ≥ 0: reward margin inside the sigmoid."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.simnpo_beta <= 0 or self.simnpo_gamma < 0:
            raise MubenchError(f"simnpo_beta must be > 0 and simnpo_gamma >= 0, got {self.simnpo_beta}, "
                               f"{self.simnpo_gamma}")  # fmt: skip


def simnpo_loss(
    log_likelihood: torch.Tensor, length: torch.Tensor, beta: float, gamma: float
) -> torch.Tensor:
    """−(2/β)·mean log σ(−(β/|y|)·ℓ − γ)."""
    return -(2.0 / beta) * F.logsigmoid(-(beta / length) * log_likelihood - gamma).mean()


class SimNPOTrainer(ForgetRetainTrainer):
    """Loss = γ_f·SimNPO(Df; θ) + α·retain term."""

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        ll = self.objective.log_likelihood(outputs, batch)
        return simnpo_loss(
            ll, self.objective.target_length(batch), self.args.simnpo_beta, self.args.simnpo_gamma
        )


register_method(
    "simnpo",
    trainer=SimNPOTrainer,
    config=SimNPOConfig,
    data_use=DataUse.PAIRED,
    kinds=("classification", "generation"),
    citation='Fan et al., "Simplicity Prevails: Rethinking Negative Preference Optimization", 2024',
    # the forget term at full weight: at 0.125 it barely moves a tiny model in 15 steps
    quick_settings=dict(learning_rate=2e-3, max_steps=15, forget_weight=1.0),
)
