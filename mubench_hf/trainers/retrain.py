"""Retraining on the retain set: the gold standard that unlearning imitates, defined once.

Where the reference starts is read from the original (base) model's card, never guessed
(``mubench_hf.kinds.starting_point``): the pretrained checkpoint the base was fine-tuned from, with a
fresh, seeded classification head for the task's labels, or fresh weights of the same architecture,
seeded by ``args.seed``. It never starts from the base's own weights. It is then trained with the task
loss on Dr using the training arguments given, which should be the base model's recipe (``mubench retrain`` and
``train_retrain`` read it from the card). Exact unlearning in the sense of Bourtoule et al., "Machine
Unlearning", IEEE S&P 2021 (SISA is its sharded, cheaper form).
"""

from __future__ import annotations

import torch
from torch import nn

from ..kinds.starting_point import (  # noqa: F401  (importable from here too)
    describe_start,
    is_pretrained_checkpoint,
    retrain_start,
    retrain_starting_point,
)
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method


class RetrainTrainer(UnlearnTrainer):
    """The task loss on Dr from the retrain starting point of the given base model."""

    #: how the reference started (recorded in its card)
    start_description: str = ""

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        def from_checkpoint(start: str) -> nn.Module:
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

        student, self.start_description = retrain_starting_point(
            model,
            args.seed,
            from_checkpoint,
            adapter_error="method 'retrain' trains from scratch, which an adapter on frozen pre-trained weights "
            "cannot do; pass the base model (e.g. model.get_base_model()) or its config instead of a PeftModel",
        )
        return student


register_method(
    "retrain",
    trainer=RetrainTrainer,
    data_use=DataUse.RETAIN,
    # generation tasks train their reference with SFT (the generation kind's base recipe); a sweep's retrain row
    # scores it like any other model
    kinds=("classification", "generation"),
    citation='Bourtoule et al., "Machine Unlearning", IEEE S&P 2021',
    # after request i the gold standard never saw any requested row: it is trained on Dr_i, without Df_≤i
    sequential_forget="cumulative",
)
