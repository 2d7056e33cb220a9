"""UNSIR: learn error-maximising noise for the forget classes, train on it with Dr (impair), then on Dr
alone (repair).

Before training, for each class c present in Df a batch of noise inputs N_c (the shape of one forget
input, ``unsir_noise_rows`` rows, seeded N(0, 1) start) is optimised with Adam at the model's fixed
weights to maximise the error on c: loss = −CE(θ(N_c), c) + λ·mean_i ‖N_c,i‖²; the model is in eval
mode. Training then has two phases, counted in optimizer steps: the first ``unsir_impair_epochs``
passes over Dr are impair steps, whose batches are the retain batch plus as many noise rows (labelled
with their class, cycled through the noise batches); every later step is a repair step, plain
cross-entropy on Dr. Tarun, Chundawat, Mandal & Kankanhalli, "Fast Yet Effective Machine Unlearning",
IEEE TNNLS 2023; defaults from the authors' notebook (vikram2000b/Fast-Machine-Unlearning,
``Machine Unlearning.ipynb``): 256 noise rows, Adam at 0.1 for 5 × 8 = 40 steps, λ = 0.1, one impair
and one repair epoch.

Where this differs from the notebook: it learns noise for every class of Df (the notebook forgets whole
classes; for random deletion that is each class with forget rows) and labels each noise batch with its
own class (the notebook labels every noise batch 0, its first forgotten class); the impair batches mix
noise and retain rows half and half (the notebook shuffles 20 copies of each noise batch with a 1000-row-
per-class retain subset, about half noise for its two forgotten classes); both phases share one
optimizer and schedule (``TrainingArguments``), where the notebook restarts Adam at 0.02 and 0.01. The
noise replaces the batch's floating-point input (pixel values, waveforms, frames); other inputs (token
ids, masks) are those of the class's forget rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Subset

from ..errors import MubenchError
from ..forward import concat_batches
from ..rows import RowDataset
from .base import UnlearnTrainer
from .boundary_shrink import continuous_inputs
from .config import UnlearnConfig
from .data import DataUse, check_datasets, read_labels
from .registry import register_method

IMPAIR, REPAIR = "impair", "repair"


@dataclass
class UNSIRConfig(UnlearnConfig):
    """``UnlearnConfig`` plus UNSIR's noise and phase settings."""

    unsir_noise_rows: int = field(default=256, metadata={"help": "Noise inputs learned per forget class."})
    unsir_noise_steps: int = field(default=40, metadata={"help": "Adam steps that learn each class's noise."})
    unsir_noise_lr: float = field(default=0.1, metadata={"help": "Adam learning rate of the noise."})
    unsir_noise_l2: float = field(
        default=0.1, metadata={"help": "λ: weight of the mean squared norm of a noise input in its loss."}
    )
    unsir_impair_epochs: int = field(
        default=1, metadata={"help": "Passes over Dr whose batches carry noise rows; later steps repair."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.unsir_noise_rows, self.unsir_noise_steps) < 1 or self.unsir_impair_epochs < 0:
            raise MubenchError(
                "unsir_noise_rows and unsir_noise_steps must be >= 1, unsir_impair_epochs >= 0"
            )
        if self.unsir_noise_lr <= 0 or self.unsir_noise_l2 < 0:
            raise MubenchError("unsir_noise_lr must be > 0 and unsir_noise_l2 >= 0")


class UNSIRTrainer(UnlearnTrainer):
    """Impair steps on Dr plus error-maximising noise, then repair steps on Dr."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Batches come from Dr (the declared data use); the noise is learned from Df's classes and inputs.
        check_datasets(self.method, DataUse.FORGET, self.forget_dataset, None)
        step_rows = self.args.per_device_train_batch_size * self.args.gradient_accumulation_steps
        step_rows *= self.args.world_size
        self.impair_steps = self.args.unsir_impair_epochs * math.ceil(len(self.retain_dataset) / step_rows)
        self.noise: list[dict[str, torch.Tensor]] = []  # one batch per class: inputs, noise and labels
        self.noise_cursor = 0

    def phase(self, step: int) -> str:
        return IMPAIR if step < self.impair_steps else REPAIR

    def class_template(self, label: int) -> dict[str, Any]:
        """``unsir_noise_rows`` forget rows of class ``label`` (cycled), collated: the noise's other inputs."""
        labels = read_labels(self.forget_dataset, "the forget set")
        rows = np.flatnonzero(labels == label)
        chosen = [int(rows[i % len(rows)]) for i in range(self.args.unsir_noise_rows)]
        collate = self._get_collator_with_removed_columns(self.data_collator, "noise")
        subset = Subset(RowDataset(self.forget_dataset), chosen)
        return self._prepare_inputs(collate([subset[i] for i in range(len(subset))]))

    def initial_noise(self, template: torch.Tensor, label: int) -> torch.Tensor:
        """The seeded N(0, 1) start of class ``label``'s noise, shaped like ``template``."""
        generator = torch.Generator().manual_seed(self.args.seed * 1009 + label)
        return torch.randn(template.shape, generator=generator, dtype=template.dtype).to(template.device)

    def noise_loss(self, batch: dict[str, Any], key: str, label: int) -> torch.Tensor:
        """−CE(θ(N), c) + λ·mean_i ‖N_i‖² for the noise ``batch[key]`` of class ``label``."""
        model = self.accelerator.unwrap_model(self.model)
        logits = self.objective.outputs(model, batch)
        target = {**batch, "labels": torch.full_like(batch["labels"], label)}
        squares = batch[key].pow(2).flatten(1).sum(dim=1).mean()
        return -self.objective.loss(logits, target) + self.args.unsir_noise_l2 * squares

    def learn_noise(self, label: int) -> dict[str, torch.Tensor]:
        batch = self.class_template(label)
        keys = continuous_inputs(batch)
        if len(keys) != 1:
            raise MubenchError(
                f"unsir learns noise for one floating-point input (pixel values, waveforms); this batch has {keys}"
            )
        key = keys[0]
        noise = nn.Parameter(self.initial_noise(batch[key], label))
        optimizer = torch.optim.Adam([noise], lr=self.args.unsir_noise_lr)
        for _ in range(self.args.unsir_noise_steps):
            loss = self.noise_loss({**batch, key: noise}, key, label)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return {**batch, key: noise.detach(), "labels": torch.full_like(batch["labels"], label)}

    def before_unlearning(self) -> None:
        model = self.accelerator.unwrap_model(self.model)
        was_training = model.training
        model.eval()
        frozen = [p for p in model.parameters() if p.requires_grad]
        for p in frozen:  # only the noise learns here
            p.requires_grad_(False)
        try:
            classes = sorted(set(read_labels(self.forget_dataset, "the forget set").tolist()))
            self.noise = [self.learn_noise(c) for c in classes]
        finally:
            for p in frozen:
                p.requires_grad_(True)
            model.train(was_training)

    def noise_rows(self, count: int) -> dict[str, torch.Tensor]:
        """The next ``count`` noise rows, cycling through every class's noise batch."""
        everything = self.noise[0] if len(self.noise) == 1 else concat_batches_all(self.noise)
        total = len(everything["labels"])
        index = torch.arange(self.noise_cursor, self.noise_cursor + count) % total
        self.noise_cursor = (self.noise_cursor + count) % total
        return {k: v[index.to(v.device)] for k, v in everything.items()}

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        batch = inputs
        if self.phase(self.state.global_step) == IMPAIR and self.noise:
            noise = self.noise_rows(len(inputs["labels"]))
            batch = concat_padded({k: inputs[k] for k in noise}, noise)
        logits = self.objective.outputs(model, batch)
        loss = self.objective.loss(logits, batch)
        return (loss, {"logits": logits}) if return_outputs else loss


def concat_padded(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two batches as one, token columns right-padded with 0 to the longer one first: the collator pads
    text per batch, so one class's noise template (image_text: pixels + a question) and the next batch
    can hold questions of different padded lengths (a padded position has attention mask 0)."""
    padded_first, padded_second = dict(first), dict(second)
    for key, value in first.items():
        other = second[key]
        if not (isinstance(value, torch.Tensor) and value.dim() == 2 and not value.is_floating_point()):
            continue
        width = max(value.shape[1], other.shape[1])
        padded_first[key] = nn.functional.pad(value, (0, width - value.shape[1]))
        padded_second[key] = nn.functional.pad(other, (0, width - other.shape[1]))
    return concat_batches(padded_first, padded_second)


def concat_batches_all(batches: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    joined = batches[0]
    for batch in batches[1:]:
        joined = concat_padded(joined, batch)
    return joined


register_method(
    "unsir",
    trainer=UNSIRTrainer,
    config=UNSIRConfig,
    data_use=DataUse.RETAIN,
    citation='Tarun, Chundawat, Mandal & Kankanhalli, "Fast Yet Effective Machine Unlearning", IEEE TNNLS 2023',
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=2),
)
