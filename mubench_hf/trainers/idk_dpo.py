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
from ..objectives.generation import join_token_batches
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


def finish_preference_step(
    trainer: ForgetRetainTrainer,
    loss: torch.Tensor,
    logits: torch.Tensor,
    sums: torch.Tensor,
    counts: torch.Tensor,
    batches: list[dict[str, Any]],
    *,
    retain_from: int,
    return_outputs: bool,
) -> torch.Tensor | tuple[torch.Tensor, Any]:
    """The end of a preference step over one joined forward of ``batches`` = [chosen, rejected (the forget
    answers), retain when weighted]: the retain term added to ``loss`` (``ce``: cut from the joined rows'
    sums from row ``retain_from`` on; otherwise the configured retain loss on the retain rows' logits), and
    the chosen and rejected logits when ``return_outputs``. Shared by idk_dpo and altpo."""
    args = trainer.args
    parts = logits.split([len(b["labels"]) for b in batches])
    if args.retain_weight:
        retain = batches[2]
        if args.retain_loss == "ce":
            retain_term = -sums[retain_from:].sum() / counts[retain_from:].sum().clamp_min(1)
        else:
            retain_term = trainer.retain_term(parts[2][:, : retain["labels"].shape[1]], retain)
        loss = loss + args.retain_weight * retain_term
        trainer.log_term("retain_loss", retain_term)
    if not return_outputs:
        return loss
    chosen, rejected = batches[0], batches[1]
    outputs = {
        "chosen_logits": parts[0][:, : chosen["labels"].shape[1]],
        "rejected_logits": parts[1][:, : rejected["labels"].shape[1]],
    }
    return loss, outputs


class IdkDPOTrainer(RefusalMixin, ForgetRetainTrainer):
    """Loss = γ·DPO(refusal ≻ answer; θ, θo) + α·retain term."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_refusals()

    def reference_log_likelihoods(
        self, chosen: dict[str, Any], rejected: dict[str, Any]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log πθo(y_w|x) and log πθo(y_l|x), ``[B]`` each, from one no-grad forward of θo."""
        with torch.no_grad():
            joined = join_token_batches([chosen, rejected])
            sums, _ = self.objective.row_sums(self.objective.outputs(self.original_model, joined), joined)
        rows = chosen["labels"].shape[0]
        return sums[:rows], sums[rows:]

    def dpo_term(
        self,
        chosen_logits: torch.Tensor,
        rejected_logits: torch.Tensor,
        chosen: dict[str, Any],
        rejected: dict[str, Any],
    ) -> torch.Tensor:
        """The DPO forget term from the student's logits on the refusal and on the original answer."""
        ref_chosen, ref_rejected = self.reference_log_likelihoods(chosen, rejected)
        return dpo_loss(
            self.objective.log_likelihood(chosen_logits, chosen),
            self.objective.log_likelihood(rejected_logits, rejected),
            ref_chosen,
            ref_rejected,
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
        # One forward over the refusals, the original answers and the retain rows (one per backward),
        # and one cross-entropy: every term is cut from its per-row sums (see row_sums).
        joined = join_token_batches(batches)
        logits = self.objective.outputs(model, joined)
        sums, counts = self.objective.row_sums(logits, joined)
        rows = chosen["labels"].shape[0]
        ref_chosen, ref_rejected = self.reference_log_likelihoods(chosen, forget)
        forget_term = dpo_loss(
            sums[:rows], sums[rows : 2 * rows], ref_chosen, ref_rejected, self.args.dpo_beta
        )
        loss = self.args.forget_weight * forget_term
        self.log_term("forget_loss", forget_term)
        return finish_preference_step(
            self, loss, logits, sums, counts, batches, retain_from=2 * rows, return_outputs=return_outputs
        )


register_method(
    "idk_dpo",
    trainer=IdkDPOTrainer,
    config=IdkDPOConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("generation",),
    citation='Rafailov et al., "Direct Preference Optimization", NeurIPS 2023; Maini et al., "TOFU", 2024 (IdkDPO)',
    # Tiny offline LMs: a refusal starts out so unlikely under θo that raising it saturates the sigmoid at
    # β ≥ 0.1 before the answer's probability moves (fictitious_authors_del5: forget ROUGE-L 0.97 → 0.95);
    # a smaller β keeps the gradient alive (β 0.05, lr 2e-3: 0.98 → 0.53, retain 0.97).
    quick_settings=dict(learning_rate=2e-3, max_steps=15, dpo_beta=0.05),
)
