"""The shared inputs of a sweep, made once and reused across cells and reruns: the deletion splits,
one base model per seed and one retrain model per (seed, deletion config).

A model folder counts as finished only when ``sweep_model.json`` (written last) is there and records
the same recipe; an unfinished folder (a crash mid-training) is removed and trained again.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..splits import build_splits
from .files import read_json_or_none, write_json_atomic
from .grid import Grid

DONE_FILE = "sweep_model.json"


def splits_dir(grid: Grid) -> Path:
    """Where the grid's deletion repo lives."""
    return Path(grid.output) / "mubench"


def cache_dir(grid: Grid) -> str:
    """The ``datasets`` cache of the sweep (inside its output folder: nothing outside is touched)."""
    return str(Path(grid.output) / ".hf_cache")


def base_dir(grid: Grid, seed: int) -> Path:
    return Path(grid.output) / "models" / f"base_seed{seed}"


def retrain_dir(grid: Grid, config: str, seed: int) -> Path:
    return Path(grid.output) / "models" / f"retrain_{config}_seed{seed}"


def ensure_splits(grid: Grid) -> Path:
    """Build the grid's deletion configs (a no-op when the repo already holds the same ones)."""
    repo = splits_dir(grid)
    build_splits(grid.task, repo, ratios=grid.ratios, seed=grid.split_seed, show_progress=False)
    return repo


def _recipe(grid: Grid, seed: int, output_dir: Path) -> Any:
    from ..reference_models import RecipeArguments

    return RecipeArguments(output_dir=str(output_dir), seed=seed, disable_tqdm=True, **{**grid.base_recipe})


def _finished(folder: Path, identity: dict[str, Any]) -> dict[str, Any] | None:
    record = read_json_or_none(folder / DONE_FILE)
    if isinstance(record, dict) and record.get("identity") == identity:
        return record["results"]
    return None


def _train_once(folder: Path, identity: dict[str, Any], train: Any) -> dict[str, Any]:
    identity = read_json_roundtrip(identity)
    done = _finished(folder, identity)
    if done is not None:
        return done
    shutil.rmtree(folder, ignore_errors=True)  # leftovers of an interrupted run
    results = train()  # train_base/train_retrain seed the initial weights with the recipe's seed
    write_json_atomic(folder / DONE_FILE, {"identity": identity, "results": results})
    return results


def read_json_roundtrip(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), so stored and fresh compare equal."""
    import json

    return json.loads(json.dumps(value, default=str))


def ensure_base(grid: Grid, seed: int) -> dict[str, Any]:
    """Train (or reuse) the base model of ``seed``; returns its accuracies and training time."""
    from ..reference_models import train_base

    folder = base_dir(grid, seed)
    identity = {"task": grid.task, "model": grid.model, "seed": seed, "recipe": grid.base_recipe}
    repo = str(splits_dir(grid))
    return _train_once(
        folder,
        identity,
        lambda: train_base(
            repo,
            grid.task,
            grid.model,
            folder,
            args=_recipe(grid, seed, folder),
            cache_dir=cache_dir(grid),
            quiet=True,
        ),
    )


def ensure_retrain(grid: Grid, config: str, seed: int) -> dict[str, Any]:
    """Train (or reuse) the retrain model of ``config`` and ``seed`` with the base model's recipe."""
    from ..reference_models import train_retrain

    folder = retrain_dir(grid, config, seed)
    identity = {
        "config": config,
        "split_seed": grid.split_seed,
        "model": grid.model,
        "seed": seed,
        "recipe": grid.base_recipe,
    }
    repo = str(splits_dir(grid))
    return _train_once(
        folder,
        identity,
        lambda: train_retrain(
            repo,
            config,
            str(base_dir(grid, seed)),
            folder,
            args=_recipe(grid, seed, folder),
            cache_dir=cache_dir(grid),
            quiet=True,
        ),
    )
