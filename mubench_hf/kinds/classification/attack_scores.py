"""The forget metric of an attacked classifier (weights rounded, or relearned on part of Df): its accuracy
on the forget rows, from one prediction pass with the report's loader (the same inputs as the report's)."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from .predictions import logits_of_model
from .report import predict_labels

#: what an attack on a classifier is scored with (``<metric>_after_<attack>``)
ATTACK_METRICS = ("forget_accuracy",)


def classification_forget_scores(trainer: Any, model: nn.Module, forget: Any) -> dict[str, float]:
    """``forget_accuracy`` of ``model`` on ``forget`` (rows with the task's transform, as the report's)."""
    logits = logits_of_model(trainer, model, forget, "forget")
    return {"forget_accuracy": float(np.mean(logits.argmax(1) == predict_labels(forget)))}
