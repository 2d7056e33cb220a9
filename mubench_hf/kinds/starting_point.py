"""Where a retrain reference starts, for every task kind: the gold standard is defined once.

Where the reference starts is read from the original (base) model's card, never guessed:

* a base fine-tuned from a pretrained checkpoint (its card's ``recipe.init`` names one) → the reference
  starts from that same checkpoint (a classifier with a fresh, seeded head for the task's labels);
* a base built from a config (``tiny:resnet``, ``tiny:llama``, a ``config.json``), or any model without a
  mubench base card → fresh weights of the same architecture, seeded.

It never starts from the base's own weights. The retrain trainer (classification) and the SFT recipe
(generation) both take their starting model from :func:`retrain_starting_point`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard
from torch import nn
from transformers import PretrainedConfig

from ..errors import MubenchError
from ..modeling import fresh_model

# Recipe ``init`` values that name no pretrained checkpoint: the base started from fresh weights.
_FRESH_INITS = ("tiny:", "config:", "fresh weights")


def is_pretrained_checkpoint(init: str) -> bool:
    """Whether a card's ``recipe.init`` names a pretrained checkpoint (rather than a config)."""
    return not (init.startswith(_FRESH_INITS) or init.endswith(".json"))


def retrain_start(model: str | PretrainedConfig | None) -> tuple[Any, bool]:
    """Where the reference of the base model ``model`` starts: (a model spec, whether fresh weights).

    ``model`` is the base model's folder (or any model spec); see the module docstring for the rule.
    """
    if not isinstance(model, str):
        return model, True
    readme = Path(model) / "README.md"
    # the card's own mubench block says whether it is a base card and what the base started from
    info = dict(ModelCard.load(readme).data.get("mubench") or {}) if readme.is_file() else {}
    init = (info.get("recipe") or {}).get("init") if info.get("kind") == "base" else None
    if isinstance(init, str) and is_pretrained_checkpoint(init):
        return init, False  # the pretrained checkpoint the base was fine-tuned from
    return model, True  # the architecture of the model, fresh weights


def describe_start(start: Any, fresh: bool) -> str:
    """How a reference started, as recorded in its card's recipe (``init``)."""
    name = start if isinstance(start, str) else f"config:{getattr(start, 'model_type', type(start).__name__)}"
    return f"fresh weights, architecture of {name}" if fresh else name


def source_of(model: nn.Module) -> str | None:
    """The folder or Hub id the model was loaded from, if any."""
    path = getattr(getattr(model, "config", None), "_name_or_path", None)
    return str(path) if path else None


def retrain_starting_point(
    model: nn.Module, seed: int, load_checkpoint: Callable[[str], nn.Module], *, adapter_error: str
) -> tuple[nn.Module, str]:
    """The model a retrain reference of ``model`` (the base, as loaded) trains from, and how that is described
    in its card: fresh weights seeded by ``seed``, or ``load_checkpoint(start)`` of the pretrained checkpoint
    the base was fine-tuned from. A PEFT model is refused with ``adapter_error`` (an adapter on frozen
    weights cannot be trained from scratch)."""
    if hasattr(model, "peft_config"):
        raise MubenchError(adapter_error)
    source = source_of(model)
    start, fresh = retrain_start(source) if source and Path(source).is_dir() else (source, True)
    description = describe_start(start or type(model).__name__, fresh)
    if fresh:
        return fresh_model(model, seed), description
    return load_checkpoint(start), description
