"""CA: concept ablation (Kumari, Zhang, Wang, Shechtman, Zhu & Zhu, "Ablating Concepts in Text-to-Image
Diffusion Models", ICCV 2023), model-based variant.

The student's prediction for the target concept c* is pulled to θo's prediction for an anchor concept
c_a on the same noised image, so that prompts of c* generate the anchor instead:

    L_forget = ‖ε_θ(x_t, c*, t) − sg(ε_θo(x_t, c_a, t))‖²

plus α times the plain denoising loss on paired retain rows (the paper regularises with the anchor's
images; here with the retain set's concepts, which keeps the other concepts too). The paper fine-tunes
the cross-attention key/value projections (``xattn_kv``, its best setting) with the text encoder frozen.
The anchor is a prompt: the empty one (∅, the unconditional model: what the digits tasks have for "a
digit") by default; UnlearnCanvas anchors styles to "a painting". As in CA's code (nupurkmr9/concept-ablation,
``diffusers/README.md``: ``num_class_images`` 200, the model-based loss), x_t comes from images of the anchor
that θo generates before training (``--ca_anchor_images``, drawn with the report's sampling settings and the
run's seed, in the UNet's space): each step noises a random draw of them with the batch's ε and t.
``--ca_image_source forget_images`` noises the forget images instead (no generation; a simplification).
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
from .diffusion_parts import PARAMETER_GROUPS, prompt_ids, select_trainable, unwrap
from .registry import Needs, register_method

IMAGE_SOURCES = ("anchor_samples", "forget_images")


@dataclass
class ConceptAblationConfig(UnlearnConfig):
    """``UnlearnConfig`` plus CA's anchor prompt, retain weight and trained part."""

    ca_anchor_prompt: str = field(
        default="", metadata={"help": "The anchor concept's prompt ('' = the unconditional prompt ∅)."}
    )
    ca_retain_weight: float = field(
        default=1.0, metadata={"help": "α >= 0: weight of the denoising loss on paired retain rows."}
    )
    ca_parameters: str = field(
        default="xattn_kv",
        metadata={
            "help": "Weights CA trains (the paper: cross-attention K/V).",
            "choices": list(PARAMETER_GROUPS),
        },
    )

    ca_image_source: str = field(
        default="anchor_samples",
        metadata={
            "help": "Images x_t is made from: 'anchor_samples' (CA: images of the anchor prompt θo generates "
            "before training) or 'forget_images' (the forget set's own, a simplification).",
            "choices": list(IMAGE_SOURCES),
        },
    )
    ca_anchor_images: int = field(
        default=200,
        metadata={"help": "How many anchor images θo generates (CA's num_class_images: 200)."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ca_image_source not in IMAGE_SOURCES:
            raise MubenchError(
                f"ca_image_source must be one of {list(IMAGE_SOURCES)}, got {self.ca_image_source!r}"
            )
        if self.ca_anchor_images < 1:
            raise MubenchError(f"ca_anchor_images must be at least 1, got {self.ca_anchor_images}")
        if self.ca_retain_weight < 0:
            raise MubenchError(f"ca_retain_weight must be >= 0, got {self.ca_retain_weight}")
        if self.ca_parameters not in PARAMETER_GROUPS:
            raise MubenchError(
                f"ca_parameters must be one of {list(PARAMETER_GROUPS)}, got {self.ca_parameters!r}"
            )


class ConceptAblationTrainer(UnlearnTrainer):
    """Loss = ‖ε_θ(x_t, c*) − sg(ε_θo(x_t, c_a))‖² on Df + α·denoising loss on Dr."""

    _anchors: torch.Tensor | None = None

    def anchor_images(self) -> torch.Tensor:
        """θo's images of the anchor prompt, in the UNet's space (latents for a latent model), generated
        once per run with the report's sampling settings (steps, guidance) from noise seeded by the run's
        seed: a resumed run draws the same ones."""
        if self._anchors is None:
            # here, not at module level: the text-to-image kind's package is only needed by its runs
            from ..kinds.image_generation.sampling import (
                chunk_size,
                ddim_scheduler,
                guided_ddim,
                initial_noise,
                settings_from_args,
            )

            teacher, settings = unwrap(self.original_model), settings_from_args(self.args)
            config = teacher.unet.config
            shape = (int(config.in_channels), int(config.sample_size), int(config.sample_size))
            noise = initial_noise(self.args.ca_anchor_images, shape, self.args.seed)
            empty = teacher.encode(teacher.prompt_ids([""]))
            chunks, size = [], chunk_size(settings, teacher.device)
            with torch.no_grad():
                for start in range(0, len(noise), size):
                    chunk = noise[start : start + size].to(teacher.device)
                    cond = teacher.encode(teacher.prompt_ids([self.args.ca_anchor_prompt] * len(chunk)))
                    scheduler = ddim_scheduler(teacher, settings.inference_steps)
                    chunks.append(
                        guided_ddim(teacher, chunk, cond, empty, scheduler, settings.guidance_scale)
                    )
            self._anchors = torch.cat(chunks)
        return self._anchors

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        select_trainable(model, args.ca_parameters, self.method)
        return model

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget, retain = inputs["forget"], inputs["retain"]
        n = forget["input_ids"].shape[0]
        if self.args.ca_image_source == "anchor_samples":
            anchors = self.anchor_images()
            drawn = anchors[torch.randint(len(anchors), (n,))].to(forget["pixel_values"])
            forget = {**forget, "pixel_values": drawn}
            inputs = {**inputs, "forget": forget}
        anchor = prompt_ids(model, [self.args.ca_anchor_prompt], forget["input_ids"]).expand(n, -1)
        with torch.no_grad():
            target = self.objective.noise_prediction(self.original_model, forget, anchor)
        forget_out, retain_out = self.objective.pair_outputs(model, inputs)
        forget_loss = (forget_out.prediction.float() - target.float()).pow(2).mean()
        retain_loss = self.objective.loss(retain_out, retain)
        self.log_term("forget_loss", forget_loss)
        self.log_term("retain_loss", retain_loss)
        loss = forget_loss + self.args.ca_retain_weight * retain_loss
        return (loss, {"prediction": forget_out.prediction}) if return_outputs else loss


register_method(
    "concept_ablation",
    trainer=ConceptAblationTrainer,
    config=ConceptAblationConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("image_generation",),
    citation='Kumari et al., "Ablating Concepts in Text-to-Image Diffusion Models", ICCV 2023',
    quick_settings=dict(learning_rate=2e-3, num_train_epochs=3, pair_anchor="forget", ca_anchor_images=64),
)
