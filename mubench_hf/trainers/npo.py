"""NPO: negative preference optimisation on the forget set, with an optional retain term.

With πθ(y|x) the model's likelihood of a forget sample's target and πref that of the frozen original
model, the forget term is −(2/β)·E_Df[log σ(−β·(log πθ(y|x) − log πref(y|x)))]: like gradient ascent
at first, but bounded, and its gradient fades as πθ(y|x) falls below πref(y|x). With α > 0 the retain
term of ``forget_retain.py`` is added (NPO+RT). Zhang, Lin, Bai & Mei, "Negative Preference
Optimization: From Catastrophic Collapse to Effective Unlearning", COLM 2024 (β = 0.1 there).
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
from .registry import Needs, register_method


@dataclass
class NPOConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` plus NPO's inverse temperature."""

    npo_beta: float = field(default=0.1, metadata={"help": "β > 0: inverse temperature of the NPO loss."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.npo_beta <= 0:
            raise MubenchError(f"npo_beta must be > 0, got {self.npo_beta}")


def npo_loss(log_prob: torch.Tensor, ref_log_prob: torch.Tensor, beta: float) -> torch.Tensor:
    """−(2/β)·mean log σ(−β·(log πθ − log πref))."""
    return -(2.0 / beta) * F.logsigmoid(-beta * (log_prob - ref_log_prob)).mean()


class NPOTrainer(ForgetRetainTrainer):
    """Loss = γ·NPO(Df; θ, θo) + α·retain term."""

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        with torch.no_grad():
            ref_outputs = self.objective.outputs(self.original_model, batch)
            ref_log_prob = self.objective.log_likelihood(ref_outputs, batch)
        return npo_loss(self.objective.log_likelihood(outputs, batch), ref_log_prob, self.args.npo_beta)


register_method(
    "npo",
    trainer=NPOTrainer,
    config=NPOConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("classification", "generation", "image_generation"),
    citation='Zhang, Lin, Bai & Mei, "Negative Preference Optimization", COLM 2024',
    quick_settings=dict(learning_rate=1e-3, max_steps=15),
)
