"""Run a whole grid: splits once, reference models once per seed (and config), then every cell.

Everything is resumable: splits, reference models and finished cells on disk are reused, so running
the same command again after Ctrl-C, a crash or a full disk only does what is missing. What is to be
done is worked out first, by reading alone; a folder with nothing left to do is only read (so a
finished sweep is summarised even from a read-only folder), and one with work left is checked to be
writable before any work starts.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..errors import MubenchError
from ..faults import NOT_WRITABLE, as_mubench_error, classify
from .aggregate import aggregate
from .cells import Cell, cell_arguments, finished_record, is_done, run_cell
from .grid import Grid
from .lock import sweep_lock
from .outputs import csv_text, jsonl_text, leaderboard_markdown, write_figures, write_text
from .references import (
    Reference,
    base_dir,
    cache_dir,
    check_reference,
    make_reference,
    references_of,
    retrain_dir,
    splits_dir,
)
from .sequential import chain_cells, chain_count
from .splits_repo import make_splits, plan_splits
from .summary import folder_records
from .sustainability import sustainability_figures, with_sustainability


@dataclass
class SweepResult:
    """What :func:`run_grid` did and where it wrote it."""

    records: list[dict[str, Any]]  # every cell record the summaries cover (the whole folder)
    rows: list[dict[str, Any]]  # aggregated: one per (task, config, method)
    outputs: dict[str, Path] = field(default_factory=dict)  # what -> file
    figures: list[Path] = field(default_factory=list)
    ran: int = 0  # cells of the grid run in this call
    reused: int = 0  # finished cells of the grid found on disk and skipped
    grid_records: list[dict[str, Any]] = field(default_factory=list)  # this grid's cells only
    notes: list[str] = field(default_factory=list)  # what the summary left out, files not updated

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The grid's cells that failed (the exit status of ``mubench run`` depends on them)."""
        return [r for r in self.grid_records if r.get("status") != "done"]


def cells_of(grid: Grid, splits_hash: str, digests: dict[Path, str]) -> list[Cell]:
    """The grid's cells, seed by seed (so a partial sweep already covers every method once).

    ``digests`` maps each reference model folder to its weights digest: a cell records those of the
    models it was made from, so it is redone whenever one of them is replaced."""
    plain = [
        make_cell(
            grid,
            config,
            seed,
            method,
            splits_hash,
            digests[base_dir(grid, seed)],
            digests[retrain_dir(grid, config, seed)],
        )
        for seed in grid.seeds
        for config in grid.configs
        for method in grid.methods
    ]
    return plain + chain_cells(grid, splits_hash, digests)  # request chains: each in step order


def make_cell(
    grid: Grid, config: str, seed: int, method: str, splits_hash: str, base_digest: str, retrain_digest: str
) -> Cell:
    """One cell of ``grid``, made from the splits and reference models with these digests (every
    backend builds its cells here, so their settings, and hence resuming, are the same)."""
    identity = {
        "model": grid.model,
        "base_recipe": grid.base_recipe,
        "split_seed": grid.split_seed,
        "references": {"splits": splits_hash, "base": base_digest, "retrain": retrain_digest},
    }
    return Cell(
        task=grid.task,
        config=config,
        seed=seed,
        method=method,
        arguments=cell_arguments(grid, method, config),
        identity=identity,
        dataset_repo=str(splits_dir(grid)),
        cache_dir=cache_dir(grid),
        base_dir=str(base_dir(grid, seed)),
        retrain_dir=str(retrain_dir(grid, config, seed)),
        output_dir=str(Path(grid.output) / "cells" / config / f"seed{seed}" / method),
        save_model=grid.save_models,
    )


def run_grid(
    grid: Grid,
    *,
    show_progress: bool = True,
    log: Callable[[str], None] = print,
    overwrite: bool = False,
    backend: Any = None,
    wait_for_lock: bool = False,
) -> SweepResult:
    """Run every missing cell of ``grid`` and write results.jsonl, results.csv, leaderboard.md and the
    figures into ``grid.output``, covering every finished cell of the folder. A failing cell is recorded
    and the sweep goes on. ``overwrite`` rebuilds splits that do not hold the grid's ratios (see
    :mod:`.splits_repo`). A full disk or an unwritable folder raises ``MubenchError``; what was finished
    is kept. ``backend`` runs the reference models and cells elsewhere (e.g. a
    :class:`~.ray_backend.RayBackend`); by default they run here, one after the other. A run with work
    to do holds the folder's lock (:mod:`.lock`): held by another run, it fails at once naming that run,
    or with ``wait_for_lock`` waits for it."""
    with warnings.catch_warnings():
        # transformers asks for pinned memory by default; on a CPU-only machine torch warns once per
        # DataLoader, i.e. dozens of times per sweep, about something that costs nothing.
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        try:
            return _run_grid(
                grid,
                show_progress=show_progress,
                log=log,
                overwrite=overwrite,
                backend=backend,
                wait_for_lock=wait_for_lock,
            )
        except Exception as err:
            kind = classify(err)
            if kind is None:
                raise
            raise as_mubench_error(kind, err, grid.output, _finished_cells(Path(grid.output))) from None


@dataclass
class _Plan:
    splits: Any
    references: list[Reference]
    digests: dict[Path, str]
    pending: list[tuple[Reference, str]]  # models to make, and why
    cells: list[Cell] | None  # known only when every reference is reusable
    unfinished: int  # cells of the grid to run (all of them when the models are not ready)


def _plan(grid: Grid, overwrite: bool) -> _Plan:
    """What is to be done, found by reading alone."""
    splits = plan_splits(grid, overwrite=overwrite)
    total = len(grid.configs) * len(grid.seeds) * len(grid.methods) + chain_count(grid)
    if splits.build is not None:
        return _Plan(splits, [], {}, [], None, total)
    references = references_of(grid, splits.content_hash)
    digests: dict[Path, str] = {}
    pending = []
    for reference in references:
        digest, why = check_reference(reference)
        if digest is None:
            pending.append((reference, why))
        else:
            digests[reference.folder] = digest
    if pending:
        return _Plan(splits, references, digests, pending, None, total)
    cells = cells_of(grid, splits.content_hash, digests)
    unfinished = sum(finished_record(cell) is None for cell in cells)
    return _Plan(splits, references, digests, pending, cells, unfinished)


def check_writable(output: Path) -> None:
    """Create (when missing) and write a probe file in ``output``; raises what the OS raises."""
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=output, prefix=".mubench-write-check-") as probe:
        probe.write(b"ok")  # created, written and removed again: the folder takes writes


def _run_grid(
    grid: Grid,
    *,
    show_progress: bool,
    log: Callable[[str], None],
    overwrite: bool,
    backend: Any = None,
    wait_for_lock: bool = False,
) -> SweepResult:
    import datasets
    import transformers

    # Our own bars say what is going on; per-model loading/saving bars would bury them.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    output = Path(grid.output)
    plan = _plan(grid, overwrite)
    if not _has_work(plan):
        return _finish(grid, plan, backend, show_progress, log, has_work=False)
    try:
        check_writable(output)
    except OSError as err:
        if classify(err) != NOT_WRITABLE:
            raise
        raise as_mubench_error(NOT_WRITABLE, err, output, _finished_cells(output)) from None
    # One writer at a time: two runs in one folder would train the same cells into the same files.
    with sweep_lock(output, wait=wait_for_lock, log=log):
        plan = _plan(grid, overwrite)  # again: a run that held the lock may have done some of it
        return _finish(grid, plan, backend, show_progress, log, has_work=_has_work(plan))


def _has_work(plan: _Plan) -> bool:
    return bool(plan.splits.build is not None or plan.pending or plan.unfinished)


def _finish(
    grid: Grid, plan: _Plan, backend: Any, show_progress: bool, log: Callable[[str], None], *, has_work: bool
) -> SweepResult:
    """Do what ``plan`` says is left (splits, reference models, cells), then summarise the folder."""
    splits_hash = _ensure_splits(grid, plan, log)
    if backend is not None:
        digests, pending = pending_references(grid, plan, splits_hash, log)
        grid_records, ran, reused = backend.run(grid, splits_hash, digests, pending, show_progress, log)
    else:
        grid_records, ran, reused = _run_here(grid, plan, splits_hash, show_progress, log)
    result = summarise(grid, written=has_work)
    result.ran, result.reused, result.grid_records = ran, reused, grid_records
    return result


def _run_here(
    grid: Grid, plan: _Plan, splits_hash: str, show_progress: bool, log: Callable[[str], None]
) -> tuple[list[dict[str, Any]], int, int]:
    """The local backend: the missing reference models, then every cell, one after the other."""
    digests = _ensure_references(grid, plan, splits_hash, show_progress, log)
    cells = plan.cells if plan.cells is not None else cells_of(grid, splits_hash, digests)
    grid_records: list[dict[str, Any]] = []
    ran = reused = 0
    bar = tqdm(cells, desc="cells", disable=not show_progress)
    for cell in bar:
        bar.set_postfix_str(f"{cell.config} seed {cell.seed} {cell.method}")
        record, was_run = finish_cell(cell)
        ran += was_run
        reused += not was_run
        if was_run and record["status"] != "done":
            tqdm.write(failure_line(record))
        grid_records.append(record)
    return grid_records, ran, reused


def finish_cell(cell: Cell) -> tuple[dict[str, Any], bool]:
    """The cell's stored record when it is finished, else the record of running it now; and whether it
    ran (what every backend does with one cell)."""
    record = finished_record(cell)
    if record is not None:
        return record, False
    return run_cell(cell), True


def failure_line(record: dict[str, Any]) -> str:
    """The line printed for a failed cell."""
    return f"cell {record['config']}/seed{record['seed']}/{record['method']} failed: {record['error']}"


def _finished_cells(output: Path) -> int:
    """How many finished cells the folder holds (for the message of a fault: never raises)."""
    try:
        return len([r for r in folder_records(output).records if is_done(r)])
    except Exception:  # a message about the disk must not turn into another error
        return 0


def _ensure_splits(grid: Grid, plan: _Plan, log: Callable[[str], None]) -> str:
    repo = splits_dir(grid)
    if plan.splits.build is None:
        ratios = ", ".join(f"{float(r):g}" for r in grid.split_ratios)
        log(f"Deletion splits of {grid.task}: reusing {repo} (ratios {ratios})")
    else:
        action = "rebuilding (--overwrite)" if plan.splits.overwrite else "building"
        classes = plan.splits.classes or []
        extra = f" and forget classes {', '.join(map(str, classes))}" if classes else ""
        log(
            f"Deletion splits of {grid.task}: {action} ratios {', '.join(plan.splits.build)}{extra} in {repo}"
        )
    return make_splits(grid, plan.splits)


def _ensure_references(
    grid: Grid, plan: _Plan, splits_hash: str, show_progress: bool, log: Callable[[str], None]
) -> dict[Path, str]:
    """Reuse the checked models, make the others (a damaged one is trained again)."""
    digests, pending = pending_references(grid, plan, splits_hash, log)
    for reference in tqdm(pending, desc="reference models", disable=not show_progress):
        digests[reference.folder] = make_one_reference(reference)
    return digests


def pending_references(
    grid: Grid, plan: _Plan, splits_hash: str, log: Callable[[str], None]
) -> tuple[dict[Path, str], list[Reference]]:
    """The digests of the reusable reference models, and the models to make (bases first); says why a
    damaged or outdated one is made again."""
    digests = dict(plan.digests)
    if plan.splits.build is None and not plan.pending:
        return digests, []
    if plan.splits.build is None:
        pending = plan.pending
    else:  # new splits: nothing was checked yet
        pending = []
        for reference in references_of(grid, splits_hash):
            digest, why = check_reference(reference)
            if digest is None:
                pending.append((reference, why))
            else:
                digests[reference.folder] = digest
    for reference, why in pending:
        if why not in ("not trained yet",):
            log(f"{reference.label}: {why}; training it again")
    return digests, [reference for reference, _ in pending]


def make_one_reference(reference: Reference) -> str:
    """Make one reference model; returns its digest. Its failure stops the sweep (``MubenchError``)."""
    try:
        return make_reference(reference)
    except Exception as err:
        if classify(err) is not None or isinstance(err, MubenchError):
            raise
        # Not one cell's problem: every cell of this seed needs the model.
        raise MubenchError(
            f"training the {reference.label} failed ({type(err).__name__}: {err}); check the grid's "
            "model and base_recipe, then rerun (finished cells are kept)"
        ) from err


def summarise(grid: Grid, *, written: bool = True) -> SweepResult:
    """Summaries of every finished cell in ``grid.output``; files already up to date are not written
    again, so a finished sweep in a read-only folder is still summarised (then noted, not written)."""
    from ..tasks import get_task

    output = Path(grid.output)
    found = folder_records(output)
    rows = aggregate(found.records)
    result = SweepResult(records=found.records, rows=rows, notes=found.notes())
    texts = {
        "cells": (output / "results.jsonl", jsonl_text(found.records)),
        "aggregated": (output / "results.csv", csv_text(rows)),
        # + how each method holds up over request chains (empty without any)
        "leaderboard": (output / "leaderboard.md", with_sustainability(leaderboard_markdown(rows), rows)),
    }
    changed = False
    try:
        for name, (path, text) in texts.items():
            changed |= _differs(path, text)
            result.outputs[name] = write_text(path, text)
        num_labels = get_task(grid.task).num_labels
        # the figures plot class accuracies against chance: tasks without classes (generation) have none
        figures = write_figures(rows, num_labels, output / "figures", draw=False) if num_labels else []
        if num_labels and (changed or not all(p.is_file() for p in figures)):
            figures = write_figures(rows, num_labels, output / "figures")
        result.figures = figures + sustainability_figures(rows, output / "figures", redraw=changed)
    except OSError as err:
        if written or classify(err) != NOT_WRITABLE:
            raise
        # Nothing was run: the folder is only read, and its summary files stay as they were.
        result.outputs = {name: path for name, (path, _) in texts.items()}
        result.notes.append(f"{output} is not writable: the summary above is not saved there ({err})")
    return result


def _differs(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") != text
    except (OSError, UnicodeDecodeError):
        return True


def describe_outputs(result: SweepResult, grid: Grid) -> str:
    """Where each output went, one line each, and what the summary left out."""
    output = Path(grid.output)
    lines = [
        f"cells of this grid: {len(result.grid_records)} ({result.ran} run now, {result.reused} reused, "
        f"{len(result.failed)} failed) -> {output / 'cells'}",
        f"summaries cover every finished cell in the folder: {len(result.records)} cell(s), "
        f"{len(result.rows)} (config, method) row(s)",
        f"models: base and retrain reference models -> {output / 'models'}",
        f"results of every cell (JSONL) -> {result.outputs['cells']}",
        f"mean ± std per method (CSV) -> {result.outputs['aggregated']}",
        f"ranked leaderboard (Markdown) -> {result.outputs['leaderboard']}",
        f"figures (PNG) -> {', '.join(str(p) for p in result.figures) or 'none (no finished cell)'}",
    ]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)
