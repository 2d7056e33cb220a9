"""Bad teaching: a competent and an incompetent teacher, distilled into the student.

On retain samples the student follows the original model θo (the competent teacher); on forget
samples it follows a randomly initialised model of the same architecture (the incompetent teacher).
The loss is KL(teacher ‖ student) on temperature-softened outputs, averaged over all samples of the
paired batch. Chundawat, Tarun, Mandal & Kankanhalli, "Can Bad Teaching Induce Forgetting?
Unlearning in Deep Networks Using an Incompetent Teacher", AAAI 2023 (temperature 1 there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .forward import logits_of, pair_logits
from .losses import kl_to_teacher
from .registry import register_method


@dataclass
class BadTeachingConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the distillation temperature."""

    method: str | None = field(default="bad_teaching", metadata={"help": "Unlearning method (bad_teaching)."})
    kd_temperature: float = field(
        default=1.0, metadata={"help": "Softmax temperature T of both teachers and the student."}
    )


@register_method
class BadTeachingTrainer(UnlearnTrainer):
    """KL(incompetent ‖ student) on Df and KL(θo ‖ student) on Dr, weighted by their batch shares."""

    method = "bad_teaching"
    data_use = DataUse.PAIRED
    config_class = BadTeachingConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.competent_teacher = self.frozen_original()
        self.incompetent_teacher = self.random_teacher()

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget_logits, retain_logits = pair_logits(model, inputs)
        with torch.no_grad():
            bad = logits_of(self.incompetent_teacher, inputs["forget"])
            good = logits_of(self.competent_teacher, inputs["retain"])
        temperature = self.args.kd_temperature
        n_forget, n_retain = len(forget_logits), len(retain_logits)
        # Each KL is a batch mean; weighting by the counts gives the mean over every sample.
        loss = (
            n_forget * kl_to_teacher(forget_logits, bad, temperature)
            + n_retain * kl_to_teacher(retain_logits, good, temperature)
        ) / (n_forget + n_retain)
        outputs = {"forget_logits": forget_logits, "retain_logits": retain_logits}
        return (loss, outputs) if return_outputs else loss
