"""Merging a local deletion repo's manifest with the one already on the Hub.

A dataset repo may hold several tasks, pushed from different folders (or machines). The Hub copy is the
union: tasks only on the Hub are kept as they are, tasks in the local folder replace their Hub version.
"""

from __future__ import annotations

from typing import Any

from ..errors import MubenchError
from ..splits.manifest import FORMAT_VERSION, MANIFEST_NAME, repo_content_hash
from ..splits.schema import validate_manifest


def merge_manifests(local: dict[str, Any], remote: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest of the repo after the push: remote tasks plus local tasks (local wins on a name clash).
    Manifests keep configs in build order, so the re-rendered card lists them as the local one does."""
    if remote is None:
        return local
    version = remote.get("format_version") if isinstance(remote, dict) else None
    if version != FORMAT_VERSION:
        raise MubenchError(
            f"the Hub repo's manifest has format version {version!r} but this mubench-hf "
            f"writes version {FORMAT_VERSION}; push to a new repo, or rebuild the Hub copy's tasks locally"
        )
    # The remote manifest is someone else's data: its tasks are re-published in the new card, so they
    # must have every key and name only files inside the repo, like a local one.
    validate_manifest(remote, f"the Hub repo's {MANIFEST_NAME}")
    tasks = dict(sorted({**remote["tasks"], **local["tasks"]}.items()))
    return {**local, "content_hash": repo_content_hash(tasks), "tasks": tasks}


def stale_task_files(local: dict[str, Any], remote_files: set[str]) -> list[str]:
    """Hub files under ``data/<task>/`` of a task being replaced that the new version no longer has
    (e.g. chunks of ratios that were dropped). Files of other tasks are never listed."""
    stale: list[str] = []
    for name, entry in local["tasks"].items():
        prefix = f"data/{name}/"
        stale += [f for f in remote_files if f.startswith(prefix) and f not in entry["files"]]
    return sorted(stale)
