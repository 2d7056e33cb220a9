"""Frozen reference models: a copy of the original model (θo), or a randomly initialised one.

Both are placed through the accelerator (never ``.cuda()``) in evaluation mode, so they follow the
student onto whatever device and precision the run uses, and are not wrapped for distributed
training: they never receive gradients.
"""

from __future__ import annotations

import copy

from accelerate import Accelerator
from torch import nn

from ..modeling import fresh_model


def _freeze(model: nn.Module) -> nn.Module:
    model.requires_grad_(False)
    return model.eval()


def frozen(model: nn.Module, accelerator: Accelerator) -> nn.Module:
    """``model`` itself, frozen and placed as a teacher (for a model the caller already owns, e.g. one it
    trained as a reference, so no second copy is made)."""
    return accelerator.prepare_model(_freeze(model), evaluation_mode=True)


def frozen_copy(model: nn.Module, accelerator: Accelerator) -> nn.Module:
    """A frozen copy of ``model`` as it is now (the original weights θo, before unlearning)."""
    return frozen(copy.deepcopy(accelerator.unwrap_model(model)), accelerator)


def random_teacher(model: nn.Module, accelerator: Accelerator, seed: int) -> nn.Module:
    """A frozen, randomly initialised model of the same architecture (an "incompetent teacher")."""
    teacher = _freeze(fresh_model(accelerator.unwrap_model(model), seed))
    return accelerator.prepare_model(teacher, evaluation_mode=True)
