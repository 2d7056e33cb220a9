"""Tasks a deletion repo declares: a repo built from a task file records the file's checked declaration in
its manifest, so ``train-base``, ``unlearn``, ``evaluate`` and ``run`` on that repo know the task without
the file (or after it moved)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from .manifest import MANIFEST_NAME, is_mubench_repo, read_manifest

DECLARATION_KEY = "declaration"  # the manifest entry's key that holds a task file's declaration


def declaration_of(task: Any) -> dict[str, Any] | None:
    """What a manifest records about ``task``: a task file's declaration, ``None`` for tasks in code."""
    declaration = getattr(task, "declaration", None)
    return dict(declaration) if declaration else None


def register_repo_tasks(dataset: str | os.PathLike | None) -> list[str]:
    """Register the declared tasks of the local deletion repo ``dataset`` that are not registered yet
    (nothing for a Hub id or a folder that is not a deletion repo); returns their names."""
    from ..tasks.task_file import register_declaration

    if not dataset or not is_mubench_repo(dataset):
        return []
    root = Path(dataset).resolve()
    registered = []
    for name, entry in read_manifest(root)["tasks"].items():
        declaration = entry.get(DECLARATION_KEY)
        if declaration is None:
            continue
        origin = f"deletion repo {root} ({MANIFEST_NAME}, task {name!r})"
        if not isinstance(declaration, dict) or declaration.get("name") != name:
            raise MubenchError(
                f"{origin}: the recorded declaration is not one of task {name!r}; rebuild the repo"
            )
        if register_declaration(declaration, origin) is not None:
            registered.append(name)
    return registered
