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
from .registry import Needs, register_method


@dataclass
class DeleteConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the distillation temperature."""

    kd_temperature: float = field(
        default=1.0, metadata={"help": "Softmax temperature T of teacher and student."}
    )


def masked_teacher_probs(
    teacher_logits: torch.Tensor, target: torch.Tensor, temperature: float
) -> torch.Tensor:
    """softmax(teacher / T) over the outputs other than each position's target (0 at the target);
    ``target`` is the boolean one-hot of the objective's ``target_one_hot``."""
    return F.softmax((teacher_logits / temperature).masked_fill(target, float("-inf")), dim=-1)


class DeleteTrainer(UnlearnTrainer):
    """Loss = KL(softmax(z_o/T) with the true class masked ‖ softmax(z_θ/T)) on Df."""

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        objective, temperature = self.objective, self.args.kd_temperature
        logits = objective.outputs(model, inputs)
        with torch.no_grad():
            teacher = objective.outputs(self.original_model, inputs)
            target = masked_teacher_probs(teacher, objective.target_one_hot(teacher, inputs), temperature)
        loss = objective.kl_to_distribution(logits, target, inputs, temperature)
        return (loss, {"logits": logits}) if return_outputs else loss


register_method(
    "delete",
    trainer=DeleteTrainer,
    config=DeleteConfig,
    data_use=DataUse.FORGET,
    needs=(Needs.ORIGINAL,),
    citation='Zhou et al., "Decoupled Distillation to Erase", CVPR 2025',
    quick_settings=dict(learning_rate=1e-3, num_train_epochs=4),
)
