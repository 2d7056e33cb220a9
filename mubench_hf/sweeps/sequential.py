"""Request chains in a sweep: deletion requests unlearned one after another (``mubench run --requests 4x2.5``).

For each seed, schedule and method the sweep runs a chain of k cells, one per request. Step i is an
ordinary cell (its own ``cell.json`` with a checksum, in ``cells/<task>_req<k>x<p>_step<i>/seed<s>/<method>``)
that starts from the model step i−1 saved, unlearns request i and is scored against the retrain model of
step i: the retrain model of the cumulative config ``<task>_del<i·p>``, trained from scratch on Dr_i
(see :mod:`.step_cell`). The retrain row of step i is that model itself, scored the same way (always
run: the sustainability table measures every method against it).

A chain's steps run in order (the local backend runs the cells in this module's order; the Ray backend
makes step i's task wait for step i−1's). A chain cut short resumes at its first unfinished step: the
finished steps' records and saved models are reused, and a step whose predecessor was redone (another
model) runs again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .cells import Cell, cell_arguments
from .grid import RETRAIN, Grid
from .references import base_dir, cache_dir, retrain_dir, splits_dir


def step_cell(
    grid: Grid,
    schedule: Any,
    step: int,
    seed: int,
    method: str,
    splits_hash: str,
    base_digest: str,
    retrain_digest: str,
) -> Cell:
    """Step ``step`` of ``method``'s chain for ``schedule`` (a ``RequestSchedule``) and ``seed``."""
    config = schedule.step_config(grid.task, step)
    cumulative = schedule.cumulative_config(grid.task, step)
    previous = None if step == 1 or method == RETRAIN else step_dir(grid, schedule, step - 1, seed, method)
    sequential = {
        "schedule": schedule.name,
        "step": step,
        "scored_on": cumulative,  # Df_≤i and Dr_i, against the retrain model of this config
        "previous": None if previous is None else str(previous),
        "original_dir": str(base_dir(grid, seed)),
    }
    identity = {
        "model": grid.model,
        "base_recipe": grid.base_recipe,
        "split_seed": grid.split_seed,
        "references": {"splits": splits_hash, "base": base_digest, "retrain": retrain_digest},
        "sequential": {k: v for k, v in sequential.items() if k in ("schedule", "step", "scored_on")},
    }
    return Cell(
        task=grid.task,
        config=config,
        seed=seed,
        method=method,
        arguments=cell_arguments(
            grid, method, config
        ),  # retrain: the grid's attack settings and report bound
        identity=identity,
        dataset_repo=str(splits_dir(grid)),
        cache_dir=cache_dir(grid),
        base_dir=str(base_dir(grid, seed) if previous is None else previous),
        retrain_dir=str(retrain_dir(grid, cumulative, seed)),
        output_dir=str(step_dir(grid, schedule, step, seed, method)),
        save_model=method != RETRAIN,  # the next step starts from it
        step=sequential,
    )


def step_dir(grid: Grid, schedule: Any, step: int, seed: int, method: str) -> Path:
    """The folder of a step's cell (and of the model it saves)."""
    return Path(grid.output) / "cells" / schedule.step_config(grid.task, step) / f"seed{seed}" / method


def chain_methods(grid: Grid) -> list[str]:
    """The methods of the chains: the grid's, with the retrain row first even when not asked for (scoring
    each step's retrain model costs one evaluation; the sustainability table measures against it)."""
    return [RETRAIN, *(m for m in grid.methods if m != RETRAIN)]


def chains(grid: Grid, splits_hash: str, digests: dict[Path, str]) -> list[list[Cell]]:
    """Every chain of ``grid`` (seed by seed, schedule, method), each in step order. ``digests`` maps the
    reference model folders to their weights digests (as :func:`.runner.cells_of` takes them)."""
    out = []
    for seed in grid.seeds:
        base = digests[base_dir(grid, seed)]
        for schedule in grid.schedules:
            for method in chain_methods(grid):
                out.append(
                    [
                        step_cell(
                            grid,
                            schedule,
                            step,
                            seed,
                            method,
                            splits_hash,
                            base,
                            digests[retrain_dir(grid, schedule.cumulative_config(grid.task, step), seed)],
                        )  # fmt: skip
                        for step in schedule.steps
                    ]
                )
    return out


def chain_cells(grid: Grid, splits_hash: str, digests: dict[Path, str]) -> list[Cell]:
    """The cells of every chain, each chain's steps in order (the order the local backend runs them)."""
    return [cell for chain in chains(grid, splits_hash, digests) for cell in chain]


def chain_count(grid: Grid) -> int:
    """How many step cells the grid's chains hold."""
    return len(grid.seeds) * len(chain_methods(grid)) * sum(s.count for s in grid.schedules)
