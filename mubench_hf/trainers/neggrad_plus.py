"""NegGrad+ as Kurmanji et al. define it: a convex combination of descent on Dr and ascent on Df.

Loss = α·(CE(θ; Dr) + (λ/2)·‖θ − θo‖²) − (1 − α)·CE(θ; Df) on paired batches, one epoch being one
pass over Dr with forget batches cycled beside it. Kurmanji, Triantafillou, Hayes & Triantafillou,
"Towards Unbounded Machine Unlearning", NeurIPS 2023; defaults from DeepUnlearn's
``munl/unlearning/neggradplus.py`` (α = 0.95, λ = 0: no proximal term unless asked for).

It is not ``grad_diff`` under another name: ``grad_diff`` minimises −γ·CE(Df) + α·CE(Dr) with free
weights (γ = α = 1 by default, the GradDiff of Liu, Liu & Stone) and no proximal term; NegGrad+ ties
the weights to α and 1 − α (α = 0.95: the retain term weighs 19 times the forget term) and may add
(λ/2)·‖θ − θo‖² to the retain side. ``grad_diff`` with forget_weight = 1 − α, retain_weight = α and
λ = 0 gives the same loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import PAIR_ANCHORS, UnlearnConfig
from .data import DataUse
from .proximal import proximal_penalty, trainable_snapshot
from .registry import register_method


@dataclass
class NegGradPlusConfig(UnlearnConfig):
    """``UnlearnConfig`` plus NegGrad+'s mixing weight α and proximal weight λ."""

    neggrad_alpha: float = field(
        default=0.95,
        metadata={"help": "α in [0, 1]: weight of the retain term; the forget ascent gets 1 − α."},
    )
    proximal_weight: float = field(
        default=0.0,
        metadata={"help": "λ >= 0: adds (λ/2)·‖θ − θo‖² to the retain term (DeepUnlearn's weight_decay)."},
    )
    pair_anchor: str = field(
        default="retain",
        metadata={
            "help": "Which set fixes an epoch's length; NegGrad+ makes one pass over Dr per epoch, cycling Df.",
            "choices": list(PAIR_ANCHORS),
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.neggrad_alpha <= 1.0:
            raise MubenchError(f"neggrad_alpha must be in [0, 1], got {self.neggrad_alpha}")
        if self.proximal_weight < 0:
            raise MubenchError(f"proximal_weight must be >= 0, got {self.proximal_weight}")


class NegGradPlusTrainer(UnlearnTrainer):
    """Loss = α·(CE(Dr) + (λ/2)·‖θ − θo‖²) − (1 − α)·CE(Df)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # θo as the proximal anchor: only the trainable weights, and only when the term is on.
        unwrapped = self.accelerator.unwrap_model(self.model)
        self.anchor = trainable_snapshot(unwrapped) if self.args.proximal_weight else {}

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        alpha = self.args.neggrad_alpha
        forget_logits, retain_logits = self.objective.pair_outputs(model, inputs)
        retain_term = self.objective.loss(retain_logits, inputs["retain"])
        if self.anchor:
            unwrapped = self.accelerator.unwrap_model(model)
            retain_term = retain_term + proximal_penalty(unwrapped, self.anchor, self.args.proximal_weight)
        forget_term = self.objective.loss(forget_logits, inputs["forget"])
        loss = alpha * retain_term - (1.0 - alpha) * forget_term
        self.log_term("retain_loss", retain_term)
        self.log_term("forget_loss", forget_term)
        outputs = {"forget_logits": forget_logits, "retain_logits": retain_logits}
        return (loss, outputs) if return_outputs else loss


register_method(
    "neggrad_plus",
    trainer=NegGradPlusTrainer,
    config=NegGradPlusConfig,
    data_use=DataUse.PAIRED,
    citation='Kurmanji, Triantafillou, Hayes & Triantafillou, "Towards Unbounded Machine Unlearning", '
    "NeurIPS 2023 (NegGrad+, as in DeepUnlearn)",
    quick_settings=dict(learning_rate=1e-2, num_train_epochs=2, neggrad_alpha=0.9),
)
