"""IdkDPO: direct preference optimisation with a refusal preferred over the forget set's own answer.

For a forget question x with its answer y_l (rejected) and a refusal y_w (chosen, ``refusals.py``), and
the frozen original model θo as reference, the forget term is DPO's

    −(2/β)·E_Df[ log σ( β·[(log πθ(y_w|x) − log πθo(y_w|x)) − (log πθ(y_l|x) − log πθo(y_l|x))] ) ],

with log π the sum of the completion's token log-probabilities (the objective's ``log_likelihood``).
TRL's ``DPOTrainer`` computes the same sigmoid loss without the 2/β factor inside its training step (no
standalone loss function to reuse in TRL 1.x), so it is written out here; the 2/β scale is
open-unlearning's, which keeps the loss's size comparable across β (like NPO's). The retain term of
``forget_retain.py`` is added: loss = γ·DPO + α·NLL(Dr). θo is a frozen copy placed through the
accelerator (``self.original_model``), the explicit reference model.

Rafailov et al., "Direct Preference Optimization", NeurIPS 2023; with refusals as the preferred answers,
Maini et al., "TOFU", 2024 and Zhang et al., "Negative Preference Optimization", COLM 2024 (IdkDPO).
Defaults are open-unlearning's ``DPO`` trainer config: β = 0.1, γ = 1, α = 1, NLL retain loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MubenchError
from .data import DataUse
from .forget_retain import ForgetRetainTrainer
from .idk import IdkConfig
from .refusals import RefusalMixin
from .registry import Needs, register_method


@dataclass
class IdkDPOConfig(IdkConfig):
    """``IdkConfig`` plus DPO's inverse temperature."""

    dpo_beta: float = field(
        default=0.1, metadata={"help": "β > 0: DPO's inverse temperature (open-unlearning's 0.1)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dpo_beta <= 0:
            raise MubenchError(f"dpo_beta must be > 0, got {self.dpo_beta}")


def dpo_loss(
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """−(2/β)·mean log σ(β·((chosen − ref_chosen) − (rejected − ref_rejected))) on log-likelihoods."""
    margin = (chosen - ref_chosen) - (rejected - ref_rejected)
    return -(2.0 / beta) * F.logsigmoid(beta * margin).mean()


class IdkDPOTrainer(RefusalMixin, ForgetRetainTrainer):
    """Loss = γ·DPO(refusal ≻ answer; θ, θo) + α·retain term."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_refusals()

    def dpo_term(
        self,
        chosen_logits: torch.Tensor,
        rejected_logits: torch.Tensor,
        chosen: dict[str, Any],
        rejected: dict[str, Any],
    ) -> torch.Tensor:
        """The DPO forget term from the student's logits on the refusal and on the original answer."""
        objective = self.objective
        with torch.no_grad():
            ref_chosen, ref_rejected = objective.outputs_for(self.original_model, [chosen, rejected])
            ref_chosen_ll = objective.log_likelihood(ref_chosen, chosen)
            ref_rejected_ll = objective.log_likelihood(ref_rejected, rejected)
        return dpo_loss(
            objective.log_likelihood(chosen_logits, chosen),
            objective.log_likelihood(rejected_logits, rejected),
            ref_chosen_ll,
            ref_rejected_ll,
            self.args.dpo_beta,
        )

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        """The DPO term given the student's outputs on the forget batch (the rejected answers)."""
        chosen = self.refusal_batch(batch)
        return self.dpo_term(self.objective.outputs(model, chosen), outputs, chosen, batch)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget, retain = inputs["forget"], inputs["retain"]
        chosen = self.refusal_batch(forget)
        batches = [chosen, forget] + ([retain] if self.args.retain_weight else [])
        # One forward over the refusals, the original answers and the retain rows (one per backward).
        logits = self.objective.outputs_for(model, batches)
        forget_term = self.dpo_term(logits[0], logits[1], chosen, forget)
        loss = self.args.forget_weight * forget_term
        self.log_term("forget_loss", forget_term)
        if self.args.retain_weight:
            retain_term = self.retain_term(logits[2], retain)
            loss = loss + self.args.retain_weight * retain_term
            self.log_term("retain_loss", retain_term)
        outputs = {"chosen_logits": logits[0], "rejected_logits": logits[1]}
        return (loss, outputs) if return_outputs else loss


register_method(
    "idk_dpo",
    trainer=IdkDPOTrainer,
    config=IdkDPOConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("generation",),
    citation='Rafailov et al., "Direct Preference Optimization", NeurIPS 2023; Maini et al., "TOFU", 2024 (IdkDPO)',
    quick_settings=dict(learning_rate=1e-3, max_steps=15, dpo_beta=0.5),
)
