"""Frozen reference models: a copy of the original model (θo), or a randomly initialised one.

Both are placed through the accelerator (never ``.cuda()``) in evaluation mode, so they follow the
student onto whatever device and precision the run uses, and are not wrapped for distributed
training: they never receive gradients.
"""

from __future__ import annotations

import copy

import torch
from accelerate import Accelerator
from torch import nn

from ..errors import MubenchError


def _freeze(model: nn.Module) -> nn.Module:
    model.requires_grad_(False)
    return model.eval()


def frozen_copy(model: nn.Module, accelerator: Accelerator) -> nn.Module:
    """A frozen copy of ``model`` as it is now (the original weights θo, before unlearning)."""
    teacher = _freeze(copy.deepcopy(accelerator.unwrap_model(model)))
    return accelerator.prepare_model(teacher, evaluation_mode=True)


def _base_model(model: nn.Module) -> nn.Module:
    # A PEFT model's architecture is its base model's (the adapters are an add-on).
    get_base_model = getattr(model, "get_base_model", None)
    return get_base_model() if callable(get_base_model) else model


def fresh_model(model: nn.Module, seed: int) -> nn.Module:
    """A model of the same architecture as ``model`` with freshly initialised weights.

    Hugging Face models are rebuilt from their config (their own initialisation scheme); other
    modules are deep-copied and every submodule with ``reset_parameters`` is reset. The CPU random
    generator is seeded for the duration only, so the caller's random state is left as it was.
    """
    base = _base_model(model)
    device = next(base.parameters()).device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        config = getattr(base, "config", None)
        if config is not None and hasattr(type(base), "_from_config"):
            dtype = next(base.parameters()).dtype
            fresh = type(base)._from_config(copy.deepcopy(config), dtype=dtype)
        else:
            fresh = copy.deepcopy(base).cpu()
            resettable = [m for m in fresh.modules() if callable(getattr(m, "reset_parameters", None))]
            if not resettable:
                raise MubenchError(
                    f"cannot re-initialise a {type(base).__name__}: it has no config and no submodule "
                    "with reset_parameters()"
                )
            for module in resettable:
                module.reset_parameters()
    return fresh.to(device)


def random_teacher(model: nn.Module, accelerator: Accelerator, seed: int) -> nn.Module:
    """A frozen, randomly initialised model of the same architecture (an "incompetent teacher")."""
    teacher = _freeze(fresh_model(accelerator.unwrap_model(model), seed))
    return accelerator.prepare_model(teacher, evaluation_mode=True)
