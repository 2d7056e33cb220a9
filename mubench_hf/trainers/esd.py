"""ESD: erasing a concept by negative guidance (Gandikota, Materzyńska, Fiotto-Kaufman & Bau, "Erasing
Concepts from Diffusion Models", ICCV 2023).

The student's conditional prediction on the concept c is pulled to θo's guidance *away* from c:

    L = ‖ε_θ(x_t, c, t) − [ε_θo(x_t, ∅, t) − η·(ε_θo(x_t, c, t) − ε_θo(x_t, ∅, t))]‖²

with η the negative guidance (1.0 in the paper and in UnlearnCanvas's ESD), ∅ the empty prompt. Only a
part of the UNet trains: ESD-x the cross-attention (styles), ESD-u everything else (objects; the default
here, since a task's concepts are classes of objects); the text encoder stays frozen.

One simplification, said here and in the card's method parameters: the paper draws x_t by sampling from
the model with prompt c for t DDIM steps; here x_t is a forget image noised to step t (the forget set of a
class-wise config holds real images of the concept), which needs no sampling inside the training loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .diffusion_parts import PARAMETER_GROUPS, select_trainable
from .registry import Needs, register_method


@dataclass
class ESDConfig(UnlearnConfig):
    """``UnlearnConfig`` plus ESD's negative guidance and the part of the UNet it trains."""

    esd_negative_guidance: float = field(
        default=1.0, metadata={"help": "η > 0: how far from the concept the target is guided (ESD: 1.0)."}
    )
    esd_parameters: str = field(
        default="noxattn",
        metadata={
            "help": "Weights ESD trains: 'noxattn' (ESD-u, objects), 'xattn' (ESD-x, styles), 'unet', 'full' ...",
            "choices": list(PARAMETER_GROUPS),
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.esd_negative_guidance <= 0:
            raise MubenchError(f"esd_negative_guidance must be > 0, got {self.esd_negative_guidance}")
        if self.esd_parameters not in PARAMETER_GROUPS:
            raise MubenchError(
                f"esd_parameters must be one of {list(PARAMETER_GROUPS)}, got {self.esd_parameters!r}"
            )


def esd_target(cond: torch.Tensor, uncond: torch.Tensor, eta: float) -> torch.Tensor:
    """ε(∅) − η·(ε(c) − ε(∅)): θo's prediction guided away from the concept."""
    return uncond - eta * (cond - uncond)


class ESDTrainer(UnlearnTrainer):
    """Loss = mean ‖ε_θ(x_t, c, t) − esd_target(θo)‖² over the forget batch."""

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        select_trainable(model, args.esd_parameters, self.method)
        return model

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        with torch.no_grad():
            teacher = self.original_model
            cond = self.objective.noise_prediction(teacher, inputs, inputs["input_ids"])
            uncond = self.objective.noise_prediction(
                teacher, inputs, self.objective.unconditional_ids(teacher, inputs)
            )
            target = esd_target(cond, uncond, self.args.esd_negative_guidance)
        outputs = self.objective.outputs(model, inputs)
        loss = (outputs.prediction.float() - target.float()).pow(2).mean()
        return (loss, {"prediction": outputs.prediction}) if return_outputs else loss


register_method(
    "esd",
    trainer=ESDTrainer,
    config=ESDConfig,
    data_use=DataUse.FORGET,
    needs=(Needs.ORIGINAL,),
    kinds=("image_generation",),
    citation='Gandikota et al., "Erasing Concepts from Diffusion Models", ICCV 2023',
    quick_settings=dict(learning_rate=1e-3, num_train_epochs=5),
)
