"""ESD: erasing a concept by negative guidance (Gandikota, Materzyńska, Fiotto-Kaufman & Bau, "Erasing
Concepts from Diffusion Models", ICCV 2023).

The student's conditional prediction on the concept c is pulled to θo's guidance *away* from c:

    L = ‖ε_θ(x_t, c, t) − [ε_θo(x_t, ∅, t) − η·(ε_θo(x_t, c, t) − ε_θo(x_t, ∅, t))]‖²

with η the negative guidance (1.0 in the paper and in UnlearnCanvas's ESD), ∅ the empty prompt. Only a
part of the UNet trains: ESD-x the cross-attention (styles), ESD-u everything else (objects; the default
here, since a task's concepts are classes of objects); the text encoder stays frozen.

x_t is drawn as ESD's code draws it (rohitgandikota/erasing, ``train-scripts/train-esd.py``: ``start_guidance``
3, ``ddim_steps`` 50, DDIM η = 0): the *student's* own guided DDIM sample of the concept prompt from fresh
noise, stopped after a random number i of the steps, with no gradient; the three predictions are taken at
the timestep that sample has reached (the paper's x_t at t). One i per optimisation step, one sample per
forget row. ``--esd_xt_source forget_images`` instead noises a forget image to a random t (the class-wise
forget set holds real images of the concept): no sampling inside the loop, about ``esd_ddim_steps`` times
cheaper per step, but a simplification of the method.
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
from .diffusion_parts import PARAMETER_GROUPS, select_trainable, unwrap
from .registry import Needs, register_method

XT_SOURCES = ("sampled", "forget_images")


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

    esd_xt_source: str = field(
        default="sampled",
        metadata={
            "help": "Where x_t comes from: 'sampled' (ESD: the student's own DDIM sample of the concept, "
            "stopped after a random number of --esd_ddim_steps steps) or 'forget_images' (a forget image "
            "noised to a random t: no sampling in the loop, a simplification).",
            "choices": list(XT_SOURCES),
        },
    )
    esd_start_guidance: float = field(
        default=3.0,
        metadata={
            "help": "Classifier-free guidance of the sampling that draws x_t (ESD: 3; 'sampled' only)."
        },
    )
    esd_ddim_steps: int = field(
        default=50,
        metadata={"help": "DDIM steps of the schedule x_t is drawn from (ESD: 50; 'sampled' only)."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.esd_negative_guidance <= 0:
            raise MubenchError(f"esd_negative_guidance must be > 0, got {self.esd_negative_guidance}")
        if self.esd_parameters not in PARAMETER_GROUPS:
            raise MubenchError(
                f"esd_parameters must be one of {list(PARAMETER_GROUPS)}, got {self.esd_parameters!r}"
            )
        if self.esd_xt_source not in XT_SOURCES:
            raise MubenchError(f"esd_xt_source must be one of {list(XT_SOURCES)}, got {self.esd_xt_source!r}")
        if self.esd_ddim_steps < 1:
            raise MubenchError(f"esd_ddim_steps must be at least 1, got {self.esd_ddim_steps}")
        if self.esd_start_guidance < 0:
            raise MubenchError(
                f"esd_start_guidance must be >= 0 (1: no guidance), got {self.esd_start_guidance}"
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
        if self.args.esd_xt_source == "sampled":
            return self._sampled_loss(model, inputs, return_outputs)
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

    def sample_xt(self, model: nn.Module, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x_t and t as ESD draws them (module docstring): the student's guided DDIM sample of each row's
        prompt from fresh noise (torch's seeded global generator), stopped after i ~ U{0 .. steps − 1}
        steps; t is the timestep of step i, the one the sample has reached."""
        # here, not at module level: every trainer module is imported with the registry, and the
        # text-to-image kind's package is only needed by a text-to-image run
        from ..kinds.image_generation.sampling import ddim_scheduler, guided_ddim

        student = unwrap(model)
        scheduler = ddim_scheduler(student, self.args.esd_ddim_steps)
        stop = int(torch.randint(len(scheduler.timesteps), ()))
        config = student.unet.config
        shape = (len(input_ids), int(config.in_channels), int(config.sample_size), int(config.sample_size))
        was_training = student.training
        student.eval()
        try:
            with torch.no_grad():
                noise = torch.randn(shape).to(student.device)
                cond, empty = student.encode(input_ids), student.encode(student.prompt_ids([""]))
                sample = guided_ddim(
                    student, noise, cond, empty, scheduler, self.args.esd_start_guidance, steps=stop
                )
        finally:
            student.train(was_training)
        return sample, scheduler.timesteps[stop].expand(len(input_ids)).to(student.device)

    def _sampled_loss(
        self, model: nn.Module, inputs: dict[str, Any], return_outputs: bool
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        ids = inputs["input_ids"]
        sample, timesteps = self.sample_xt(model, ids)
        with torch.no_grad():
            teacher = self.original_model
            cond = self.objective.noise_prediction_at(teacher, sample, timesteps, ids)
            empty = self.objective.unconditional_ids(teacher, inputs)
            uncond = self.objective.noise_prediction_at(teacher, sample, timesteps, empty)
            target = esd_target(cond, uncond, self.args.esd_negative_guidance)
        prediction = self.objective.noise_prediction_at(model, sample, timesteps, ids)
        loss = (prediction.float() - target.float()).pow(2).mean()
        return (loss, {"prediction": prediction}) if return_outputs else loss


register_method(
    "esd",
    trainer=ESDTrainer,
    config=ESDConfig,
    data_use=DataUse.FORGET,
    needs=(Needs.ORIGINAL,),
    kinds=("image_generation",),
    citation='Gandikota et al., "Erasing Concepts from Diffusion Models", ICCV 2023',
    # the tiny offline models' reports sample with 10 DDIM steps: x_t is drawn from the same schedule
    quick_settings=dict(learning_rate=1e-3, num_train_epochs=5, esd_ddim_steps=10),
)
