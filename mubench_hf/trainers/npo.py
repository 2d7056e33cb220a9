"""NPO: negative preference optimisation on the forget set, with an optional retain term.

With πθ(y|x) the model's probability of a forget sample's label and πref that of the frozen
original model, the forget loss is −(2/β)·E_Df[log σ(−β·(log πθ(y|x) − log πref(y|x)))]: like
gradient ascent at first, but bounded, and its gradient fades as πθ(y|x) falls below πref(y|x).
With ``retain_weight`` α > 0, α·CE(Dr) is added (NPO+RT). Zhang, Lin, Bai & Mei, "Negative Preference
Optimization: From Catastrophic Collapse to Effective Unlearning", COLM 2024 (β = 0.1 there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .forward import logits_of, pair_logits
from .losses import label_log_prob
from .registry import register_method


@dataclass
class NPOConfig(UnlearnConfig):
    """``UnlearnConfig`` plus NPO's inverse temperature and the retain weight."""

    method: str | None = field(default="npo", metadata={"help": "Unlearning method (npo)."})
    npo_beta: float = field(default=0.1, metadata={"help": "β > 0: inverse temperature of the NPO loss."})
    retain_weight: float = field(
        default=1.0, metadata={"help": "α: weight of CE on Dr (0 = forget term only)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.npo_beta <= 0:
            raise MubenchError(f"npo_beta must be > 0, got {self.npo_beta}")


def npo_loss(log_prob: torch.Tensor, ref_log_prob: torch.Tensor, beta: float) -> torch.Tensor:
    """−(2/β)·mean log σ(−β·(log πθ − log πref))."""
    return -(2.0 / beta) * F.logsigmoid(-beta * (log_prob - ref_log_prob)).mean()


@register_method
class NPOTrainer(UnlearnTrainer):
    """Loss = NPO(Df; θ, θo) + α·CE(Dr)."""

    method = "npo"
    data_use = DataUse.PAIRED
    config_class = NPOConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reference = self.frozen_original()

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget = inputs["forget"]
        if self.args.retain_weight:
            forget_logits, retain_logits = pair_logits(model, inputs)
        else:  # no retain term: skip the retain half's forward pass
            forget_logits, retain_logits = logits_of(model, forget), None
        with torch.no_grad():
            ref_log_prob = label_log_prob(logits_of(self.reference, forget), forget["labels"])
        loss = npo_loss(label_log_prob(forget_logits, forget["labels"]), ref_log_prob, self.args.npo_beta)
        if retain_logits is not None:
            loss = loss + self.args.retain_weight * F.cross_entropy(retain_logits, inputs["retain"]["labels"])
        outputs = {"forget_logits": forget_logits, "retain_logits": retain_logits}
        return (loss, outputs) if return_outputs else loss
