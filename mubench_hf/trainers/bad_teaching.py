"""Bad teaching: a competent and an incompetent teacher, distilled into the student.

On retain samples the student follows the original model θo (the competent teacher); on forget
samples it follows a randomly initialised model of the same architecture (the incompetent teacher).
The loss is KL(teacher ‖ student) on temperature-softened outputs, averaged over all samples of the
paired batch. Chundawat, Tarun, Mandal & Kankanhalli, "Can Bad Teaching Induce Forgetting?
Unlearning in Deep Networks Using an Incompetent Teacher", AAAI 2023 (temperature 1 there).

On a generation task the same loss runs at token level: the KLs are over the next-token distributions
at the completion positions (the objective's masked distributions), and the incompetent teacher of a
language model is a freshly initialised copy of it (same config, seeded weights, frozen), whose
next-token distributions carry none of the training data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import Needs, register_method


@dataclass
class BadTeachingConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the distillation temperature."""

    kd_temperature: float = field(
        default=1.0, metadata={"help": "Softmax temperature T of both teachers and the student."}
    )


class BadTeachingTrainer(UnlearnTrainer):
    """KL(incompetent ‖ student) on Df and KL(θo ‖ student) on Dr, weighted by their batch shares."""

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        objective, forget, retain = self.objective, inputs["forget"], inputs["retain"]
        forget_logits, retain_logits = objective.pair_outputs(model, inputs)
        with torch.no_grad():
            bad = objective.outputs(self.incompetent_teacher, forget)
            good = objective.outputs(self.original_model, retain)
        temperature = self.args.kd_temperature
        n_forget, n_retain = len(forget_logits), len(retain_logits)
        forget_kl = objective.kl_to_teacher(forget_logits, bad, forget, temperature)
        retain_kl = objective.kl_to_teacher(retain_logits, good, retain, temperature)
        # Each KL is a batch mean; weighting by the counts gives the mean over every sample.
        loss = (n_forget * forget_kl + n_retain * retain_kl) / (n_forget + n_retain)
        self.log_term("forget_loss", forget_kl)
        self.log_term("retain_loss", retain_kl)
        outputs = {"forget_logits": forget_logits, "retain_logits": retain_logits}
        return (loss, outputs) if return_outputs else loss


register_method(
    "bad_teaching",
    trainer=BadTeachingTrainer,
    config=BadTeachingConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL, Needs.RANDOM_TEACHER),
    kinds=("classification", "generation"),
    citation='Chundawat, Tarun, Mandal & Kankanhalli, "Can Bad Teaching Induce Forgetting?", AAAI 2023',
    quick_settings=dict(learning_rate=1e-3, max_steps=10),
)
