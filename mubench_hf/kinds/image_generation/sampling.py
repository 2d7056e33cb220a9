"""Batched, seeded generation: every concept's images from one sampling loop over large batches.

Images are drawn with a DDIM scheduler (Song et al. 2021) built from the model's training scheduler, a few
inference steps and classifier-free guidance (Ho & Salimans 2022): ε = ε(x_t, ∅) + w·(ε(x_t, c) − ε(x_t, ∅)),
the conditional and unconditional predictions taken in one UNet call on the doubled batch. All prompts of
a report go through the loop together (in chunks of ``batch_size``, at most ``cpu_batch_size`` on a CPU): this,
not the per-image ``pipeline(prompt)`` call, is what makes the metrics affordable (``bench/bench_t2i.py``).
The starting noise of image i of concept k is drawn from a generator seeded by ``seed``: the same settings
give the same images for every model, so two models are compared on the same draws.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ...errors import MubenchError
from ...modalities.text_to_image import import_diffusers
from .inception import check_fid_features
from .model import TextToImageModel


@dataclass(frozen=True)
class SamplingSettings:
    """How a report generates, and which features its FID and KID are taken on (``fid_features``: see
    ``inception.py``); every field has a CLI flag: ``--images-per-concept`` ... ``--fid-features``."""

    images_per_concept: int = 20
    inference_steps: int = 10
    guidance_scale: float = 3.0
    batch_size: int = 500
    #: the most images one batch holds on a CPU. 100 measured fastest there (one thread, 2-core VM): 500 images
    #: of the tiny latent model at 28 images/s against 21 in batches of 500, digits_t2i's 200-image report at
    #: 38 against 29 in one batch (``bench/bench_t2i.py``). Larger batches make activations of tens of MB, which
    #: glibc maps afresh and the kernel zero-fills (page faults) at every UNet call; at 100 they are reused from
    #: the heap. The images are those of one batch (bit for bit at a report's sizes, measured; tests/test_t2i_kind.py
    #: asserts 1e-6). Accelerators keep ``batch_size``
    cpu_batch_size: int = 100
    seed: int = 0
    fid_features: str = "classifier"

    def __post_init__(self) -> None:
        check_fid_features(self.fid_features)
        for name in ("images_per_concept", "inference_steps", "batch_size", "cpu_batch_size"):
            if int(getattr(self, name)) < 1:
                raise MubenchError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.guidance_scale < 0:
            raise MubenchError(f"guidance_scale must be >= 0 (1: no guidance), got {self.guidance_scale}")


#: ``UnlearnConfig`` fields (``mubench unlearn --t2i_images_per_concept 10``, a grid's ``unlearn_args``) → settings
ARGUMENT_FIELDS = {
    "t2i_images_per_concept": "images_per_concept",
    "t2i_inference_steps": "inference_steps",
    "t2i_guidance_scale": "guidance_scale",
    "t2i_fid_features": "fid_features",
}


def settings_from_args(args: Any) -> SamplingSettings:
    """The settings a trainer's arguments ask for (the defaults for those they leave unset)."""
    given = {field: getattr(args, name, None) for name, field in ARGUMENT_FIELDS.items()}
    return SamplingSettings(**{k: v for k, v in given.items() if v is not None})


def initial_noise(count: int, shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """x_T of ``count`` images, from a CPU generator seeded by ``seed`` (device-independent draws)."""
    generator = torch.Generator().manual_seed(int(seed))
    return torch.randn((count, *shape), generator=generator)


def chunk_size(settings: SamplingSettings, device: torch.device) -> int:
    """How many images one sampling batch holds on ``device`` (the images do not depend on it, up to float
    rounding: see ``SamplingSettings.cpu_batch_size``)."""
    if torch.device(device).type == "cpu":
        return min(int(settings.batch_size), int(settings.cpu_batch_size))
    return int(settings.batch_size)


def ddim_scheduler(model: TextToImageModel, steps: int) -> Any:
    """A DDIM scheduler (η = 0) built from the model's training scheduler, set to ``steps`` inference steps."""
    scheduler = import_diffusers().DDIMScheduler.from_config(model.scheduler.config)
    scheduler.set_timesteps(int(steps))
    return scheduler


@torch.no_grad()
def guided_ddim(
    model: TextToImageModel,
    sample: torch.Tensor,
    cond: torch.Tensor,
    empty: torch.Tensor,
    scheduler: Any,
    guidance_scale: float,
    *,
    steps: int | None = None,
) -> torch.Tensor:
    """``sample`` (x_T, in the UNet's space) denoised through the first ``steps`` (default: all) of the
    scheduler's timesteps under classifier-free guidance: ε(∅) + w·(ε(c) − ε(∅)), both in one UNet call.
    ``cond``: the prompts' hidden states, one row per sample; ``empty``: the empty prompt's, one row."""
    guided = guidance_scale != 1.0
    hidden = torch.cat([cond, empty.expand(len(cond), -1, -1)]) if guided else cond
    for t in scheduler.timesteps[:steps]:
        model_input = torch.cat([sample, sample]) if guided else sample
        eps = model.predict_noise(model_input, t.expand(model_input.shape[0]).to(model.device), hidden)
        if guided:
            eps_cond, eps_uncond = eps.chunk(2)
            eps = eps_uncond + guidance_scale * (eps_cond - eps_uncond)
        sample = scheduler.step(eps, t, sample).prev_sample
    return sample


@torch.no_grad()
def generate(
    model: TextToImageModel, prompts: list[str], settings: SamplingSettings, *, show_progress: bool = False
) -> torch.Tensor:
    """Images ``[len(prompts), C, H, W]`` in [-1, 1], one per prompt (repeat a prompt for several images)."""
    was_training = model.training
    model.eval()
    unet_config = model.unet.config
    shape = (int(unet_config.in_channels), int(unet_config.sample_size), int(unet_config.sample_size))
    noise = initial_noise(len(prompts), shape, settings.seed)
    images = []
    try:
        empty = model.encode(model.prompt_ids([""]))
        size = chunk_size(settings, model.device)
        for start in range(0, len(prompts), size):
            chunk = prompts[start : start + size]
            scheduler = ddim_scheduler(model, settings.inference_steps)
            sample = noise[start : start + len(chunk)].to(model.device)
            cond = model.encode(model.prompt_ids(chunk))
            sample = guided_ddim(model, sample, cond, empty, scheduler, settings.guidance_scale)
            images.append(model.decode(sample).clamp(-1.0, 1.0).cpu())  # latents → images (latent models)
    finally:
        model.train(was_training)
    return torch.cat(images)


def capped(settings: SamplingSettings, batch_size: int | None) -> SamplingSettings:
    """``settings`` with its batch size capped at a task's (a Stable Diffusion batch of 500 does not fit a
    GPU); the images are the same in any batch size, so the cap changes memory, not results."""
    if batch_size is None or settings.batch_size <= batch_size:
        return settings
    return dataclasses.replace(settings, batch_size=int(batch_size))


def concept_prompts(
    prompts: list[str], labels: list[int], images_per_concept: int
) -> tuple[list[str], list[int]]:
    """Each concept's prompt repeated ``images_per_concept`` times, and the concept of each."""
    out_prompts, out_labels = [], []
    for label in labels:
        out_prompts += [prompts[label]] * images_per_concept
        out_labels += [label] * images_per_concept
    return out_prompts, out_labels
