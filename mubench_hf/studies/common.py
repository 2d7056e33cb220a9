"""What every study shares: its options, its sweeps, its own resumable cells, its table and its figure.

A study is made of ordinary sweeps (:func:`~mubench_hf.sweeps.run_grid`: splits, base and retrain models,
the plain cells, all resumable) plus, where the study changes how a method runs (LoRA adapters, a
curriculum), *variant cells*: the same cell with one change, written as ``cell.json`` in the study's
folder with the same checksummed record, so a finished one is reused and a damaged or missing one is
redone. The table (CSV and Markdown) and the figure are rewritten from the records every run.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ..sweeps.cells import CELL_FILE, Cell, is_done, record_checksum, unlearn_cell
from ..sweeps.files import read_json_or_none, write_json_atomic, write_text_if_changed
from ..sweeps.grid import Grid, make_grid
from ..sweeps.references import base_dir, retrain_dir, stored_digest
from ..sweeps.runner import SweepResult, make_cell, run_grid
from ..sweeps.summary import task_hashes

#: The metrics every study table shows (when the cells have them).
TABLE_METRICS = (
    "forget_accuracy",
    "retain_accuracy",
    "test_accuracy",
    "gap_to_retrain",
    "mubench_score",
    "unlearn_time_s",
)


@dataclass
class StudyOptions:
    """The settings every study takes (``mubench study NAME --help`` lists them as flags)."""

    task: str = "digits"
    methods: list[str] = field(default_factory=lambda: ["grad_ascent", "finetune"])
    seed: int = 42
    ratio: float = 5.0
    output: str = "studies"
    model: str = "tiny:resnet"
    base_recipe: dict[str, Any] = field(default_factory=dict)
    unlearn_args: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, dict[str, Any]] = field(default_factory=dict)  # per method, as in a grid
    show_progress: bool = True
    log: Callable[[str], None] = print

    def __post_init__(self) -> None:
        if not self.methods:
            raise MubenchError("give at least one method (e.g. --methods grad_ascent,finetune)")
        if "retrain" in self.methods:
            raise MubenchError(
                "retrain is the reference of every study, not a method to compare; leave it out"
            )

    def folder(self, study: str) -> Path:
        return Path(self.output) / study

    def grid(self, output: Path, **overrides: Any) -> Grid:
        """The grid of one of the study's sweeps (the retrain row is always scored: it is the reference)."""
        values = {
            "task": self.task,
            "methods": ["retrain", *self.methods],
            "ratios": [self.ratio],
            "seeds": [self.seed],
            "output": str(output),
            "model": self.model,
            "base_recipe": self.base_recipe,
            "unlearn_args": self.unlearn_args,
            "hyperparameters": self.hyperparameters,
        }
        return make_grid({**values, **overrides})

    def sweep(self, grid: Grid) -> SweepResult:
        # wait, not fail, when another process sweeps the same folder (e.g. `study hpo` started on several
        # machines): once it is done, its models are reused here
        result = run_grid(grid, show_progress=self.show_progress, log=self.log, wait_for_lock=True)
        for record in result.failed:
            self.log(f"note: cell {record['config']}/{record['method']} failed: {record.get('error')}")
        return result


def base_cell(grid: Grid, method: str, config: str | None = None) -> Cell:
    """The plain cell of ``method`` in a finished sweep of ``grid`` (its splits and models exist)."""
    config = config or grid.configs[0]
    seed = grid.seeds[0]
    splits = task_hashes(Path(grid.output)).get(grid.task)
    base, retrain = stored_digest(base_dir(grid, seed)), stored_digest(retrain_dir(grid, config, seed))
    if not (splits and base and retrain):
        raise MubenchError(
            f"the sweep in {grid.output} has no finished splits or reference models; run it first"
        )
    return make_cell(grid, config, seed, method, splits, base, retrain)


def variant_cell(cell: Cell, folder: Path, variant: dict[str, Any]) -> Cell:
    """``cell`` with a change (recorded in its settings, so another change is another cell), in ``folder``."""
    identity = {**cell.identity, "variant": variant}
    return replace(cell, identity=identity, output_dir=str(folder))


def run_variant(cell: Cell, run: Callable[[Cell], dict[str, Any]]) -> dict[str, Any]:
    """The record of a variant cell: the stored one when finished and for the same settings, else the
    record of ``run(cell)`` (its report), written atomically with its checksum. A failure is recorded."""
    folder = Path(cell.output_dir)
    stored = read_json_or_none(folder / CELL_FILE)
    if is_done(stored) and stored.get("settings") == cell.settings:
        return stored
    shutil.rmtree(folder, ignore_errors=True)
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
        metrics = run(cell)
        record.update(status="done", metrics=numbers(metrics))
    except KeyboardInterrupt:
        raise
    except Exception as err:  # one failing variant is recorded; the study goes on
        record.update(
            status="failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(limit=8)
        )
    record["wall_s"] = time.perf_counter() - start
    record["checksum"] = record_checksum(record)
    write_json_atomic(folder / CELL_FILE, record)
    return record


def numbers(report: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in report.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def train_and_score(cell: Cell, *, lora_rank: int = 0, objective: Any = None) -> dict[str, Any]:
    """What a sweep cell does (prepare, the method's trainer, train, score), with LoRA adapters of
    ``lora_rank`` and/or another task objective (``objective(base_objective)``)."""
    # MU-Bench's LoRA configs (mubench/lora_config.py) use lora_alpha = r: an update scale of 1.
    return unlearn_cell(cell, lora_rank=lora_rank, lora_alpha=lora_rank or None, objective=objective)


def metrics_of(record: dict[str, Any] | None) -> dict[str, float]:
    """A done record's metrics, else ``{}`` (its row then shows the failure)."""
    return dict(record["metrics"]) if is_done(record) else {}


def cell_record(grid: Grid, method: str, config: str | None = None) -> dict[str, Any] | None:
    """The stored record of a plain sweep cell."""
    config = config or grid.configs[0]
    return read_json_or_none(
        Path(grid.output) / "cells" / config / f"seed{grid.seeds[0]}" / method / CELL_FILE
    )


def table_row(info: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """One row of a study table: what varies (``info``), then the metrics (or the failure)."""
    row = dict(info)
    metrics = metrics_of(record)
    for name in TABLE_METRICS:
        row[name] = metrics.get(name)
    row["status"] = "done" if metrics else (record or {}).get("error", "missing")
    return row


# --------------------------------------------------------------------------- tables and figures
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def write_table(
    rows: Sequence[dict[str, Any]], folder: Path, title: str, notes: Sequence[str] = ()
) -> tuple[Path, Path]:
    """``results.csv`` (full precision) and ``results.md`` (4 decimals, with ``notes``) in ``folder``."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    lines = [f"# {title}", "", *notes, "" if notes else "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---:" if _numeric(rows, c) else "---" for c in columns) + "|")
    lines += ["| " + " | ".join(_text(row.get(c)) for c in columns) + " |" for row in rows]
    csv_path, md_path = folder / "results.csv", folder / "results.md"
    write_text_if_changed(csv_path, buffer.getvalue())
    write_text_if_changed(md_path, "\n".join(lines) + "\n")
    return csv_path, md_path


def _numeric(rows: Sequence[dict[str, Any]], column: str) -> bool:
    values = [row.get(column) for row in rows if row.get(column) is not None]
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def line_figure(
    rows: Sequence[dict[str, Any]],
    *,
    x: str,
    series: str,
    panels: Sequence[str],
    path: Path,
    title: str,
    x_label: str | None = None,
) -> Path:
    """One panel per metric in ``panels``: the metric against ``x``, one line per value of ``series``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    names = list(dict.fromkeys(str(row[series]) for row in rows))
    for ax, metric in zip(axes[0], panels):
        for name in names:
            points = sorted(
                (row[x], row[metric])
                for row in rows
                if str(row[series]) == name and row.get(metric) is not None and row.get(x) is not None
            )
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
        ax.set_xlabel(x_label or x)
        ax.set_title(metric.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@dataclass
class StudyResult:
    """What a study wrote."""

    rows: list[dict[str, Any]]
    table_csv: Path
    table_md: Path
    figure: Path
    findings: list[str]

    def describe(self) -> str:
        lines = [*self.findings, f"table -> {self.table_csv}, {self.table_md}", f"figure -> {self.figure}"]
        return "\n".join(lines)
