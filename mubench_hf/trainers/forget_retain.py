"""The forget-plus-retain objective shared by gradient difference, NPO, SimNPO and their kin.

Loss = γ·forget_term(Df) + α·retain_term(Dr) on paired forget/retain batches, where a method supplies
only its forget term (``forget_loss``) and the retain term is either the task loss on Dr (``ce``) or
KL(θo ‖ θ) on Dr (``kl``, which keeps the model's whole output distribution on Dr at the original's).
With α = 0 the retain half of the batch is not even run through the model. Both terms are logged
separately (``forget_loss``, ``retain_loss``) beside the total ``loss``.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig

RETAIN_LOSSES = ("ce", "kl")


@dataclass
class ForgetRetainConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the weights of the two terms and the kind of retain term."""

    # The retain terms this config accepts; a method with a retain term of its own (whp) extends it.
    retain_losses: ClassVar[tuple[str, ...]] = RETAIN_LOSSES

    forget_weight: float = field(default=1.0, metadata={"help": "γ: weight of the forget term."})
    retain_weight: float = field(
        default=1.0, metadata={"help": "α: weight of the retain term (0 = forget term only)."}
    )
    retain_loss: str = field(
        default="ce",
        metadata={
            "help": "Retain term: 'ce' (the task loss on Dr) or 'kl' (KL(θo ‖ θ) on Dr).",
            "choices": list(RETAIN_LOSSES),
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.retain_loss not in self.retain_losses:
            raise MubenchError(
                f"retain_loss must be one of {list(self.retain_losses)}, got {self.retain_loss!r}"
            )
        if self.forget_weight < 0 or self.retain_weight < 0:
            raise MubenchError("forget_weight and retain_weight must be >= 0")


class ForgetRetainTrainer(UnlearnTrainer):
    """γ·forget_loss + α·retain term; subclasses implement ``forget_loss``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if type(self).forget_loss is ForgetRetainTrainer.forget_loss:
            raise MubenchError(f"{type(self).__name__} must define forget_loss(model, outputs, batch)")
        super().__init__(*args, **kwargs)
        if self.args.retain_loss == "kl" and self.args.retain_weight and self.original_model is None:
            self.original_model = self.frozen_original()  # the KL retain term's teacher

    @abstractmethod
    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        """The method's term on the forget half of the batch (a scalar to be minimised)."""

    def retain_term(self, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        if self.args.retain_loss == "kl":
            with torch.no_grad():
                teacher = self.objective.outputs(self.original_model, batch)
            return self.objective.kl_to_teacher(outputs, teacher, batch)
        return self.objective.loss(outputs, batch)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget, retain = inputs["forget"], inputs["retain"]
        if self.args.retain_weight:
            forget_outputs, retain_outputs = self.objective.pair_outputs(model, inputs)
        else:  # no retain term: skip the retain half's forward pass
            forget_outputs, retain_outputs = self.objective.outputs(model, forget), None
        forget_term = self.forget_loss(model, forget_outputs, forget)
        loss = self.args.forget_weight * forget_term
        self.log_term("forget_loss", forget_term)
        if retain_outputs is not None:
            retain_term = self.retain_term(retain_outputs, retain)
            loss = loss + self.args.retain_weight * retain_term
            self.log_term("retain_loss", retain_term)
        outputs = {"forget_logits": forget_outputs, "retain_logits": retain_outputs}
        return (loss, outputs) if return_outputs else loss
