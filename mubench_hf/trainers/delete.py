"""DELETE: decoupled distillation to erase.

On Df, the student is distilled from the original model's outputs with the true class masked out:
the target is softmax(z_o / T) with the logit of the sample's own class set to −∞, i.e. θo's "dark
knowledge" about the other classes, renormalised; the loss is KL(target ‖ softmax(z_θ / T)) over all
classes, so the student's probability of the true class is driven to zero while its ranking of the
other classes is kept. Needs no retain data. Zhou, Ji, Wang, Ma, Xu & Zhang, "Decoupled Distillation
to Erase: A General Unlearning Method for Any Class-centric Tasks", CVPR 2025.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .forward import logits_of
from .losses import kl_to_distribution
from .registry import register_method


@dataclass
class DeleteConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the distillation temperature."""

    method: str | None = field(default="delete", metadata={"help": "Unlearning method (delete)."})
    kd_temperature: float = field(
        default=1.0, metadata={"help": "Softmax temperature T of teacher and student."}
    )


def masked_teacher_probs(
    teacher_logits: torch.Tensor, labels: torch.Tensor, temperature: float
) -> torch.Tensor:
    """softmax(teacher / T) over the classes other than each row's label (0 at the label)."""
    true_class = F.one_hot(labels.long(), teacher_logits.shape[-1]).bool()
    return F.softmax((teacher_logits / temperature).masked_fill(true_class, float("-inf")), dim=-1)


@register_method
class DeleteTrainer(UnlearnTrainer):
    """Loss = KL(softmax(z_o/T) with the true class masked ‖ softmax(z_θ/T)) on Df."""

    method = "delete"
    data_use = DataUse.FORGET
    config_class = DeleteConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.teacher = self.frozen_original()

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        logits = logits_of(model, inputs)
        with torch.no_grad():
            target = masked_teacher_probs(
                logits_of(self.teacher, inputs), inputs["labels"], self.args.kd_temperature
            )
        loss = kl_to_distribution(logits, target, self.args.kd_temperature)
        return (loss, {"logits": logits}) if return_outputs else loss
