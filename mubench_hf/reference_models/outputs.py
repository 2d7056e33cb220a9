"""What every base/retrain training writes beside the weights: the results file, the checks of the folder,
the deletion repo's hash and the backbone's name (for the card)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ..splits import is_mubench_repo, read_manifest

TRAIN_RESULTS_FILE = "train_results.json"


def dataset_hash(dataset: str) -> str | None:
    """The content hash of a local deletion repo (``None`` for a Hub id: its card has it)."""
    return read_manifest(dataset)["content_hash"] if is_mubench_repo(dataset) else None


def check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise MubenchError(
            f"output_dir {str(output_dir)!r} is a file; pass a folder (it is created if missing)"
        )


def backbone_of(model: Any) -> str:
    config = getattr(model, "config", None)
    return getattr(config, "model_type", None) or type(model).__name__
