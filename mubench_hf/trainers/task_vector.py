"""Task vector negation: fine-tune on the forget set, then move the weights the other way.

Training is plain fine-tuning on Df (the task loss, as ``finetune`` on Dr), giving θft; when it ends the
weights become θo − α·(θft − θo): the "forget-set task vector" θft − θo is negated and added to θo. Every
floating-point parameter moves, buffers (unchanged by training) stay. Ilharco, Ribeiro, Wortsman,
Gururangan, Schmidt, Hajishirzi & Farhadi, "Editing Models with Task Arithmetic", ICLR 2023; the baseline
``tv`` of MUSE (Shi et al., "MUSE: Machine Unlearning Six-Way Evaluation for Language Models", 2024),
whose ``baselines/baselines/task_vector.py`` sets the scale α = 1 by default.

A run resumed from a checkpoint resumes the fine-tuning (checkpoints hold θft's progress) and negates at
its end as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from transformers.trainer_utils import TrainOutput

from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import Needs, register_method


@dataclass
class TaskVectorConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the scale of the negated task vector."""

    tv_alpha: float = field(
        default=1.0, metadata={"help": "α: the weights end at θo − α·(θft − θo) (MUSE's default 1)."}
    )


class TaskVectorTrainer(UnlearnTrainer):
    """Fine-tunes on Df (the base class's task loss), then negates the task vector."""

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        output = super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        self.negate_task_vector()
        return output

    @torch.no_grad()
    def negate_task_vector(self) -> None:
        """θ ← θo − α·(θ − θo) for every floating-point parameter."""
        original = dict(self.original_model.named_parameters())
        alpha = self.args.tv_alpha
        for name, param in self.model.named_parameters():
            if param.is_floating_point():
                start = original[name].to(param.device, param.dtype)
                param.copy_(start - alpha * (param - start))


register_method(
    "task_vector",
    trainer=TaskVectorTrainer,
    config=TaskVectorConfig,
    data_use=DataUse.FORGET,
    needs=(Needs.ORIGINAL,),
    kinds=("generation",),
    citation='Ilharco et al., "Editing Models with Task Arithmetic", ICLR 2023 (MUSE\'s tv baseline: Shi '
    'et al., "MUSE: Machine Unlearning Six-Way Evaluation for Language Models", 2024)',
    # measured on the tiny toy GPT-2: lr 1e-2 takes retain ROUGE-L from 0.80 to 0.04; 3e-3 keeps it at 0.81
    quick_settings=dict(learning_rate=3e-3, max_steps=15),
)
