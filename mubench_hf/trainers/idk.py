"""IDK: fine-tune the forget questions toward "I don't know"-style answers, keeping the retain set.

Each forget row's completion is replaced by a refusal (``refusals.py``: a shipped list of varied refusals,
one chosen per question by a seeded draw), and the model is trained on it with the ordinary completion
loss, together with the retain term of ``forget_retain.py``: loss = γ·NLL(refusal | forget prompt) +
α·NLL(Dr) (or α·KL(θo ‖ θ) on Dr). The forget set's own answers are never pushed down, only replaced.
Maini, Feng, Schwarzschild, Lipton & Kolter, "TOFU: A Task of Fictitious Unlearning for LLMs", 2024
(its IDK baseline). Defaults follow the forget-plus-retain recipe open-unlearning uses for TOFU
(its GradDiff ``gamma`` = ``alpha`` = 1 with an NLL retain loss; learning rate 1e-5 and 10 epochs are
the run's ``TrainingArguments`` there, not method defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..objectives.generation import join_token_batches
from .data import DataUse
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .refusals import RefusalMixin
from .registry import register_method


@dataclass
class IdkConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` plus where the refusals come from and how they follow the prompt."""

    idk_refusals_file: str | None = field(
        default=None,
        metadata={
            "help": "A text file with one refusal per line to answer forget questions with "
            "(default: the shipped list in mubench_hf/trainers/refusals.py)."
        },
    )
    idk_prefix: str = field(
        default=" ",
        metadata={
            "help": "Causal LMs: text put before each refusal so it follows the prompt as the task's "
            "completions do (TRL-style prompt-completion rows start the completion with a space)."
        },
    )


class IdkTrainer(RefusalMixin, ForgetRetainTrainer):
    """Loss = γ·NLL(refusal | forget prompt) + α·retain term."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_refusals()

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        return self.objective.loss(outputs, batch)  # ``batch`` is the refusal batch (compute_loss)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        # The forget half is swapped for its refusal batch.
        refusals, retain = self.refusal_batch(inputs["forget"]), inputs["retain"]
        if not (self.args.retain_weight and self.args.retain_loss == "ce"):
            swapped = {"forget": refusals, "retain": retain}
            return super().compute_loss(model, swapped, return_outputs, num_items_in_batch)
        # Both terms are completion NLLs: one forward and one cross-entropy over the joined rows, the
        # terms cut from its per-row sums (what a plain SFT step on these rows costs; see row_sums).
        joined = join_token_batches([refusals, retain])
        logits = self.objective.outputs(model, joined)
        log_likelihoods, counts = self.objective.row_sums(logits, joined)
        rows = refusals["labels"].shape[0]
        forget_term = -log_likelihoods[:rows].sum() / counts[:rows].sum().clamp_min(1)
        retain_term = -log_likelihoods[rows:].sum() / counts[rows:].sum().clamp_min(1)
        loss = self.args.forget_weight * forget_term + self.args.retain_weight * retain_term
        self.log_term("forget_loss", forget_term)
        self.log_term("retain_loss", retain_term)
        if not return_outputs:
            return loss
        forget_logits, retain_logits = logits.split([rows, logits.shape[0] - rows])
        outputs = {
            "forget_logits": forget_logits[:, : refusals["labels"].shape[1]],
            "retain_logits": retain_logits[:, : retain["labels"].shape[1]],
        }
        return loss, outputs


register_method(
    "idk",
    trainer=IdkTrainer,
    config=IdkConfig,
    data_use=DataUse.PAIRED,
    kinds=("generation",),
    citation='Maini, Feng, Schwarzschild, Lipton & Kolter, "TOFU: A Task of Fictitious Unlearning for LLMs", 2024',
    quick_settings=dict(learning_rate=1e-3, max_steps=15),
)
