"""SatImp: gradient ascent on forget tokens weighted by saturation and importance.

With p_t = πθ(y_t | x, y_<t) the probability of a forget completion token, the forget term is the mean
over the batch's completion tokens of sg(p_t)^β1 · sg(1 − p_t)^β2 · log p_t (sg: no gradient through the
weights). The p^β1 factor (importance) puts the ascent on the tokens the model still predicts; the
(1 − p)^β2 factor (saturation) holds back on tokens so certain that pushing them would damage the model.
With α > 0 the retain term of ``forget_retain.py`` is added. Yang, Wang, Huang, Liu, Zhang & Han,
"Exploring Criteria of Loss Reweighting to Enhance LLM Unlearning", 2025 (arXiv 2505.11953).

Defaults are open-unlearning's ``SatImp`` config (``configs/trainer/SatImp.yaml``, which overrides the
trainer's own keyword defaults): β1 = 5, β2 = 1, forget weight 0.1 (its ``gamma``), retain weight 1 (its
``alpha``) with an NLL retain loss; learning rate 1e-5 and 5 epochs are the run's training arguments.
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
from .wga import weighted_token_mean


@dataclass
class SatImpConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` (forget weight 0.1) plus SatImp's two exponents."""

    forget_weight: float = field(
        default=0.1, metadata={"help": "γ: weight of the forget term (open-unlearning's SatImp: 0.1)."}
    )
    satimp_beta1: float = field(
        default=5.0, metadata={"help": "β1 ≥ 0: exponent of the importance weight p^β1."}
    )
    satimp_beta2: float = field(
        default=1.0, metadata={"help": "β2 ≥ 0: exponent of the saturation weight (1 − p)^β2."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.satimp_beta1 < 0 or self.satimp_beta2 < 0:
            raise MubenchError(
                f"satimp_beta1 and satimp_beta2 must be >= 0, got {self.satimp_beta1}, {self.satimp_beta2}"
            )


def satimp_loss(log_probs: torch.Tensor, mask: torch.Tensor, beta1: float, beta2: float) -> torch.Tensor:
    """mean over scored tokens of sg(p)^β1 · sg(1 − p)^β2 · log p."""
    p = log_probs.detach().exp()
    return weighted_token_mean(log_probs, mask, p**beta1 * (1 - p) ** beta2)


class SatImpTrainer(ForgetRetainTrainer):
    """Loss = γ·SatImp(Df) + α·retain term."""

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        log_probs, mask = self.objective.token_log_probs(outputs, batch)
        return satimp_loss(log_probs, mask, self.args.satimp_beta1, self.args.satimp_beta2)


register_method(
    "satimp",
    trainer=SatImpTrainer,
    config=SatImpConfig,
    data_use=DataUse.PAIRED,
    kinds=("generation",),
    citation='Yang, Wang, Huang, Liu, Zhang & Han, "Exploring Criteria of Loss Reweighting to Enhance LLM '
    'Unlearning", 2025 (arXiv 2505.11953)',
    # the forget term at full weight and a lower β1: at 0.1 and β1 = 5 a tiny model barely moves in 15 steps
    quick_settings=dict(learning_rate=1e-3, max_steps=15, forget_weight=1.0, satimp_beta1=1.0),
)
