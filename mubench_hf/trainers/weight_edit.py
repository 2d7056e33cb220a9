"""What the retrain-free methods that edit the weights once (Fisher forgetting, influence unlearning)
share: a seeded subset of a split, a loader over it, and the ``TrainOutput`` of a step-less ``train()``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset
from transformers.trainer_utils import TrainOutput, speed_metrics

from ..rows import RowDataset


def bounded_rows(dataset: Any, limit: int, seed: int) -> Any:
    """``dataset`` itself, or a seeded random subset of ``limit`` rows when it is longer (0 = no limit)."""
    rows = RowDataset(dataset)
    if not limit or len(rows) <= limit:
        return rows
    chosen = np.sort(np.random.default_rng(seed).choice(len(rows), size=limit, replace=False))
    return Subset(rows, chosen.tolist())


class WeightEditMixin:
    """For a ``UnlearnTrainer`` whose ``train()`` edits the weights without optimizer steps."""

    def row_loader(self, dataset: Any, batch_size: int) -> DataLoader:
        """Batches of ``dataset`` in order, collated as the trainer's evaluation batches are."""
        collate = self._get_collator_with_removed_columns(self.data_collator, "weight edit")
        return DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate)

    def trainable(self) -> list[tuple[str, torch.nn.Parameter]]:
        model = self.accelerator.unwrap_model(self.model)
        return [(n, p) for n, p in model.named_parameters() if p.requires_grad]

    def step_less_output(self, start: float, num_samples: int, **extra: float) -> TrainOutput:
        metrics = speed_metrics("train", start, num_samples=num_samples, num_steps=0)
        metrics.update(extra)
        self.log(metrics)
        return TrainOutput(self.state.global_step, 0.0, metrics)
