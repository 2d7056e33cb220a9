"""Building a text-to-image model for a task: ``tiny:unet`` (a tiny UNet and text encoder from configs, for
offline tasks), a diffusers folder saved by mubench, or a pretrained pipeline (``pretrained.py``: a Stable
Diffusion 1.x folder or Hub id, the start of a Hub task's base model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ...errors import MubenchError
from ...modalities.text_to_image import TINY_TEXT_ENCODER, TINY_UNET, import_diffusers
from ...tasks.text_to_image import ImageGenerationTask
from .model import TextToImageModel
from .pretrained import is_mubench_folder, load_pipeline_parts, looks_like_hub_id

#: Steps of the forward (noising) process of training: diffusers' and Stable Diffusion's default.
NUM_TRAIN_TIMESTEPS = 1000
TINY_ARCHITECTURES = ("unet",)


def image_size_of(task: ImageGenerationTask, splits: Any) -> int:
    """The square image side of ``task``: declared, else read from the first stored image."""
    if task.image_size is not None:
        return int(task.image_size)
    first = next(iter(splits.values()))
    width, height = first[0][task.input_column].size
    if width != height:
        raise MubenchError(
            f"task {task.name!r}: images are {width}x{height}; declare image_size to resize them"
        )
    return int(width)


def tiny_text_to_image_model(task: ImageGenerationTask, tokenizer: Any, size: int) -> TextToImageModel:
    """A fresh tiny model for ``task`` (weights drawn from torch's generator: seed it before)."""
    diffusers = import_diffusers()
    from transformers import CLIPTextConfig, CLIPTextModel

    if size % 2:
        raise MubenchError(f"the tiny UNet halves the image once: its side must be even, got {size}")
    unet = diffusers.UNet2DConditionModel(
        sample_size=size, in_channels=task.channels, out_channels=task.channels, **TINY_UNET
    )
    pad = int(tokenizer.pad_token_id)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            max_position_embeddings=int(tokenizer.model_max_length),
            pad_token_id=pad,
            bos_token_id=pad,
            eos_token_id=pad,
            **TINY_TEXT_ENCODER,
        )
    )
    scheduler = diffusers.DDPMScheduler(num_train_timesteps=NUM_TRAIN_TIMESTEPS)
    return TextToImageModel(unet, text_encoder, tokenizer, scheduler, num_labels=task.num_labels)


def build_text_to_image_model(
    task: ImageGenerationTask, model: Any, splits: Any, tokenizer: Any
) -> TextToImageModel:
    """``tiny:unet`` → a fresh tiny model; a diffusers folder saved by mubench → that model; a pretrained
    pipeline → its parts (see ``pretrained.py``)."""
    if isinstance(model, TextToImageModel):
        return model
    spec = str(model)
    if spec.startswith("tiny:"):
        architecture = spec.removeprefix("tiny:")
        if architecture not in TINY_ARCHITECTURES:
            raise MubenchError(
                f"unknown tiny architecture {architecture!r} for image-generation tasks; known: "
                f"{', '.join(TINY_ARCHITECTURES)}"
            )
        return tiny_text_to_image_model(task, tokenizer, image_size_of(task, splits))
    if Path(spec).is_dir() and is_mubench_folder(spec):
        loaded = TextToImageModel.from_pretrained(spec)
        if loaded.config.num_labels != task.num_labels:
            raise MubenchError(
                f"{spec} was trained on {loaded.config.num_labels} concepts, task {task.name!r} has "
                f"{task.num_labels}"
            )
    elif Path(spec).is_dir() or looks_like_hub_id(spec):
        # a pretrained pipeline (Stable Diffusion 1.x): the start of the task's base model
        loaded = load_pipeline_parts(spec, task.num_labels)
    else:
        raise MubenchError(
            f"image-generation models are tiny:unet, a diffusers folder (saved by mubench, or a Stable "
            f"Diffusion 1.x pipeline) or a Hub pipeline id; {spec!r} is none of these"
        )
    return loaded.to(torch.device("cpu"))
