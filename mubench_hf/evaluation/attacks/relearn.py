"""The relearning attack (Hu et al., ICLR 2025, "Unlearning or obfuscating? Jogging the memory of unlearned
LLMs via benign relearning"): fine-tune a copy of the unlearned model for a fixed, small number of optimizer
steps on a seeded part of Df, then measure the forget metric on the *rest* of Df. Knowledge that the
unlearning only hid comes back on rows the attack never trained on.

This differs from the relearn *time* (:mod:`mubench_hf.evaluation.relearn`, classification): that counts steps
until the original forget accuracy is back; this fixes the steps and reports the forget metric they reach.
The fine-tuning is ``transformers.Trainer`` with the task's own loss (the model's forward with labels), AdamW,
a constant learning rate, no warmup or weight decay, seeded shuffling; the model being scored is not changed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import nn
from transformers import PrinterCallback

from ...errors import MubenchError
from ...rows import RowDataset
from ...training import MubenchTrainer
from ..relearn import fine_tuning_arguments
from .quantize import plain_copy
from .settings import AttackSettings


def relearn_parts(
    rows: int, share: float, seed: int, *, groups: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(rows relearned on, rows scored): a seeded permutation of ``range(rows)`` cut at ``round(share*rows)``
    (at least one row on each side), each part sorted. With ``groups`` (one id per row: a MUSE-shaped task's
    documents) the permutation is of the distinct ids, cut at ``round(share * ids)``, and a row goes where its
    id goes, so no document is both relearned on and scored."""
    if groups is not None:
        if len(groups) != rows:
            raise MubenchError(f"relearn_parts: {len(groups)} group ids for {rows} rows")
        ids = np.array(sorted(set(groups)))
        if len(ids) < 2:
            raise MubenchError(
                "the relearning attack on a task that deletes whole documents needs at least 2 forget "
                f"documents (one to relearn on, one to score); got {len(ids)}"
            )
        learned_ids, _ = relearn_parts(len(ids), share, seed)
        learned = np.isin(np.asarray(groups), ids[learned_ids])
        return np.flatnonzero(learned), np.flatnonzero(~learned)
    if rows < 2:
        raise MubenchError(
            f"the relearning attack needs at least 2 forget rows (one to relearn on, one to score); got {rows}"
        )
    cut = min(max(1, round(share * rows)), rows - 1)
    order = np.random.default_rng(seed).permutation(rows)
    return np.sort(order[:cut]), np.sort(order[cut:])


def relearned_copy(
    model: nn.Module,
    rows: Any,
    *,
    data_collator: Any,
    settings: AttackSettings,
    seed: int,
    use_cpu: bool = False,
) -> nn.Module:
    """A copy of ``model`` fine-tuned for ``settings.relearn_steps`` optimizer steps on ``rows`` (the forget
    rows relearned on, with the task's transform or encoded columns, as the unlearning trainer reads them)."""
    student = plain_copy(model)
    student.requires_grad_(True)
    with tempfile.TemporaryDirectory() as scratch:
        args = fine_tuning_arguments(
            scratch,
            settings.relearn_steps,
            settings.relearn_learning_rate,
            settings.relearn_batch_size,
            seed=seed,
            use_cpu=use_cpu,
        )
        trainer = MubenchTrainer(
            model=student, args=args, train_dataset=RowDataset(rows), data_collator=data_collator
        )
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    student.requires_grad_(False)
    return student.eval()
