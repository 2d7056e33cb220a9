"""Reset and distil: re-initialise the stem and the classifier head, pull the model back to θo's outputs,
then fine-tune on Dr with the labels and θo's softened outputs.

1. The model's first convolution (its stem) and its head (every weight outside the backbone: the
   classifier) get fresh initial weights, seeded by ``args.seed``;
2. warm-up, the first ``kd_warmup_epochs`` epochs: distillation only, KL(θo ‖ θ) of the outputs softened
   by the temperature T, on Dr's inputs;
3. then, every later epoch: soft cross-entropy −Σ_c p_c · log q_c + CE(θ(x), y) + KL(p ‖ q) on Dr, where
   p = softmax(θo(x)/T), q = softmax(θ(x)/T).

The idea: what the reset layers held about Df is gone, and the distillation on Dr only brings back what
θo does on data it keeps. A top entry of the NeurIPS 2023 Machine Unlearning Challenge on Kaggle (S.
Karipidis, "Unlearning by resetting layers", 7th on the private leaderboard; the competition:
Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024), as DeepUnlearn
implements it in ``munl/unlearning/kgltop6.py`` (T = 5; warm-up 3 epochs, SGD at 9e-4; then 3 epochs,
SGD at 1e-3 with a cosine schedule; both with momentum 0.9, weight decay 5e-4; no T² factor on the KL).

Where this differs from that file: its warm-up distils on the validation loader's inputs; here it distils
on Dr's, because the benchmark keeps its validation split for model selection, and nothing that chooses a
model may have trained on it. Both phases share one optimizer and schedule (``TrainingArguments``). The
stem is the first ``Conv1d``/``Conv2d``/``Conv3d`` (DeepUnlearn: a ResNet's ``conv1``; a model without a
convolution resets its head only), the head is what ``blocks.head_parameter_names`` names (DeepUnlearn:
``fc`` or ``head``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from ..search_space import DEFAULT_SPACE, Range
from .base import UnlearnTrainer
from .blocks import head_parameter_names, modules_owning
from .config import UnlearnConfig
from .conv_noise_finetune import stem_of
from .data import DataUse
from .registry import Needs, register_method


@dataclass
class ResetDistillConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the distillation temperature and the length of the warm-up."""

    kd_temperature: float = field(
        default=5.0, metadata={"help": "Softmax temperature T of θo and the student."}
    )
    kd_warmup_epochs: float = field(
        default=3.0,
        metadata={"help": "Epochs at the start that distil from θo only (KL), before the labels join in."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kd_temperature <= 0 or self.kd_warmup_epochs < 0:
            raise MubenchError(
                f"kd_temperature must be > 0 and kd_warmup_epochs >= 0, got {self.kd_temperature} "
                f"and {self.kd_warmup_epochs}"
            )


def reset_modules(modules: list[nn.Module], seed: int) -> None:
    """Fresh initial weights for each module (its own ``reset_parameters``), from the seeded generator."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in modules:
            module.reset_parameters()


def head_modules(model: nn.Module, method: str) -> list[nn.Module]:
    """The modules of the classifier head that can re-initialise themselves (an error if there are none)."""
    head = [m for m in modules_owning(model, head_parameter_names(model)) if hasattr(m, "reset_parameters")]
    if not head:
        raise MubenchError(
            f"{method} re-initialises the classifier head, and found none in {type(model).__name__} "
            "(no weights outside its backbone, base_model_prefix)"
        )
    return head


def stem_and_head(model: nn.Module) -> list[nn.Module]:
    """The first convolution (if any) and the modules of the head, in that order."""
    stem = stem_of(model)
    return ([stem] if stem is not None else []) + head_modules(model, "reset_distill")


class ResetDistillTrainer(UnlearnTrainer):
    """Reset the stem and head, distil from θo on Dr, then add the labels."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Reset only now: the base has copied θo (the teacher) from the weights as given.
        self.reset = stem_and_head(self.accelerator.unwrap_model(self.model))
        reset_modules(self.reset, self.args.seed)

    def in_warmup(self) -> bool:
        return (self.state.epoch or 0.0) < self.args.kd_warmup_epochs - 1e-9

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        objective, temperature = self.objective, self.args.kd_temperature
        logits = objective.outputs(model, inputs)
        with torch.no_grad():
            teacher = objective.outputs(self.original_model, inputs)
        kl = objective.kl_to_teacher(logits, teacher, inputs, temperature)
        if self.in_warmup():
            loss = kl
        else:
            teacher_probs = torch.softmax(teacher / temperature, dim=-1)
            student_log_probs, _ = objective.output_log_probs(logits, inputs, temperature)
            soft_ce = -(teacher_probs * student_log_probs).sum(-1).mean()
            loss = soft_ce + objective.loss(logits, inputs) + kl
        self.log_term("kl_to_original", kl)
        return (loss, {"logits": logits}) if return_outputs else loss


register_method(
    "reset_distill",
    trainer=ResetDistillTrainer,
    config=ResetDistillConfig,
    data_use=DataUse.RETAIN,
    needs=(Needs.ORIGINAL,),
    citation='NeurIPS 2023 Machine Unlearning Challenge entry (S. Karipidis, "Unlearning by resetting '
    'layers"), as DeepUnlearn\'s kgltop6; Triantafillou et al., "Are we making progress in unlearning?", '
    "arXiv 2406.09073, 2024",
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=3, kd_warmup_epochs=1),
    search_space={**DEFAULT_SPACE, "kd_temperature": Range(1.0, 10.0, log=True)},
)
