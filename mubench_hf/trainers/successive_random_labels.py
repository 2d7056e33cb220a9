"""Successive random labels: random labelling whose wrong labels are drawn afresh at every visit.

Training runs on Dr together with Df, with cross-entropy; each time a forget row is read its label is
replaced by a class drawn uniformly from all K classes (its own included), so the model sees a new
random target for the row every epoch instead of one fixed wrong class (``random_label``: drawn once,
never the true class). DeepUnlearn's ``munl/unlearning/successive_random_labels.py`` (its
``RandomRelabelDataset`` draws ``randint(0, K)`` on every ``__getitem__``; the method is that
benchmark's own baseline, after the random-label "RL" of Golatkar et al., CVPR 2020).

The draw happens in ``compute_loss`` on the rows this trainer marks as forget rows (label −1), from a
generator seeded by ``args.seed``, the process and a counter of micro-batches, so a run is repeatable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import ConcatDataset

from ..rows import RowDataset
from .base import UnlearnTrainer
from .data import DataUse, RelabelledDataset
from .registry import register_method

REDRAW = -1  # the label that marks a forget row (a class index is never negative)


class SuccessiveRandomLabelsTrainer(UnlearnTrainer):
    """Cross-entropy on Dr ∪ Df, each forget row's label redrawn uniformly over all classes per visit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        marked = RelabelledDataset(self.forget_dataset, np.full(len(self.forget_dataset), REDRAW))
        self.train_dataset = ConcatDataset([marked, RowDataset(self.retain_dataset)])
        self.draws = 0

    def draw_labels(self, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
        """``labels`` with every ``REDRAW`` entry replaced by a uniform class in 0..K−1."""
        marked = labels == REDRAW
        generator = torch.Generator().manual_seed(
            # hash() of a tuple of ints does not depend on PYTHONHASHSEED: the same draws every run
            hash((self.args.seed, self.args.process_index, self.draws)) % (2**63)
        )
        self.draws += 1
        fresh = torch.randint(0, num_classes, labels.shape, generator=generator).to(labels.device)
        return torch.where(marked, fresh, labels)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        logits = self.objective.outputs(model, inputs)
        batch = {**inputs, "labels": self.draw_labels(inputs["labels"], logits.shape[-1])}
        loss = self.objective.loss(logits, batch)
        return (loss, {"logits": logits}) if return_outputs else loss


register_method(
    "successive_random_labels",
    trainer=SuccessiveRandomLabelsTrainer,
    data_use=DataUse.UNION_RELABELLED,
    citation='Cadet et al., "Deep Unlearn: Benchmarking Machine Unlearning", arXiv 2410.01276, 2024',
    quick_settings=dict(learning_rate=2e-3, num_train_epochs=3),
)
