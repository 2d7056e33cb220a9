"""SCRUB: a student that moves away from the original model on Df and stays close to it on Dr.

Two kinds of optimizer steps, with θo as a frozen teacher and T the distillation temperature:

* max-step, on a forget batch: maximise KL(θo ‖ θ), i.e. loss = −T²·KL;
* min-step, on a retain batch: loss = α·T²·KL(θo ‖ θ) + γ·CE.

A cycle is ``forget_steps_per_cycle`` max-steps followed by ``retain_steps_per_cycle`` min-steps; the
first ``max_phase_cycles`` cycles alternate, every later step is a min-step. The phase is a function
of the optimizer step only, so gradient accumulation, several processes and resuming from a
checkpoint all see the same schedule. Kurmanji, Triantafillou, Hayes & Triantafillou, "Towards
Unbounded Machine Unlearning", NeurIPS 2023 (defaults from their code: T=4, α=0.001, γ=0.99; one
pass over Df and one over Dr per cycle; the T² factor is their distillation convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from ..search_space import DEFAULT_SPACE, Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import Needs, register_method

MAX_STEP, MIN_STEP = "max", "min"


@dataclass
class ScrubConfig(UnlearnConfig):
    """``UnlearnConfig`` plus SCRUB's loss weights and step schedule."""

    kd_temperature: float = field(default=4.0, metadata={"help": "Distillation temperature T."})
    retain_kl_weight: float = field(default=0.001, metadata={"help": "α: weight of KL(θo ‖ θ) in min-steps."})
    retain_ce_weight: float = field(default=0.99, metadata={"help": "γ: weight of CE on Dr in min-steps."})
    forget_steps_per_cycle: int = field(
        default=0, metadata={"help": "Max-steps per cycle; 0 = one pass over the forget set."}
    )
    retain_steps_per_cycle: int = field(
        default=0, metadata={"help": "Min-steps per cycle; 0 = one pass over the retain set."}
    )
    max_phase_cycles: int = field(
        default=2, metadata={"help": "Cycles that contain max-steps; every step after them is a min-step."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.forget_steps_per_cycle, self.retain_steps_per_cycle, self.max_phase_cycles) < 0:
            raise MubenchError(
                "forget_steps_per_cycle, retain_steps_per_cycle and max_phase_cycles must be >= 0"
            )


class ScrubTrainer(UnlearnTrainer):
    """Alternating max-steps on Df and min-steps on Dr, then min-steps only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Batches per optimizer step over all processes: a "pass" over a set is measured in these.
        step_rows = self.args.per_device_train_batch_size * self.args.gradient_accumulation_steps
        step_rows *= self.args.world_size
        self.forget_steps = self.args.forget_steps_per_cycle or math.ceil(
            len(self.forget_dataset) / step_rows
        )
        self.retain_steps = self.args.retain_steps_per_cycle or math.ceil(
            len(self.retain_dataset) / step_rows
        )

    def phase(self, step: int) -> str:
        """``"max"`` or ``"min"``: the kind of optimizer step number ``step`` (counting from 0)."""
        cycle = self.forget_steps + self.retain_steps
        if step < self.args.max_phase_cycles * cycle and step % cycle < self.forget_steps:
            return MAX_STEP
        return MIN_STEP

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        temperature, objective = self.args.kd_temperature, self.objective
        if self.phase(self.state.global_step) == MAX_STEP:
            batch = inputs["forget"]
            logits = objective.outputs(model, batch)
            with torch.no_grad():
                teacher_logits = objective.outputs(self.original_model, batch)
            loss = -(temperature**2) * objective.kl_to_teacher(logits, teacher_logits, batch, temperature)
            self.log_term("forget_loss", loss)
        else:
            batch = inputs["retain"]
            logits = objective.outputs(model, batch)
            with torch.no_grad():
                teacher_logits = objective.outputs(self.original_model, batch)
            kl = (temperature**2) * objective.kl_to_teacher(logits, teacher_logits, batch, temperature)
            ce = objective.loss(logits, batch)
            loss = self.args.retain_kl_weight * kl + self.args.retain_ce_weight * ce
            self.log_term("retain_loss", loss)
        return (loss, {"logits": logits}) if return_outputs else loss


register_method(
    "scrub",
    trainer=ScrubTrainer,
    config=ScrubConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("classification", "generation"),
    citation='Kurmanji, Triantafillou, Hayes & Triantafillou, "Towards Unbounded Machine Unlearning", NeurIPS 2023',
    quick_settings=dict(learning_rate=5e-3, forget_steps_per_cycle=6, max_steps=50),
    # α (KL on Dr, 0.001 in the authors' code) spans decades; γ (CE on Dr, 0.99) stays of order one
    search_space={
        **DEFAULT_SPACE,
        "retain_kl_weight": Range(1e-4, 1e-1, log=True),
        "retain_ce_weight": Range(0.1, 1.0),
    },
)
