"""Checks ``UnlearnTrainer`` runs on its inputs before any work, each failing with a clear message."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import MubenchError
from .data import declared_class_count


def model_num_labels(model: nn.Module) -> int | None:
    """``num_labels`` of a Hugging Face (or PEFT) classifier, or of any module defining it."""
    config = getattr(model, "config", None)
    value = getattr(config, "num_labels", None) if config is not None else None
    if value is None:
        value = getattr(model, "num_labels", None)
    return int(value) if value is not None else None


def check_num_labels(model: nn.Module, forget: Any, retain: Any) -> int:
    """The number of classes the model predicts, checked against what the datasets declare."""
    num_labels = model_num_labels(model)
    for name, dataset in (("forget", forget), ("retain", retain)):
        declared = declared_class_count(dataset) if dataset is not None else None
        if declared is not None and num_labels is not None and declared != num_labels:
            raise MubenchError(
                f"the model has num_labels={num_labels} but the {name} set's ClassLabel has {declared} "
                "classes; unlearn a model trained on this task (or build it with the task's labels)"
            )
        if num_labels is None:
            num_labels = declared
    if num_labels is None:
        raise MubenchError(
            f"cannot tell how many classes {type(model).__name__} predicts: give it config.num_labels "
            "or use datasets with a ClassLabel label column"
        )
    return num_labels
