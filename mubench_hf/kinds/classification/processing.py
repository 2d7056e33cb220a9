"""Task-aware input processing: dataset rows (the modality's input column, ``label``) → model inputs.

Transforms are applied lazily with ``datasets.Dataset.with_transform``, so nothing is rewritten on
disk and every split stays an ordinary ``datasets.Dataset``. What a transform does is the task's
modality's business (``mubench_hf.modalities``): images use the model's image processor or, for tiny
models built from a config, a plain tensor transform; text uses the tokenizer, padded per batch by
``DataCollatorWithPadding``. Each transform emits the model's input and ``labels``.

``load_processor`` keeps the part that is the same for every modality: the ``trust_remote_code``
policy when a processor is loaded from a checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import datasets

from ...errors import MubenchError
from ...modalities.base import Transform
from ...modalities.image import image_transform
from ...modalities.text import text_transform
from ...modeling import current_loading_policy
from ...tasks import Task, get_task

__all__ = [
    "Transform",
    "data_collator_for",
    "image_transform",
    "load_processor",
    "prepare_splits",
    "task_transform",
    "text_transform",
]


def task_transform(
    task: str | Task, model_or_config: Any, processing_class: Any = None, **kwargs: Any
) -> Transform:
    """The transform of ``task``'s modality (e.g. ``image_transform``, ``text_transform``)."""
    task = get_task(task)
    return task.modality_spec.transform(
        model_or_config, processing_class, input_column=task.input_column, **kwargs
    )


def prepare_splits(
    splits: datasets.DatasetDict,
    task: str | Task,
    model_or_config: Any,
    processing_class: Any = None,
    **kwargs: Any,
) -> datasets.DatasetDict:
    """Every split of ``splits`` made ready by the task's modality (``Modality.prepare_split``: the
    transform attached with ``with_transform``, or for audio decoded once per split)."""
    task = get_task(task)
    transform = task_transform(task, model_or_config, processing_class, **kwargs)
    modality = task.modality_spec
    return datasets.DatasetDict(
        {name: modality.prepare_split(split, transform) for name, split in splits.items()}
    )


def data_collator_for(task: str | Task, processing_class: Any = None) -> Callable[[list[dict]], dict]:
    """The collator of the task's modality (padding for text, stacking for images)."""
    return get_task(task).modality_spec.collator(processing_class)


def _has_no_checkpoint(source: str | None) -> bool:
    # tiny:<arch> and config.json models are built from a config: there is nothing to load a processor from
    return source is None or source.startswith("tiny:") or source.endswith(".json")


def load_processor(
    task: str | Task, source: str | None, *, trust_remote_code: bool | None = None, splits: Any = None
) -> Any:
    """The checkpoint's processor for the task's modality (image processor, tokenizer, ...), or what the
    modality uses without one (``None`` for image models built from a config; text raises).

    ``trust_remote_code`` is always passed explicitly: ``False`` unless given or set by
    ``modeling.loading_policy`` (``--trust_remote_code``), so a repo's own processor code never runs
    unasked. A model built from a config gets the task's own processor when it brings one
    (``Task.config_model_processor``, which may read ``splits``: the task's data)."""
    task = get_task(task)
    modality = task.modality_spec
    if _has_no_checkpoint(source):
        own = task.config_model_processor(splits)
        if own is not None:
            return own
    loader = modality.processor_class()
    if loader is None:
        return None
    if _has_no_checkpoint(source):
        return modality.without_processor(None)
    if trust_remote_code is None:
        trust_remote_code = current_loading_policy().trust_remote_code
    try:
        return loader.from_pretrained(source, trust_remote_code=bool(trust_remote_code))
    except (OSError, ValueError) as err:
        # the source's own name is left out: a folder may well be called ".../trust_remote_code..."
        if not trust_remote_code and "trust_remote_code" in str(err).replace(source, ""):
            raise MubenchError(
                f"the processor of {source!r} needs Python code from its repo, which is not run unless asked: "
                "pass --trust_remote_code if you trust its source"
            ) from None
    # outside the except block, so that an error it raises does not carry the loader's traceback
    return modality.without_processor(source)
