"""Retraining from scratch on the retain set: the gold standard that unlearning imitates.

The model is re-initialised from its own config (seeded by ``args.seed``) and trained with
cross-entropy on Dr using the training arguments given, which should be the recipe of the original
model. Exact unlearning in the sense of Bourtoule et al., "Machine Unlearning", IEEE S&P 2021 (SISA is
its sharded, cheaper form).
"""

from __future__ import annotations

from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method
from .teachers import fresh_model


@register_method
class RetrainTrainer(UnlearnTrainer):
    """Cross-entropy on Dr from a fresh initialisation of the model's architecture."""

    method = "retrain"
    data_use = DataUse.RETAIN

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        if hasattr(model, "peft_config"):
            raise MubenchError(
                "method 'retrain' trains from scratch, which an adapter on frozen pre-trained weights cannot "
                "do; pass the base model (e.g. model.get_base_model()) or its config instead of a PeftModel"
            )
        return fresh_model(model, args.seed)
