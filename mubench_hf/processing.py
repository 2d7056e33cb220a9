"""Task-aware input processing: dataset rows (``image`` or ``text``, ``label``) → model inputs.

Transforms are applied lazily with ``datasets.Dataset.with_transform``, so nothing is rewritten on
disk and every split stays an ordinary ``datasets.Dataset``:

* image tasks use the model's image processor when there is one (any Hub checkpoint), and otherwise
  a plain tensor transform for tiny models built from a config: the image converted to the model's
  channel count, resized to ``config.image_size`` when the config has one, scaled to [-1, 1];
* text tasks use the tokenizer (truncation here, padding per batch by ``DataCollatorWithPadding``).

Each transform emits the model's input (``pixel_values`` or the tokenizer's fields) and ``labels``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import datasets
import numpy as np
import torch
from PIL import Image
from transformers import (
    AutoImageProcessor,
    AutoTokenizer,
    DataCollatorWithPadding,
    PretrainedConfig,
    default_data_collator,
)

from .errors import MubenchError
from .tasks import LABEL_COLUMN, Task, get_task

Transform = Callable[[dict[str, list]], dict[str, list]]


def _config_of(model_or_config: Any) -> PretrainedConfig:
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


def _size_of(config: PretrainedConfig) -> tuple[int, int] | None:
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


def text_transform(
    tokenizer: Any,
    *,
    input_column: str = "text",
    label_column: str = LABEL_COLUMN,
    max_length: int | None = None,
) -> Transform:
    """A batch transform for text rows: the tokenizer's fields (unpadded) and ``labels``."""
    if tokenizer is None:
        raise MubenchError("text tasks need a tokenizer (processing_class)")

    def transform(batch: dict[str, list]) -> dict[str, list]:
        out = dict(tokenizer(list(batch[input_column]), truncation=True, max_length=max_length))
        if label_column in batch:
            out["labels"] = list(batch[label_column])
        return out

    return transform


def task_transform(
    task: str | Task, model_or_config: Any, processing_class: Any = None, **kwargs: Any
) -> Transform:
    """The transform for ``task``'s modality (see ``image_transform`` and ``text_transform``)."""
    task = get_task(task)
    if task.modality == "image":
        return image_transform(model_or_config, processing_class, input_column=task.input_column, **kwargs)
    return text_transform(processing_class, input_column=task.input_column, **kwargs)


def prepare_splits(
    splits: datasets.DatasetDict,
    task: str | Task,
    model_or_config: Any,
    processing_class: Any = None,
    **kwargs: Any,
) -> datasets.DatasetDict:
    """Every split of ``splits`` with the task's transform attached (``with_transform``)."""
    transform = task_transform(task, model_or_config, processing_class, **kwargs)
    return datasets.DatasetDict({name: split.with_transform(transform) for name, split in splits.items()})


def data_collator_for(task: str | Task, processing_class: Any = None) -> Callable[[list[dict]], dict]:
    """Padding collator for text, stacking collator for images."""
    task = get_task(task)
    if task.modality == "text":
        return DataCollatorWithPadding(processing_class)
    return default_data_collator


def load_processor(task: str | Task, source: str | None, *, trust_remote_code: bool | None = None) -> Any:
    """The checkpoint's image processor or tokenizer; ``None`` for image models built from a config.

    ``trust_remote_code`` is always passed explicitly: ``False`` unless given or set by
    ``modeling.loading_policy`` (``--trust_remote_code``), so a repo's own processor code never runs
    unasked."""
    from .modeling import current_loading_policy

    task = get_task(task)
    if source is None or source.startswith("tiny:") or source.endswith(".json"):
        if task.modality == "text":
            raise MubenchError("text tasks need a tokenizer: pass --processor (a folder or Hub id)")
        return None
    if trust_remote_code is None:
        trust_remote_code = current_loading_policy().trust_remote_code
    loader = AutoImageProcessor if task.modality == "image" else AutoTokenizer
    try:
        return loader.from_pretrained(source, trust_remote_code=bool(trust_remote_code))
    except (OSError, ValueError) as err:
        # the source's own name is left out: a folder may well be called ".../trust_remote_code..."
        if not trust_remote_code and "trust_remote_code" in str(err).replace(source, ""):
            raise MubenchError(
                f"the processor of {source!r} needs Python code from its repo, which is not run unless asked: "
                "pass --trust_remote_code if you trust its source"
            ) from None
        if task.modality == "text":
            raise MubenchError(f"no tokenizer found with {source!r}; pass --processor") from None
        return None
