"""One cell of a sweep: one method on one deletion config with one seed, scored by every metric.

A cell's record (``cell.json``) is written atomically and last, so its presence with ``status: done``,
the same settings and the core metrics means the cell is finished; anything else (no file, a corrupt
or partial one, other settings, an earlier failure) means it runs again. A cell that raises is
recorded with ``status: failed`` and its error, and the sweep moves on to the next cell.
"""

from __future__ import annotations

import math
import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import read_json_or_none, write_json_atomic
from .grid import RETRAIN
from .references import read_json_roundtrip

CELL_FILE = "cell.json"
# A finished cell must hold these as finite numbers; without them it is treated as partial.
CORE_METRICS = ("forget_accuracy", "retain_accuracy", "test_accuracy")


@dataclass
class Cell:
    """Everything one cell needs: what to run, where its inputs are and where it writes."""

    task: str
    config: str
    seed: int
    method: str
    arguments: dict[str, Any]  # the method's UnlearnConfig arguments (empty for retrain)
    identity: dict[str, Any]  # what else decides the result (base recipe, model, split seed)
    dataset_repo: str
    cache_dir: str
    base_dir: str
    retrain_dir: str
    output_dir: str
    save_model: bool = False

    @property
    def settings(self) -> dict[str, Any]:
        """What a stored result must match to be reused (as it reads back from JSON)."""
        return read_json_roundtrip(
            {
                "task": self.task,
                "config": self.config,
                "seed": self.seed,
                "method": self.method,
                "arguments": self.arguments,
                **self.identity,
            }
        )


def finished_record(cell: Cell) -> dict[str, Any] | None:
    """The stored record of ``cell`` if it is complete, valid and for the same settings; else ``None``."""
    record = read_json_or_none(Path(cell.output_dir) / CELL_FILE)
    if not isinstance(record, dict) or record.get("status") != "done":
        return None
    if record.get("settings") != cell.settings:
        return None
    metrics = record.get("metrics")
    if not isinstance(metrics, dict):
        return None
    for name in CORE_METRICS:
        value = metrics.get(name)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
    return record


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run ``cell`` (its folder is cleared first) and write its record; never raises for a method error."""
    folder = Path(cell.output_dir)
    shutil.rmtree(folder, ignore_errors=True)  # a partial earlier attempt
    folder.mkdir(parents=True)
    record: dict[str, Any] = {
        "task": cell.task,
        "config": cell.config,
        "seed": cell.seed,
        "method": cell.method,
        "settings": cell.settings,
    }
    start = time.perf_counter()
    try:
        metrics = _score_retrain(cell) if cell.method == RETRAIN else _unlearn(cell)
        record.update(status="done", metrics=_numbers(metrics))
    except KeyboardInterrupt:
        raise  # the user stops the sweep; finished cells are already on disk
    except Exception as err:  # one broken cell must not stop the grid: record it and go on
        record.update(
            status="failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(limit=8)
        )
    record["wall_s"] = time.perf_counter() - start
    write_json_atomic(folder / CELL_FILE, record)
    return record


def _numbers(metrics: dict[str, Any]) -> dict[str, float]:
    """The numeric metrics (the report also holds strings such as the config name)."""
    return {
        k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _quiet(trainer: Any) -> None:
    """Drop the callback that prints every log dict when tqdm is off: the sweep has its own bar and
    the numbers are in the cell's files."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def _load(cell: Cell, model_source: str) -> tuple[Any, Any]:
    import datasets

    from ..modeling import build_model
    from ..processing import prepare_splits

    raw = datasets.load_dataset(cell.dataset_repo, cell.config, cache_dir=cell.cache_dir)
    model = build_model(cell.task, model_source)
    return model, prepare_splits(raw, cell.task, model, None)


def _unlearn(cell: Cell) -> dict[str, Any]:
    from ..processing import data_collator_for
    from ..trainers import UnlearnTrainer, get_method

    model, splits = _load(cell, cell.base_dir)
    config_class = get_method(cell.method).config_class
    args = config_class(
        **{
            "report_to": "none",
            "save_strategy": "no",
            "logging_strategy": "no",
            "disable_tqdm": True,
            **cell.arguments,
            "method": cell.method,
            "output_dir": cell.output_dir,
            "retrain_reference": cell.retrain_dir,
            "seed": cell.seed,
        }
    )
    trainer = UnlearnTrainer(
        model=model, args=args, splits=splits, data_collator=data_collator_for(cell.task, None)
    )
    _quiet(trainer)
    trainer.train()
    report = trainer.evaluate_unlearning()  # also writes unlearning_results.json + predictions.npz
    trainer.create_model_card()
    if cell.save_model:
        trainer.save_model(cell.output_dir)
    return report


def _score_retrain(cell: Cell) -> dict[str, Any]:
    """The retrain row: the reference model itself, scored like any unlearned model (so its gap to
    retrain is 0 by construction) with its training time as the unlearning time."""
    from transformers import Trainer, TrainingArguments

    from ..evaluation import evaluate_unlearning
    from ..processing import data_collator_for

    model, splits = _load(cell, cell.retrain_dir)
    args = TrainingArguments(
        output_dir=cell.output_dir,
        report_to="none",
        disable_tqdm=True,
        seed=cell.seed,
        per_device_eval_batch_size=256,
    )
    trainer = Trainer(model=model, args=args, data_collator=data_collator_for(cell.task, None))
    _quiet(trainer)
    base = read_json_or_none(Path(cell.base_dir) / "train_results.json") or {}
    retrain = read_json_or_none(Path(cell.retrain_dir) / "train_results.json") or {}
    return evaluate_unlearning(
        trainer,
        splits,
        retrain=cell.retrain_dir,
        original_test_accuracy=base.get("test_accuracy"),
        unlearn_time_s=retrain.get("train_runtime"),
        output_dir=cell.output_dir,
        extra={"method": RETRAIN, "kind": "retrain"},
        log=False,
    )
