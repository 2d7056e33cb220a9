"""PDU: primal-dual unlearning, a flattened forget distribution under a retain-loss constraint.

Forget term: on every forget completion position, (max_v z_v − mean_v z_v)², the squared gap between the
largest logit and the mean logit, averaged over the positions; driving it to zero flattens the model's
next-token distribution there (maximum entropy rather than unbounded ascent). Retain: the constraint
retain_term(Dr) ≤ ε, handled by a Lagrange multiplier α (the retain weight) that grows by
η·(retain_term − ε) after each step (``--pdu_dual_update_upon step``) or after each epoch from a pass over
the retain data (``epoch``), and never falls below 0; the loss is γ·forget + α·(retain_term − ε). Updates
begin once ``--pdu_dual_warmup_epochs`` epochs have ended (0: at once). ``--pdu_primal_dual false``
keeps α fixed. Entesari, Hatami, Khaziev, Ramakrishna & Fazlyab, "Constrained Entropic Unlearning: A
Primal-Dual Framework for Large Language Models", 2025 (arXiv 2506.05314).

Defaults are open-unlearning's ``PDU`` config (``configs/trainer/PDU.yaml``): primal-dual on, step size
1, updates per step after 5 warm-up epochs, γ = α = 1 to start, an NLL retain term. open-unlearning leaves
ε unset (a run must give it); here it defaults to 0, under which α only grows: give ``--pdu_retain_loss_eps``
for the constrained method (its authors advise a value somewhat above the original model's retain loss). The multiplier is trainer state: a run
resumed from a checkpoint starts again from ``--retain_weight``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from transformers import TrainerCallback

from ..errors import MubenchError
from .data import DataUse
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .registry import register_method

DUAL_UPDATES = ("step", "epoch")


@dataclass
class PDUConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` (α the multiplier's start) plus the constraint and the dual updates."""

    pdu_retain_loss_eps: float = field(
        default=0.0, metadata={"help": "ε: the retain term's allowed level (the constraint retain ≤ ε)."}
    )
    pdu_primal_dual: bool = field(
        default=True, metadata={"help": "Update the retain weight α as a Lagrange multiplier (False: fixed)."}
    )
    pdu_dual_step_size: float = field(default=1.0, metadata={"help": "η > 0: step size of α's update."})
    pdu_dual_update_upon: str = field(
        default="step",
        metadata={
            "help": "When α is updated: after each 'step' or each 'epoch'.",
            "choices": list(DUAL_UPDATES),
        },
    )
    pdu_dual_warmup_epochs: int = field(
        default=5, metadata={"help": "Epochs that end before α is first updated (0: from the first step)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pdu_dual_update_upon not in DUAL_UPDATES:
            raise MubenchError(
                f"pdu_dual_update_upon must be one of {list(DUAL_UPDATES)}, got {self.pdu_dual_update_upon!r}"
            )
        if self.pdu_dual_step_size <= 0 or self.pdu_dual_warmup_epochs < 0:
            raise MubenchError(
                "pdu_dual_step_size must be > 0 and pdu_dual_warmup_epochs >= 0, got "
                f"{self.pdu_dual_step_size}, {self.pdu_dual_warmup_epochs}"
            )


def logit_gap_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the masked positions of (max logit − mean logit)² (``logits`` [B, T, V], ``mask`` [B, T])."""
    logits = logits.float()
    gap = (logits.amax(-1) - logits.mean(-1)) ** 2
    return (gap * mask).sum() / mask.sum().clamp_min(1)


class _DualUpdates(TrainerCallback):
    """Ends the warm-up at an epoch's end, and makes the per-epoch update of α."""

    def __init__(self, trainer: PDUTrainer) -> None:
        self.trainer = trainer

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.epoch >= args.pdu_dual_warmup_epochs:
            self.trainer.dual_updates_on = True
            if args.pdu_dual_update_upon == "epoch":
                self.trainer.epoch_dual_update()


class PDUTrainer(ForgetRetainTrainer):
    """Loss = γ·gap(Df) + α·(retain term − ε), α updated by dual ascent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retain_preference = float(self.args.retain_weight)  # α, the multiplier
        self.dual_updates_on = self.args.pdu_dual_warmup_epochs == 0
        if self.args.pdu_primal_dual:
            self.add_callback(_DualUpdates(self))

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        # the positions of the completion tokens themselves (open-unlearning masks by the unshifted labels)
        return logit_gap_loss(outputs, batch["labels"] != -100)

    def dual_update(self, violation: float) -> None:
        """α ← max(0, α + η·(retain term − ε))."""
        self.retain_preference = max(0.0, self.retain_preference + self.args.pdu_dual_step_size * violation)

    @torch.no_grad()
    def epoch_dual_update(self) -> None:
        """α updated from the mean retain term over one pass of the training data."""
        was_training = self.model.training
        self.model.eval()
        terms = []
        for batch in self.get_train_dataloader():
            retain = self._prepare_inputs(batch)["retain"]
            terms.append(float(self.retain_term(self.objective.outputs(self.model, retain), retain)))
        self.model.train(was_training)
        self.dual_update(sum(terms) / max(len(terms), 1) - self.args.pdu_retain_loss_eps)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget, retain = inputs["forget"], inputs["retain"]
        forget_outputs, retain_outputs = self.objective.pair_outputs(model, inputs)
        forget_term = self.forget_loss(model, forget_outputs, forget)
        violation = self.retain_term(retain_outputs, retain) - self.args.pdu_retain_loss_eps
        loss = self.args.forget_weight * forget_term + self.retain_preference * violation
        self.log_term("forget_loss", forget_term)
        self.log_term("retain_loss", violation + self.args.pdu_retain_loss_eps)
        self.log_term("retain_preference", self.retain_preference)
        # the multiplier moves after the loss that used it (as open-unlearning's step updates)
        if self.args.pdu_primal_dual and self.dual_updates_on and self.args.pdu_dual_update_upon == "step":
            self.dual_update(float(violation.detach()))
        outputs = {"forget_logits": forget_outputs, "retain_logits": retain_outputs}
        return (loss, outputs) if return_outputs else loss


register_method(
    "pdu",
    trainer=PDUTrainer,
    config=PDUConfig,
    data_use=DataUse.PAIRED,
    kinds=("generation",),
    citation='Entesari et al., "Constrained Entropic Unlearning: A Primal-Dual Framework for Large Language '
    'Models", 2025 (arXiv 2506.05314)',
    quick_settings=dict(learning_rate=1e-3, max_steps=15, pdu_dual_warmup_epochs=0),
)
