"""A reference classifier's logits on a split, computed once per (model content, rows, processing).

The original model's forget/test logits and a retrain model folder's logits on every split are the same
in every report that scores the same rows with the same processor: ``reference_logits`` keeps them in the
process's :data:`~mubench_hf.kinds.reference_cache.REFERENCE_CACHE` (and its disk folder when one is
set), and loads the model only when they have to be computed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

from ..reference_cache import REFERENCE_CACHE, model_digest, rows_sha256, value_key
from .predictions import logits_of_model, sample_ids_of

CACHE_KIND = "classification_logits"


def processing_identity(trainer: Any, dataset: Any) -> dict[str, Any]:
    """What turns the split's rows into model inputs (and where they run): part of the cache key."""
    processor = getattr(trainer, "processing_class", None)
    described: Any = None
    if processor is not None and hasattr(processor, "to_dict"):
        try:
            described = processor.to_dict()
        except (TypeError, ValueError):  # a processor that cannot describe itself: its class and source
            described = None
    if described is None and processor is not None:
        described = {
            "class": type(processor).__name__,
            "source": getattr(processor, "name_or_path", None),
            "size": len(processor) if hasattr(processor, "__len__") else None,
        }
    format_ = getattr(dataset, "format", None) or {}
    transform = (format_.get("format_kwargs") or {}).get("transform")
    return {
        "processor": described,
        "collator": type(getattr(trainer, "data_collator", None)).__name__,
        "transform": type(transform).__name__ if transform is not None else format_.get("type"),
        "device": str(trainer.args.device.type),
    }


def reference_logits(
    trainer: Any,
    source: str | os.PathLike | nn.Module,
    dataset: Any,
    split: str,
    *,
    load: Callable[[Any, Any], nn.Module],
) -> np.ndarray:
    """Logits of the reference model ``source`` (a folder, loaded with ``load(trainer, folder)`` when
    needed, or a frozen module) over every row of ``dataset``; served from the reference cache when the
    same model has scored the same rows before. Rows without a ``sample_id`` are not cached."""

    def compute() -> np.ndarray:
        model = source if isinstance(source, nn.Module) else load(trainer, source)
        return logits_of_model(trainer, model.to(trainer.args.device), dataset, split)

    ids = sample_ids_of(dataset)
    if ids is None:
        return compute()
    key = value_key(model_digest(source), split, rows_sha256(ids), processing_identity(trainer, dataset))
    return REFERENCE_CACHE.get(
        CACHE_KIND, key, compute, dump=lambda logits: {"logits": logits}, load=lambda data: data["logits"]
    )


def load_once(load: Callable[[Any, Any], nn.Module]) -> Callable[[Any, Any], nn.Module]:
    """``load`` that loads its model the first time it is asked and hands out that model afterwards (a
    reference scored on several splits is read from disk once, and not at all when every split is cached)."""
    loaded: dict[str, nn.Module] = {}

    def once(trainer: Any, path: Any) -> nn.Module:
        key = str(path)
        if key not in loaded:
            loaded[key] = load(trainer, path)
        return loaded[key]

    return once
