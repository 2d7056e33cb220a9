"""Retraining on the retain set: the gold standard that unlearning imitates, defined once.

Where the reference starts is read from the original (base) model's card, never guessed:

* a base fine-tuned from a pretrained checkpoint (its card's ``recipe.init`` names one) → the reference
  starts from that same checkpoint, with a fresh, seeded classification head for the task's labels;
* a base built from a config (``tiny:resnet``, a ``config.json``), or any model without a mubench base
  card → fresh weights of the same architecture, seeded by ``args.seed``.

It never starts from the base's own weights. It is then trained with the task loss on Dr using the
training arguments given, which should be the base model's recipe (``mubench retrain`` and
``train_retrain`` read it from the card). Exact unlearning in the sense of Bourtoule et al., "Machine
Unlearning", IEEE S&P 2021 (SISA is its sharded, cheaper form).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from huggingface_hub import ModelCard
from torch import nn
from transformers import PretrainedConfig

from ..errors import MubenchError
from ..modeling import fresh_model
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method

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
    from ..hub.cards import read_provenance

    readme = Path(model) / "README.md"
    info = read_provenance(ModelCard.load(readme)) if readme.is_file() else {}
    init = (info.get("recipe") or {}).get("init") if info.get("kind") == "base" else None
    if isinstance(init, str) and is_pretrained_checkpoint(init):
        return init, False  # the pretrained checkpoint the base was fine-tuned from
    return model, True  # the architecture of the model, fresh weights


def describe_start(start: Any, fresh: bool) -> str:
    """How a reference started, as recorded in its card's recipe (``init``)."""
    name = start if isinstance(start, str) else f"config:{getattr(start, 'model_type', type(start).__name__)}"
    return f"fresh weights, architecture of {name}" if fresh else name


def _source_of(model: nn.Module) -> str | None:
    """The folder or Hub id the model was loaded from, if any."""
    path = getattr(getattr(model, "config", None), "_name_or_path", None)
    return str(path) if path else None


class RetrainTrainer(UnlearnTrainer):
    """The task loss on Dr from the retrain starting point of the given base model."""

    #: how the reference started (recorded in its card)
    start_description: str = ""

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        if hasattr(model, "peft_config"):
            raise MubenchError(
                "method 'retrain' trains from scratch, which an adapter on frozen pre-trained weights cannot "
                "do; pass the base model (e.g. model.get_base_model()) or its config instead of a PeftModel"
            )
        source = _source_of(model)
        start, fresh = retrain_start(source) if source and Path(source).is_dir() else (source, True)
        self.start_description = describe_start(start or type(model).__name__, fresh)
        if fresh:
            return fresh_model(model, args.seed)
        config = model.config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.seed)  # the new head's initialisation follows the seed
            return (
                type(model)
                .from_pretrained(
                    start,
                    num_labels=config.num_labels,
                    id2label=config.id2label,
                    label2id=config.label2id,
                    ignore_mismatched_sizes=True,
                )
                .to(next(model.parameters()).device)
            )


register_method(
    "retrain",
    trainer=RetrainTrainer,
    data_use=DataUse.RETAIN,
    # generation tasks train their reference with SFT (mubench_hf.generation.sft); a sweep's retrain row
    # scores it like any other model
    kinds=("classification", "generation"),
    citation='Bourtoule et al., "Machine Unlearning", IEEE S&P 2021',
)
