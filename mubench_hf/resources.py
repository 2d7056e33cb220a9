"""Locate the files that ship beside the code: card templates and evaluate metric modules.

The repository keeps them at the top level (``hub_cards/``, ``evaluate_metrics/``) as the design brief
asks; the wheel maps both folders into the package (``mubench_hf.hub_cards`` and
``mubench_hf.evaluate_metrics``, see ``pyproject.toml``) so an installed copy finds them too.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _resource_dir(package: str, repo_folder: str) -> Path:
    try:
        found: Path | None = Path(str(importlib.resources.files(package)))
    except (ModuleNotFoundError, TypeError):  # not installed as a package: look beside the code
        found = None
    if found is not None and found.is_dir():
        return found
    fallback = _REPO_ROOT / repo_folder
    if fallback.is_dir():
        return fallback
    raise FileNotFoundError(
        f"cannot find the '{repo_folder}' folder: looked for package {package!r} and {fallback}. "
        "Reinstall mubench-hf (pip install mubench-hf) so its data files are present."
    )


def hub_cards_dir() -> Path:
    """The folder that holds the dataset and model card templates."""
    return _resource_dir("mubench_hf.hub_cards", "hub_cards")


def card_template(name: str) -> Path:
    """Path of one card template, e.g. ``card_template("dataset_card.md")``."""
    path = hub_cards_dir() / name
    if not path.is_file():
        known = sorted(p.name for p in hub_cards_dir().glob("*.md"))
        raise FileNotFoundError(f"no card template {name!r}; known templates: {known}")
    return path


def evaluate_metrics_dir() -> Path:
    """The folder that holds the ``evaluate`` metric modules (one sub-folder per metric)."""
    return _resource_dir("mubench_hf.evaluate_metrics", "evaluate_metrics")


def list_metrics() -> list[str]:
    """Names of the metric modules that ship with mubench-hf."""
    root = evaluate_metrics_dir()
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}.py").is_file())


def metric_path(name: str) -> str:
    """Folder of one metric module, ready for ``evaluate.load(metric_path("knowledge_gap"))``.

    Works offline, from the repository and from an installed wheel alike.
    """
    folder = evaluate_metrics_dir() / name
    if not (folder / f"{name}.py").is_file():
        raise ValueError(f"unknown metric {name!r}; known metrics: {list_metrics()}")
    return str(folder)
