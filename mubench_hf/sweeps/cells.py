"""One cell of a sweep: one method on one deletion config with one seed, scored by every metric.

A cell's record (``cell.json``) is written atomically and last, with a SHA-256 checksum of its content
(settings, status, metrics). It counts as finished only when it is there with ``status: done``, the
same settings (which include the checksums of the splits, base and retrain models it was made from),
finite core metrics and a checksum that still matches: anything else (no file, a corrupt or partial
one, a hand-edited number, other settings, an earlier failure) means the cell runs again. A cell whose
method raises is recorded with ``status: failed`` and its error, and the sweep moves on to the next
cell; a full disk or an unwritable folder is not the method's fault and stops the sweep instead.
"""

from __future__ import annotations

import math
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..faults import classify
from ..secrets import redact
from .files import read_json_or_none, value_checksum, write_json_atomic
from .grid import RETRAIN, Grid
from .references import read_json_roundtrip
from .step_cell import CELL_FILE, MODEL_WEIGHTS, START_WEIGHTS, run_step, step_is_current

CHECKSUM_KEY = "checksum"
# A finished cell must hold these as finite numbers; without them it is treated as partial.
CORE_METRICS = ("forget_accuracy", "retain_accuracy", "test_accuracy")
# ... or, for generation tasks (their report has no accuracies), these.
GENERATION_CORE_METRICS = ("forget_rouge_l", "retain_rouge_l")
# The unlearn_args the retrain row's report reads too (its arguments hold only these): it must score the
# same rows as the cells it is compared with.
REPORT_ARGUMENTS = ("max_eval_rows", "eval_sample_seed")
REPORT_CACHE = ".report_cache"


def report_arguments(unlearn_args: dict[str, Any]) -> dict[str, Any]:
    """The retrain row's arguments: what of a grid's ``unlearn_args`` its report reads too (none given:
    ``{}``, as before, so the retrain rows of earlier sweeps are still finished)."""
    return {name: unlearn_args[name] for name in REPORT_ARGUMENTS if name in unlearn_args}


@dataclass
class Cell:
    """Everything one cell needs: what to run, where its inputs are and where it writes."""

    task: str
    config: str
    seed: int
    method: str
    arguments: dict[str, Any]  # the method's UnlearnConfig arguments (retrain: the attack settings, if any)
    identity: dict[str, Any]  # what else decides the result (base recipe, model, split seed, references)
    dataset_repo: str
    cache_dir: str
    base_dir: str
    retrain_dir: str
    output_dir: str
    save_model: bool = False
    # a step of a request chain (sequential.py): schedule, step, original_dir, previous (the folder of the
    # step before, whose saved model this one starts from); its identity holds the same
    step: dict[str, Any] | None = None

    @property
    def report_cache_dir(self) -> str:
        """Where the cells' reports keep the base and retrain models' values (beside the datasets cache,
        inside the sweep folder): every cell scores the same references, so they are computed once."""
        return str(Path(self.cache_dir).parent / REPORT_CACHE)

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


def record_checksum(record: dict[str, Any]) -> str:
    """The checksum of a cell record: SHA-256 of everything in it but the checksum itself."""
    return value_checksum(read_json_roundtrip({k: v for k, v in record.items() if k != CHECKSUM_KEY}))


def is_intact(record: Any) -> bool:
    """A record that reads as a mapping and whose checksum matches its content."""
    return isinstance(record, dict) and record.get(CHECKSUM_KEY) == record_checksum(record)


def is_done(record: Any) -> bool:
    """An intact record of a finished cell with finite core metrics."""
    if not is_intact(record) or record.get("status") != "done":
        return False
    metrics = record.get("metrics")
    if not isinstance(metrics, dict):
        return False
    generation = "forget_rouge_l" in metrics and "forget_accuracy" not in metrics
    core = GENERATION_CORE_METRICS if generation else CORE_METRICS
    for name in core:
        value = metrics.get(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return False
    return True


def finished_record(cell: Cell) -> dict[str, Any] | None:
    """The stored record of ``cell`` if it is complete, intact and for the same settings; else ``None``."""
    record = read_json_or_none(Path(cell.output_dir) / CELL_FILE)
    if not is_done(record) or record.get("settings") != cell.settings:
        return None
    if cell.step is not None and not step_is_current(cell, record):
        return None  # its saved model, or the model it started from, changed since
    return record


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run ``cell`` (its folder is cleared first) and write its record; a method's error is recorded,
    not raised. Ctrl-C, a full disk and an unwritable folder propagate: they stop the whole sweep."""
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
        if cell.step is not None:
            metrics = run_step(cell)
            record.update({key: metrics.get(key) for key in (MODEL_WEIGHTS, START_WEIGHTS)})
        else:
            metrics = _score_retrain(cell) if cell.method == RETRAIN else unlearn_cell(cell)
        record.update(status="done", metrics=_numbers(metrics))
    except KeyboardInterrupt:
        raise  # the user stops the sweep; finished cells are already on disk
    except Exception as err:  # one broken cell must not stop the grid: record it and go on
        if classify(err) is not None:
            raise  # the disk or the folder, not the method: every later cell would fail the same way
        record.update(
            status="failed",
            error=redact(f"{type(err).__name__}: {err}"),  # a Hub error may quote the token
            traceback=redact(traceback.format_exc(limit=8)),
        )
    record["wall_s"] = time.perf_counter() - start
    record[CHECKSUM_KEY] = record_checksum(record)
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


def unlearn_cell(
    cell: Cell,
    *,
    lora_rank: int = 0,
    lora_alpha: int | None = None,
    objective: Any = None,
    before_training: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """What a cell does: prepare its splits and base model, run the method's trainer, score it (and
    save the model when asked). Studies run variants through the same path: LoRA adapters of
    ``lora_rank`` (``lora_alpha``, default 2·r), another task objective (``objective(base)``), or
    ``before_training(trainer)`` called on the built trainer (a search adds its pruning callback there)."""
    from ..kinds import kind_of
    from ..pipeline import prepare, unlearning_trainer
    from ..trainers import get_spec

    prepared = prepare(
        cell.dataset_repo, cell.config, cell.base_dir, task=cell.task, cache_dir=cell.cache_dir,
        lora_rank=lora_rank, lora_alpha=lora_alpha,
    )  # fmt: skip
    args = get_spec(cell.method).config(
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
            "report_cache_dir": cell.report_cache_dir,
        }
    )
    kwargs = {} if objective is None else {"objective": objective(kind_of(prepared.task).objective())}
    trainer = unlearning_trainer(prepared, args, **kwargs)
    _quiet(trainer)
    if before_training is not None:
        before_training(trainer)
    trainer.train()
    report = trainer.evaluate_unlearning()  # also writes unlearning_results.json + predictions.npz
    trainer.create_model_card(report=report)
    if cell.save_model:
        trainer.save_model(cell.output_dir)
    return report


def cell_arguments(grid: Grid, method: str, config: str) -> dict[str, Any]:
    """The arguments of ``method``'s cells of ``config``: the method's (``Grid.method_arguments``); the retrain
    row has none but the grid's attack settings and report bound."""
    if method != RETRAIN:
        return grid.method_arguments(method, config)
    # the retrain row scores the same rows as the cells it is compared with (a max_eval_rows bound)
    return {**attack_arguments(grid.unlearn_args), **report_arguments(grid.unlearn_args)}


def attack_arguments(unlearn_args: dict[str, Any]) -> dict[str, Any]:
    """The attack settings among a grid's ``unlearn_args`` (empty when it asks for no attack): the retrain
    row is attacked too, as the baseline of what attacks bring back from a model that never saw Df."""
    from ..evaluation.attacks.settings import ARG_FIELDS

    if not unlearn_args.get("attacks"):
        return {}
    return {name: value for name, value in unlearn_args.items() if name in ARG_FIELDS}


def _score_retrain(cell: Cell) -> dict[str, Any]:
    """The retrain row: the reference model itself, scored like any unlearned model (so its gap to
    retrain is 0 by construction) with its training time as the unlearning time, and attacked when the
    grid asks for attacks."""
    from ..evaluation.attacks.settings import AttackSettings
    from ..pipeline import prepare, score

    prepared = prepare(
        cell.dataset_repo, cell.config, cell.retrain_dir, task=cell.task, cache_dir=cell.cache_dir
    )
    base = read_json_or_none(Path(cell.base_dir) / "train_results.json") or {}
    retrain = read_json_or_none(Path(cell.retrain_dir) / "train_results.json") or {}
    return score(
        prepared,
        output_dir=cell.output_dir,
        retrain=cell.retrain_dir,
        original_test_accuracy=base.get("test_accuracy"),
        base_model=cell.base_dir,
        unlearn_time_s=retrain.get("train_runtime"),
        extra={"method": RETRAIN, "kind": "retrain"},
        seed=cell.seed,
        max_eval_rows=cell.arguments.get("max_eval_rows"),
        eval_sample_seed=cell.arguments.get("eval_sample_seed"),
        report_cache_dir=cell.report_cache_dir,
        attacks=AttackSettings.from_args(cell.arguments) if cell.arguments else None,
    )
