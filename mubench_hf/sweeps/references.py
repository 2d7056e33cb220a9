"""The shared inputs of a sweep, made once and reused across cells and reruns: the deletion splits,
one base model per seed and one retrain model per (seed, deletion config).

A model folder counts as finished only when ``sweep_model.json`` (written last) is there, records the
same recipe and splits, and every file it lists still has the SHA-256 recorded when the model was made;
an unfinished or damaged folder (a crash mid-training, a truncated ``model.safetensors``) is removed
and trained again. Training is seeded, so the model made again is the model that was lost.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import damaged_files, folder_checksums, read_json_or_none, value_checksum, write_json_atomic
from .grid import Grid

DONE_FILE = "sweep_model.json"
# The files whose bytes are the model: what a cell's result depends on. The other files of the folder
# (train_results.json with its run time, training_args.bin with its path) are checked for damage but
# differ on a redo.
_WEIGHT_NAMES = ("config.json", "adapter_config.json", "adapter_model.bin")


def _is_weights(name: str) -> bool:
    base = Path(name).name
    return (
        base.endswith(".safetensors")
        or base in _WEIGHT_NAMES
        or (base.startswith("pytorch_model") and base.endswith(".bin"))
    )


def splits_dir(grid: Grid) -> Path:
    """Where the grid's deletion repo lives."""
    return Path(grid.output) / "mubench"


def cache_dir(grid: Grid) -> str:
    """The ``datasets`` cache of the sweep (inside its output folder: nothing outside is touched)."""
    return str(Path(grid.output) / ".hf_cache")


def base_model_name(task: str, seed: int | str) -> str:
    """The folder name of a sweep's base model under ``models/``: the task is in it, so grids of several
    tasks in one sweep folder keep a base model each (the config in a retrain model's name names its task)."""
    return f"base_{task}_seed{seed}"


def retrain_model_name(config: str, seed: int | str) -> str:
    return f"retrain_{config}_seed{seed}"


def base_dir(grid: Grid, seed: int) -> Path:
    return Path(grid.output) / "models" / base_model_name(grid.task, seed)


def retrain_dir(grid: Grid, config: str, seed: int) -> Path:
    return Path(grid.output) / "models" / retrain_model_name(config, seed)


def read_json_roundtrip(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), so stored and fresh compare equal."""
    import json

    return json.loads(json.dumps(value, default=str))


def weights_digest(checksums: dict[str, str]) -> str:
    """One digest of a model's weights and config, from its files' checksums."""
    kept = {name: digest for name, digest in checksums.items() if _is_weights(name)}
    return value_checksum(kept)


@dataclass
class Reference:
    """One reference model of the grid: its folder, what it must have been made from, how to make it."""

    kind: str  # "base" or "retrain"
    folder: Path
    identity: dict[str, Any]
    train: Callable[[], dict[str, Any]]

    @property
    def label(self) -> str:
        return f"{self.kind} model {self.folder.name}"


def stored_digest(folder: Path) -> str | None:
    """The weights digest recorded in ``folder``'s done file (no re-hashing), or ``None``."""
    record = read_json_or_none(folder / DONE_FILE)
    return record.get("weights") if isinstance(record, dict) else None


def check_reference(reference: Reference) -> tuple[str | None, str]:
    """(weights digest, ``""``) when the finished model can be reused, else (``None``, why not)."""
    record = read_json_or_none(reference.folder / DONE_FILE)
    if not isinstance(record, dict):
        return (
            None,
            "not trained yet" if not reference.folder.exists() else "unfinished (no sweep_model.json)",
        )
    if record.get("identity") != read_json_roundtrip(reference.identity):
        return None, "made with other settings"
    files = record.get("files")
    if not isinstance(files, dict) or not files or not isinstance(record.get("weights"), str):
        return None, "made by an older mubench-hf (no file checksums)"
    damaged = damaged_files(reference.folder, files)
    if damaged:
        return None, f"damaged: {', '.join(damaged)} is missing, unreadable or changed since it was made"
    return record["weights"], ""


def make_reference(reference: Reference) -> str:
    """Train ``reference`` into a clean folder and record its checksums; returns its weights digest."""
    shutil.rmtree(reference.folder, ignore_errors=True)  # leftovers of an interrupted or damaged run
    results = reference.train()  # train_base/train_retrain seed the initial weights with the recipe's seed
    checksums = folder_checksums(reference.folder, skip=(DONE_FILE,))
    digest = weights_digest(checksums)
    record = {
        "identity": read_json_roundtrip(reference.identity),
        "results": results,
        "files": checksums,
        "weights": digest,
    }
    write_json_atomic(reference.folder / DONE_FILE, record)
    return digest


def _recipe(grid: Grid, seed: int, output_dir: Path) -> Any:
    from ..reference_models import RecipeArguments
    from ..tasks import get_task

    recipe = {**get_task(grid.task).recipe_defaults(), **grid.base_recipe}
    return RecipeArguments(output_dir=str(output_dir), seed=seed, disable_tqdm=True, **recipe)


def base_reference(grid: Grid, seed: int, splits_hash: str) -> Reference:
    """The base model of ``seed``, trained on the full train split."""
    from ..reference_models import train_base

    folder = base_dir(grid, seed)
    identity = {
        "task": grid.task,
        "model": grid.model,
        "seed": seed,
        "recipe": grid.base_recipe,
        "splits": splits_hash,
    }
    return Reference(
        "base",
        folder,
        identity,
        lambda: train_base(
            str(splits_dir(grid)),
            grid.task,
            grid.model,
            folder,
            args=_recipe(grid, seed, folder),
            cache_dir=cache_dir(grid),
            quiet=True,
        ),
    )


def retrain_reference(grid: Grid, config: str, seed: int, splits_hash: str) -> Reference:
    """The retrain model of ``config`` and ``seed``, with the base model's recipe."""
    from ..reference_models import train_retrain

    folder = retrain_dir(grid, config, seed)
    identity = {
        "config": config,
        "split_seed": grid.split_seed,
        "model": grid.model,
        "seed": seed,
        "recipe": grid.base_recipe,
        "splits": splits_hash,
    }
    return Reference(
        "retrain",
        folder,
        identity,
        lambda: train_retrain(
            str(splits_dir(grid)),
            config,
            str(base_dir(grid, seed)),
            folder,
            args=_recipe(grid, seed, folder),
            cache_dir=cache_dir(grid),
            quiet=True,
        ),
    )


def references_of(grid: Grid, splits_hash: str) -> list[Reference]:
    """Every reference model of ``grid``: bases first (retrain models are built from their config)."""
    references = [base_reference(grid, seed, splits_hash) for seed in grid.seeds]
    references += [
        retrain_reference(grid, config, seed, splits_hash)
        for seed in grid.seeds
        for config in grid.reference_configs  # request steps are scored against their cumulative config's
    ]
    return references
