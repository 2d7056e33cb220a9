"""Per-split model outputs: computed once with ``Trainer.predict``, saved beside a model, read back.

A saved ``predictions.npz`` lets a retrained reference model be scored against many unlearned ones
without running it again, and records which task, config and samples it covers so that a reference
for another split is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm
from transformers import Trainer

from ...columns import column_numpy
from ...errors import MubenchError
from ...forward import logits_of
from ...rows import RowDataset
from ...tasks import SAMPLE_ID_COLUMN
from ...training import pinning_helps
from ..progress import show_progress

PREDICTIONS_FILE = "predictions.npz"
_META_KEY = "__metadata__"


@dataclass
class SplitPredictions:
    """A model's logits on one split, with the true labels and the rows' sample ids."""

    logits: np.ndarray
    labels: np.ndarray
    sample_ids: np.ndarray | None = None

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.logits.argmax(axis=1) == self.labels))


def sample_ids_of(dataset: Any) -> np.ndarray | None:
    """The ``sample_id`` column of a ``datasets.Dataset`` (transforms untouched), or ``None``."""
    if isinstance(dataset, datasets.Dataset) and SAMPLE_ID_COLUMN in dataset.column_names:
        return column_numpy(dataset, SAMPLE_ID_COLUMN).astype(np.int64)
    return None


def prediction_loader(trainer: Trainer, dataset: Any) -> torch.utils.data.DataLoader:
    """A loader over every row of ``dataset``, in order, whatever the training flags say.

    The report owns this loader rather than borrowing ``Trainer``'s evaluation loader, which follows
    ``dataloader_drop_last`` (a flag meant for training) and would silently score fewer rows.
    ``accelerate`` shards it across processes; ``gather_for_metrics`` drops the padding again.
    """
    args = trainer.args
    loader = torch.utils.data.DataLoader(
        RowDataset(dataset),
        batch_size=args.per_device_eval_batch_size,
        shuffle=False,
        drop_last=False,
        collate_fn=trainer.data_collator,
        num_workers=args.dataloader_num_workers,
        pin_memory=args.dataloader_pin_memory and pinning_helps(args.device),
    )
    return trainer.accelerator.prepare_data_loader(loader, device_placement=True)


@torch.no_grad()
def _outputs_over(
    trainer: Trainer, model: nn.Module, dataset: Any, split: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Logits (and labels, when the rows have them) of ``model`` over every row of ``dataset``."""
    if dataset is None or len(dataset) == 0:
        raise MubenchError(f"the {split} split is empty or missing: the unlearning report needs it")
    was_training = model.training
    model.eval()
    logits, labels = [], []
    try:
        loader = prediction_loader(trainer, dataset)
        quiet = not show_progress(trainer.args)
        for batch in tqdm(loader, desc=f"scoring {split}", disable=quiet, leave=False):
            batch = trainer._prepare_inputs(batch)
            gathered = trainer.accelerator.gather_for_metrics(logits_of(model, batch))
            logits.append(gathered.float().cpu())
            if "labels" in batch:
                labels.append(trainer.accelerator.gather_for_metrics(batch["labels"]).cpu())
    finally:
        model.train(was_training)
    out = torch.cat(logits).numpy()
    if len(out) != len(dataset):
        raise MubenchError(
            f"the {split} split has {len(dataset)} rows but {len(out)} were scored; the report must score "
            "every row (is the dataset's length right?)"
        )
    return out, (torch.cat(labels).numpy() if labels else None)


def predict_split(trainer: Trainer, dataset: Any, split: str) -> SplitPredictions:
    """One prediction pass of ``trainer.model`` over every row of ``dataset`` (the trainer's collator
    and devices, our own in-order loader)."""
    logits, labels = _outputs_over(trainer, trainer.model, dataset, split)
    if labels is None:
        raise MubenchError(f"the {split} split has no labels: the unlearning report needs them")
    return SplitPredictions(
        logits=np.asarray(logits, dtype=np.float32),
        labels=np.asarray(labels, dtype=np.int64),
        sample_ids=sample_ids_of(dataset),
    )


def logits_of_model(trainer: Trainer, model: nn.Module, dataset: Any, split: str = "the") -> np.ndarray:
    """Logits of another (frozen) model, e.g. a random teacher, over every row of ``dataset`` with the
    report's loader, so inputs are processed exactly as for the trainer's own model."""
    return _outputs_over(trainer, model, dataset, split)[0]


def save_predictions(
    path: str | os.PathLike, predictions: Mapping[str, SplitPredictions], metadata: Mapping[str, Any]
) -> Path:
    """Write ``predictions`` (one entry per split) and ``metadata`` to an ``.npz`` file."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {_META_KEY: np.array(json.dumps(dict(metadata), sort_keys=True))}
    for split, pred in predictions.items():
        arrays[f"{split}/logits"] = pred.logits
        arrays[f"{split}/labels"] = pred.labels
        if pred.sample_ids is not None:
            arrays[f"{split}/sample_ids"] = pred.sample_ids
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return path


def load_predictions(path: str | os.PathLike) -> tuple[dict[str, SplitPredictions], dict[str, Any]]:
    """Read a file written by :func:`save_predictions`: (predictions per split, metadata)."""
    path = Path(path)
    if not path.is_file():
        raise MubenchError(f"no predictions file at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            metadata = json.loads(str(data[_META_KEY])) if _META_KEY in data else {}
            splits = sorted({key.split("/")[0] for key in data.files if "/" in key})
            out = {
                split: SplitPredictions(
                    logits=data[f"{split}/logits"],
                    labels=data[f"{split}/labels"],
                    sample_ids=data[f"{split}/sample_ids"] if f"{split}/sample_ids" in data else None,
                )
                for split in splits
            }
    except (ValueError, OSError, KeyError) as err:  # not an npz, or object arrays that need unpickling
        raise MubenchError(f"{path} is not a predictions file mubench can read safely ({err})") from None
    return out, metadata
