"""CE-U: cross-entropy unlearning, the model's own next-token distribution with the true token removed.

At each forget completion position the target is q = softmax(z with the true token's logit set to −∞),
built from the model's own logits z and held fixed (no gradient through q); the forget term is the
cross-entropy −Σ_v q_v·log softmax(z)_v averaged over the positions. The true token's probability is
driven to zero while every other token keeps the model's relative preference, and the gradient stays
bounded (unlike gradient ascent). The first ``ceu_ignore_first_n`` completion tokens of each sample are
left out (the paper's training-settings footnote). With α > 0 the retain term of ``forget_retain.py`` is
added. Bo Yang, "CE-U: Cross Entropy Unlearning", 2025 (arXiv 2503.01224).

Defaults are open-unlearning's ``CEU`` config (``configs/trainer/CEU.yaml``): the first completion token
ignored, no retain term (its trainer reads the forget set only).
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
class CEUConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` (retain weight 0) plus how many leading completion tokens CE-U skips."""

    retain_weight: float = field(
        default=0.0, metadata={"help": "α: weight of the retain term (open-unlearning's CEU: none)."}
    )
    ceu_ignore_first_n: int = field(
        default=1, metadata={"help": "Leading completion tokens of each sample left out of the CE-U term."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ceu_ignore_first_n < 0:
            raise MubenchError(f"ceu_ignore_first_n must be >= 0, got {self.ceu_ignore_first_n}")


def ceu_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over positions (``logits`` [N, V], ``targets`` [N]) of the cross-entropy from the logits'
    own softmax with the target token at −∞ (held fixed) to the logits; 0 for no position."""
    if targets.numel() == 0:
        return logits.sum() * 0.0  # keeps the graph: a batch of one-token answers trains nothing
    logits = logits.float()
    removed = logits.detach().scatter(-1, targets[:, None], float("-inf"))
    q = F.softmax(removed, dim=-1)
    return -(q * F.log_softmax(logits, dim=-1)).sum(-1).mean()


class CEUTrainer(ForgetRetainTrainer):
    """Loss = γ·CE-U(Df) + α·retain term."""

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        targets = self.objective.targets(batch)
        scored = targets != -100
        keep = scored & (scored.cumsum(-1) > self.args.ceu_ignore_first_n)
        return ceu_loss(outputs[keep], targets[keep])


register_method(
    "ceu",
    trainer=CEUTrainer,
    config=CEUConfig,
    data_use=DataUse.PAIRED,
    kinds=("generation",),
    citation='Yang, "CE-U: Cross Entropy Unlearning", 2025 (arXiv 2503.01224)',
    quick_settings=dict(learning_rate=1e-3, max_steps=15),
)
