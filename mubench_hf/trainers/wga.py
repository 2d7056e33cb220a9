"""WGA: weighted gradient ascent, each forget token's ascent step weighted by its own probability.

With p_t = πθ(y_t | x, y_<t) the probability of a forget completion token, the forget term is the mean
over every completion token of the batch of sg(p_t)^β · log p_t (sg: no gradient through the weight).
Gradient ascent treats every token alike; here tokens the model no longer predicts (p_t small) stop
pulling, so the ascent does not run away on tokens already forgotten. With α > 0 the retain term of
``forget_retain.py`` is added. Wang, Zhou, Zhou, Shin, Han & Weinberger, "Rethinking LLM Unlearning
Objectives: A Gradient Perspective and Go Beyond", 2025 (arXiv 2502.19301).

Defaults are open-unlearning's ``WGA`` config (``configs/trainer/WGA.yaml``): β = 1, forget weight 1 (its
``gamma``), retain weight 1 (its ``alpha``) with an NLL retain loss; learning rate 1e-5 and 5 epochs are
the run's training arguments there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from .data import DataUse
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .registry import register_method


@dataclass
class WGAConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` plus WGA's weight exponent β."""

    wga_beta: float = field(
        default=1.0,
        metadata={"help": "β ≥ 0: each forget token's ascent is weighted by p^β (0: plain ascent)."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.wga_beta < 0:
            raise MubenchError(f"wga_beta must be >= 0, got {self.wga_beta}")


def weighted_token_mean(log_probs: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean of weight·log p over the scored tokens of the whole batch (0 when none is scored)."""
    return (weight * log_probs)[mask].sum() / mask.sum().clamp_min(1)


def wga_loss(log_probs: torch.Tensor, mask: torch.Tensor, beta: float) -> torch.Tensor:
    """mean over scored tokens of sg(p)^β · log p (minimised: the likely tokens are pushed down)."""
    return weighted_token_mean(log_probs, mask, log_probs.detach().exp() ** beta)


class WGATrainer(ForgetRetainTrainer):
    """Loss = γ·WGA(Df) + α·retain term."""

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        log_probs, mask = self.objective.token_log_probs(outputs, batch)
        return wga_loss(log_probs, mask, self.args.wga_beta)


register_method(
    "wga",
    trainer=WGATrainer,
    config=WGAConfig,
    data_use=DataUse.PAIRED,
    kinds=("generation",),
    citation='Wang, Zhou, Zhou, Shin, Han & Weinberger, "Rethinking LLM Unlearning Objectives: A Gradient '
    'Perspective and Go Beyond", 2025 (arXiv 2502.19301)',
    quick_settings=dict(learning_rate=1e-3, max_steps=15),
)
