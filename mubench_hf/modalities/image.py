"""Images: an ``image`` column of ``datasets.Image``, classified by ``AutoModelForImageClassification``.

The transform uses the model's image processor when there is one (any Hub checkpoint), and otherwise
a plain tensor transform for tiny models built from a config: the image converted to the model's
channel count, resized to ``config.image_size`` when the config has one, scaled to [-1, 1]. Grey
images (digits) get 1-channel models when the model is built from a config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import datasets
import numpy as np
from PIL import Image

from ..errors import MubenchError
from .base import LABEL_COLUMN, Modality, Transform, register_modality

# Image modes with one channel: such images are fed to 1-channel models built from a config.
GREY_MODES = ("L", "I", "F", "1")


def _config_of(model_or_config: Any) -> Any:
    from transformers import PretrainedConfig

    if isinstance(model_or_config, PretrainedConfig):
        return model_or_config
    config = getattr(model_or_config, "config", None)
    if config is None:
        raise MubenchError(f"cannot read a config from {type(model_or_config).__name__}")
    return config


def _image_mode(num_channels: int) -> str:
    if num_channels == 1:
        return "L"
    if num_channels == 3:
        return "RGB"
    raise MubenchError(f"images can be fed to models with 1 or 3 channels, the model has {num_channels}")


def _size_of(config: Any) -> tuple[int, int] | None:
    size = getattr(config, "image_size", None)
    if size is None:
        return None
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


def image_transform(
    model_or_config: Any,
    image_processor: Any = None,
    *,
    input_column: str = "image",
    label_column: str = LABEL_COLUMN,
) -> Transform:
    """A batch transform for image rows: ``pixel_values`` (float tensors) and ``labels``."""
    import torch

    config = _config_of(model_or_config)
    mode = _image_mode(int(getattr(config, "num_channels", 3)))
    size = _size_of(config)

    def to_tensor(image: Image.Image) -> torch.Tensor:
        image = image.convert(mode)
        if size is not None and image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.BILINEAR)
        array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
        return torch.from_numpy(array[None] if array.ndim == 2 else array.transpose(2, 0, 1).copy())

    def transform(batch: dict[str, list]) -> dict[str, list]:
        images = batch[input_column]
        if image_processor is not None:
            pixel_values = image_processor(images=[img.convert(mode) for img in images], return_tensors="pt")[
                "pixel_values"
            ]
            out: dict[str, list] = {"pixel_values": list(pixel_values)}
        else:
            out = {"pixel_values": [to_tensor(img) for img in images]}
        if label_column in batch:
            out["labels"] = list(batch[label_column])
        return out

    return transform


def image_channels(dataset: Any, column: str = "image") -> int:
    """1 for grey-scale images, 3 otherwise, judged from the first image of ``dataset``."""
    first = dataset.with_format(None)[0][column] if hasattr(dataset, "with_format") else dataset[0][column]
    return 1 if getattr(first, "mode", "RGB") in GREY_MODES else 3


class ImageModality(Modality):
    name = "image"
    input_column = "image"
    pipeline_tag = "image-classification"

    def input_feature(self) -> datasets.Image:
        return datasets.Image()

    def auto_class(self) -> type:
        from transformers import AutoModelForImageClassification

        return AutoModelForImageClassification

    def processor_class(self) -> type:
        from transformers import AutoImageProcessor

        return AutoImageProcessor

    def without_processor(self, source: str | None) -> None:
        # models built from a config, and checkpoints without an image processor: the tensor transform
        return None

    def transform(
        self,
        model_or_config: Any,
        processor: Any,
        *,
        input_column: str,
        label_column: str = LABEL_COLUMN,
        **options: Any,
    ) -> Transform:
        return image_transform(
            model_or_config, processor, input_column=input_column, label_column=label_column, **options
        )

    def tiny_configs(self) -> Mapping[str, tuple[type, dict[str, Any]]]:
        from transformers import ResNetConfig, ViTConfig

        return {
            # two basic stages, ~74k weights
            "resnet": (
                ResNetConfig,
                dict(
                    num_channels=3,
                    embedding_size=16,
                    hidden_sizes=[32, 64],
                    depths=[1, 1],
                    layer_type="basic",
                ),
            ),
            # 2 layers, hidden size 32, no dropout
            "vit": (
                ViTConfig,
                dict(
                    image_size=8,
                    patch_size=2,
                    num_channels=3,
                    hidden_size=32,
                    num_hidden_layers=2,
                    num_attention_heads=2,
                    intermediate_size=64,
                    hidden_dropout_prob=0.0,
                    attention_probs_dropout_prob=0.0,
                ),
            ),
        }

    def data_hints(self, sample: Any, input_column: str) -> dict[str, Any]:
        return {"num_channels": image_channels(sample, input_column)}

    def adapt_config(self, config: Any, *, num_channels: int | None = None, **hints: Any) -> None:
        if num_channels is not None and hasattr(config, "num_channels"):
            config.num_channels = num_channels


IMAGE = register_modality(ImageModality())
