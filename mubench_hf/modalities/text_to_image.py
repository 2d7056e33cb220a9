"""Text-to-image: an ``image`` column generated from a prompt, by a ``diffusers`` UNet conditioned on a text
encoder. The modality object of image-generation tasks (``tasks.text_to_image.ImageGenerationTask``).

It owns what the other modalities own for classifiers: the stored input feature (``datasets.Image``), the
transform (images → ``pixel_values`` in [-1, 1], the class kept as ``label``), the pipeline class that saves
and loads a model as a diffusers folder (``model_index.json`` + ``unet/``, ``text_encoder/``,
``tokenizer/``, ``scheduler/``), the Hub pipeline tag (``text-to-image``) and the tiny from-config models
(a 2-level ``UNet2DConditionModel`` and a 1-layer ``CLIPTextModel``) for offline tasks.

``diffusers`` is an optional dependency (``pip install 'mubench-hf[diffusion]'``); it is imported on first
use, with that hint when it is missing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import datasets
import numpy as np

from ..errors import MubenchError
from .base import LABEL_COLUMN, Modality, Transform

PIPELINE_CLASS = "MubenchTextToImagePipeline"

#: The tiny UNet of offline tasks: two resolution levels, cross-attention at the top one. 791k weights at
#: 32/64 channels; one forward and backward of 64 8x8 images takes ~0.6 s on one CPU thread (measured on
#: the 2-core build machine under load: 16x16 images cost ~4x more, which is why digits stay 8x8).
TINY_UNET: dict[str, Any] = dict(
    block_out_channels=(32, 64),
    layers_per_block=1,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32,
    attention_head_dim=8,
    norm_num_groups=8,
)
#: The tiny text encoder: one CLIP text layer over the task's word-level vocabulary.
TINY_TEXT_ENCODER: dict[str, Any] = dict(
    hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4
)


def import_diffusers() -> Any:
    """The ``diffusers`` module, or an error that says how to install it."""
    try:
        import diffusers
    except ImportError as err:
        raise MubenchError(
            "image-generation tasks need diffusers: pip install 'mubench-hf[diffusion]' (diffusers>=0.42)"
        ) from err
    return diffusers


@functools.cache
def pipeline_class() -> type:
    """``MubenchTextToImagePipeline``: a ``diffusers.DiffusionPipeline`` of a UNet, a text encoder, its
    tokenizer, a noise scheduler and, for a latent model (Stable Diffusion), its ``AutoencoderKL``. The tiny
    models of offline tasks work in pixel space (no VAE: their images are 8x8 or 14x14)."""
    diffusers = import_diffusers()

    class MubenchTextToImagePipeline(diffusers.DiffusionPipeline):
        """The parts of a mubench text-to-image model, saved and loaded as one diffusers folder.
        Images are made by ``mubench_hf.kinds.image_generation.sampling.generate`` (batched, seeded)."""

        _optional_components = ["vae"]

        def __init__(
            self, unet: Any, text_encoder: Any, tokenizer: Any, scheduler: Any, vae: Any = None
        ) -> None:
            super().__init__()
            self.register_modules(
                unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler, vae=vae
            )

    MubenchTextToImagePipeline.__module__ = __name__
    return MubenchTextToImagePipeline


def image_to_unit_range(images: list[Any], channels: int, size: int | None) -> np.ndarray:
    """PIL images → float32 ``[N, C, H, W]`` in [-1, 1] (grey for 1 channel, resized to ``size`` when given)."""
    mode = "L" if channels == 1 else "RGB"
    arrays = []
    for image in images:
        image = image.convert(mode)
        if size is not None and image.size != (size, size):
            image = image.resize((size, size))
        array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
        arrays.append(array[None] if channels == 1 else array.transpose(2, 0, 1))
    return np.stack(arrays)


class TextToImageModality(Modality):
    """See the module docstring. Not registered under a name: tasks keep ``modality="image"`` for their stored
    columns and reach this object through ``ImageGenerationTask.modality_spec``."""

    name = "text_to_image"
    input_column = "image"
    pipeline_tag = "text-to-image"
    #: the library a model card names (``library_name``) and imports its loader from
    library_name = "diffusers"

    def input_feature(self) -> datasets.Image:
        return datasets.Image()

    def auto_class(self) -> type:
        return pipeline_class()

    def transform(
        self,
        model_or_config: Any,
        processor: Any,
        *,
        input_column: str,
        label_column: str = LABEL_COLUMN,
        channels: int = 1,
        size: int | None = None,
        **options: Any,
    ) -> Transform:
        """Rows → ``pixel_values`` (``[C, H, W]`` in [-1, 1]) and ``label`` (the concept the prompt names)."""
        import torch

        def transform(batch: dict[str, list]) -> dict[str, list]:
            pixels = torch.from_numpy(image_to_unit_range(batch[input_column], channels, size))
            return {"pixel_values": list(pixels), "label": list(batch[label_column])}

        return transform

    def tiny_configs(self) -> Mapping[str, tuple[type, dict[str, Any]]]:
        return {"unet": (dict, dict(TINY_UNET))}


@functools.cache
def text_to_image_modality() -> TextToImageModality:
    """The one text-to-image modality object."""
    return TextToImageModality()
