"""The deletion splits of a sweep folder: built once, reused by every later grid they cover.

Which files a training row lands in depends on the whole set of ratios built (the deletion order is cut
at every ratio), and so does the row order of ``train`` and ``retain``, which seeded training follows.
Rebuilding the splits with other ratios would therefore change every model trained on them. So a grid
whose ratios the folder already holds (with the same split seed) reuses the splits as they are, without
writing anything, and a grid that needs new ones is refused unless ``--overwrite`` (``overwrite=True``)
asks to rebuild them; the models and cells made on the old splits are then made again, because each
records the content hash of the splits it was made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import MubenchError
from .grid import Grid
from .references import splits_dir


@dataclass
class SplitsPlan:
    """What the sweep does about its splits: reuse them (``build`` is ``None``) or build these ratios."""

    content_hash: str | None  # the task's content hash when reused
    build: list[str] | None = None
    overwrite: bool = False
    classes: list[int] | None = None  # forget classes to build (with ``build``); None: the grid's
    requests: list[str] | None = None  # request schedules to build (with ``build``); None: the grid's


def _ratio_names(ratios: list[Any]) -> list[str]:
    from ..splits.ratios import format_ratio

    return [format_ratio(Fraction(str(r))) for r in ratios]


def _task_entry(grid: Grid) -> dict[str, Any] | None:
    from ..splits import is_mubench_repo, read_manifest

    repo = splits_dir(grid)
    if not is_mubench_repo(repo):
        return None
    try:
        return read_manifest(repo)["tasks"].get(grid.task)
    except MubenchError as err:
        raise MubenchError(
            f"the deletion splits of this sweep folder are damaged ({err}); delete {repo} and run again "
            "(its base models, retrain models and cells are then made again)"
        ) from None


def plan_splits(grid: Grid, *, overwrite: bool = False) -> SplitsPlan:
    """Decide, without writing anything, whether the folder's splits serve ``grid``."""
    wanted = _ratio_names(grid.split_ratios)  # with every request boundary
    entry = _task_entry(grid)
    if entry is None:  # overwrite: build_splits may then replace a folder that is not a deletion repo
        return SplitsPlan(
            None, build=wanted, overwrite=overwrite, classes=list(grid.classes), requests=list(grid.requests)
        )
    held = list(entry["ratios"])
    missing = [r for r in wanted if r not in held]
    held_classes = [int(k) for k in entry.get("forget_classes", [])]
    missing_classes = [k for k in grid.classes if k not in held_classes]
    held_requests = [str(r) for r in entry.get("requests", [])]
    missing_requests = [r for r in grid.requests if r not in held_requests]
    seeded = str(entry.get("order_description", "")).startswith("seeded")
    same_seed = entry["seed"] == grid.split_seed and seeded
    if same_seed and not missing and not missing_classes and not missing_requests:
        return SplitsPlan(entry["content_hash"])
    ratios = sorted(set(held) | set(wanted), key=Fraction) if same_seed else wanted
    classes = sorted(set(held_classes) | set(grid.classes)) if same_seed else list(grid.classes)
    requests = list(dict.fromkeys([*held_requests, *grid.requests])) if same_seed else list(grid.requests)
    if overwrite:
        return SplitsPlan(None, build=ratios, overwrite=True, classes=classes, requests=requests)

    def listed(values: list[Any]) -> str:
        return ", ".join(map(str, values)) or "(none)"

    if same_seed:
        problems = []
        if missing:
            problems.append(f"ratio(s) {', '.join(missing)} are not among them")
        if missing_classes:
            problems.append(f"forget class(es) {listed(missing_classes)} are not among them")
        if missing_requests:
            problems.append(f"request schedule(s) {', '.join(missing_requests)} are not among them")
        problem = " and ".join(problems)
    elif not seeded:
        problem = "they were built from an imported deletion order, not a seeded one"
    else:
        problem = f"they were built with split seed {entry['seed']}, not {grid.split_seed}"
    raise MubenchError(
        f"the deletion splits of this sweep folder ({splits_dir(grid)}) hold {grid.task} ratios "
        f"{', '.join(held)} and forget classes {listed(held_classes)} (split seed {entry['seed']}); {problem}. "
        f"Run ratios from {', '.join(held)} and classes from {listed(held_classes)}, give another --output "
        f"folder, or pass --overwrite to rebuild the splits with ratios {', '.join(ratios)} and classes "
        f"{listed(classes)} (their row order changes, so every base model, retrain model and cell of this "
        "folder is made again)"
    )


def make_splits(grid: Grid, plan: SplitsPlan) -> str:
    """Build the planned splits (when the plan says so); returns the task's content hash."""
    if plan.build is None:
        assert plan.content_hash is not None
        return plan.content_hash
    from ..splits import build_splits

    result = build_splits(
        grid.task,
        splits_dir(grid),
        ratios=plan.build,
        seed=grid.split_seed,
        forget_classes=plan.classes if plan.classes is not None else grid.classes,
        overwrite=plan.overwrite,
        show_progress=False,
        requests=plan.requests if plan.requests is not None else grid.requests,
    )
    return result.content_hash
