"""Run a whole grid: splits once, reference models once per seed (and config), then every cell.

Everything is resumable: splits, reference models and finished cells on disk are reused, so running
the same command again after Ctrl-C or a crash only does what is missing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .aggregate import aggregate
from .cells import Cell, finished_record, run_cell
from .grid import Grid
from .outputs import leaderboard_markdown, write_csv, write_figures, write_jsonl, write_text
from .references import base_dir, cache_dir, ensure_base, ensure_retrain, ensure_splits, retrain_dir


@dataclass
class SweepResult:
    """What :func:`run_grid` did and where it wrote it."""

    records: list[dict[str, Any]]  # every cell's record (done or failed)
    rows: list[dict[str, Any]]  # aggregated: one per (task, config, method)
    outputs: dict[str, Path] = field(default_factory=dict)  # what -> file
    figures: list[Path] = field(default_factory=list)
    ran: int = 0  # cells run in this call
    reused: int = 0  # finished cells found on disk and skipped


def cells_of(grid: Grid) -> list[Cell]:
    """The grid's cells, seed by seed (so a partial sweep already covers every method once)."""
    repo = str(Path(grid.output) / "mubench")
    identity = {"model": grid.model, "base_recipe": grid.base_recipe, "split_seed": grid.split_seed}
    return [
        Cell(
            task=grid.task,
            config=config,
            seed=seed,
            method=method,
            arguments={} if method == "retrain" else grid.method_arguments(method),
            identity=identity,
            dataset_repo=repo,
            cache_dir=cache_dir(grid),
            base_dir=str(base_dir(grid, seed)),
            retrain_dir=str(retrain_dir(grid, config, seed)),
            output_dir=str(Path(grid.output) / "cells" / config / f"seed{seed}" / method),
            save_model=grid.save_models,
        )
        for seed in grid.seeds
        for config in grid.configs
        for method in grid.methods
    ]


def run_grid(grid: Grid, *, show_progress: bool = True, log: Callable[[str], None] = print) -> SweepResult:
    """Run every missing cell of ``grid`` and write results.jsonl, results.csv, leaderboard.md and the
    figures into ``grid.output``. A failing cell is recorded and the sweep goes on."""
    with warnings.catch_warnings():
        # transformers asks for pinned memory by default; on a CPU-only machine torch warns once per
        # DataLoader, i.e. dozens of times per sweep, about something that costs nothing.
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        return _run_grid(grid, show_progress=show_progress, log=log)


def _run_grid(grid: Grid, *, show_progress: bool, log: Callable[[str], None]) -> SweepResult:
    import datasets
    import transformers

    # Our own bars say what is going on; per-model loading/saving bars would bury them.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    output = Path(grid.output)
    log(
        f"Deletion splits of {grid.task} (ratios {grid.ratios}, split seed {grid.split_seed}) in {output / 'mubench'}"
    )
    ensure_splits(grid)

    references = [("base", None, seed) for seed in grid.seeds]
    references += [("retrain", config, seed) for seed in grid.seeds for config in grid.configs]
    for kind, config, seed in tqdm(references, desc="reference models", disable=not show_progress):
        ensure_base(grid, seed) if kind == "base" else ensure_retrain(grid, config, seed)

    records: list[dict[str, Any]] = []
    ran = reused = 0
    bar = tqdm(cells_of(grid), desc="cells", disable=not show_progress)
    for cell in bar:
        bar.set_postfix_str(f"{cell.config} seed {cell.seed} {cell.method}")
        record = finished_record(cell)
        if record is None:
            record = run_cell(cell)
            ran += 1
            if record["status"] != "done":
                tqdm.write(f"cell {cell.config}/seed{cell.seed}/{cell.method} failed: {record['error']}")
        else:
            reused += 1
        records.append(record)

    from ..tasks import get_task

    rows = aggregate(records)
    result = SweepResult(records=records, rows=rows, ran=ran, reused=reused)
    result.outputs["cells"] = write_jsonl(records, output / "results.jsonl")
    result.outputs["aggregated"] = write_csv(rows, output / "results.csv")
    result.outputs["leaderboard"] = write_text(output / "leaderboard.md", leaderboard_markdown(rows))
    result.figures = write_figures(rows, get_task(grid.task).num_labels, output / "figures")
    return result


def describe_outputs(result: SweepResult, grid: Grid) -> str:
    """Where each output went, one line each."""
    failed = sum(r["status"] != "done" for r in result.records)
    lines = [
        f"cells: {len(result.records)} ({result.ran} run now, {result.reused} reused, {failed} failed)"
        f" -> {Path(grid.output) / 'cells'}",
        f"models: base and retrain reference models -> {Path(grid.output) / 'models'}",
        f"results of every cell (JSONL) -> {result.outputs['cells']}",
        f"mean ± std per method (CSV) -> {result.outputs['aggregated']}",
        f"ranked leaderboard (Markdown) -> {result.outputs['leaderboard']}",
        f"figures (PNG) -> {', '.join(str(p) for p in result.figures) or 'none (no finished cell)'}",
    ]
    return "\n".join(lines)
