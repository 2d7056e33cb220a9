"""The manifest of a deletion repo (``mubench.json``): what was built, from what, and a content hash.

The content hash lets two people check they hold the same split: it covers every data file's SHA-256 and
every config's file lists, and nothing that varies between machines (no paths outside the repo, no
timestamps). Its shape is checked in ``schema.py`` whenever it is read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import MubenchError
from .paths import inside_repo
from .schema import FORMAT_VERSION, validate_manifest  # noqa: F401  (FORMAT_VERSION: the writers' import)

MANIFEST_NAME = "mubench.json"


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


class HashingWriter(io.RawIOBase):
    """A write-only file that hashes what passes through it, so a written file need not be read back."""

    def __init__(self, target: BinaryIO) -> None:
        self._target = target
        self._digest = hashlib.sha256()
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._digest.update(data)
        self._size += len(data)
        return self._target.write(data)

    def tell(self) -> int:
        return self._size

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def task_content_hash(files: dict[str, dict[str, Any]], configs: dict[str, Any]) -> str:
    """Hash of one task's files (by content) and config definitions."""
    payload = {"files": {path: meta["sha256"] for path, meta in files.items()}, "configs": configs}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def repo_content_hash(tasks: dict[str, dict[str, Any]]) -> str:
    """Hash of the whole repo: the tasks' content hashes, by task name."""
    payload = {name: entry["content_hash"] for name, entry in tasks.items()}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


# ``datasets`` keys its cache of a local folder by the folder's name, the config name and the README
# YAML only: two repos called ``mubench`` (or one rebuilt in place with another seed) would share a cache
# entry and the second would be served the first one's rows. Each config's YAML entry and every load the
# product makes carry this text as the builder config's ``description``, so the task's content hash is
# part of the cache key.
CACHE_KEY_PREFIX = "mubench-hf deletion config; task content hash "


def cache_key(entry: dict[str, Any]) -> str:
    """The ``description`` that keys the ``datasets`` cache of a task's configs by its content hash."""
    return CACHE_KEY_PREFIX + str(entry["content_hash"])


def is_mubench_repo(path: str | os.PathLike) -> bool:
    return (Path(path) / MANIFEST_NAME).is_file()


def check_repo_folder(path: str | os.PathLike) -> Path:
    """``path`` as a deletion repo folder, or an error saying what it is instead and how to make one."""
    root = Path(path)
    build = f"build one with `mubench build-splits --task TASK --output {path}`"
    if not root.exists():
        raise MubenchError(f"deletion repo folder {path} does not exist; {build}")
    if not root.is_dir():
        raise MubenchError(
            f"{path} is a file, not a deletion repo folder; give the folder that holds {MANIFEST_NAME}"
        )
    if not (root / MANIFEST_NAME).is_file():
        raise MubenchError(f"{path} is not a mubench deletion repo: it has no {MANIFEST_NAME}; {build}")
    return root


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of the deletion repo at ``path``, checked: every key the product reads is there with
    its type, and every file it names lies inside the folder (symlinks followed). Raises ``MubenchError``."""
    root = check_repo_folder(path)
    manifest_path = inside_repo(root, MANIFEST_NAME, f"{path}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise MubenchError(f"{manifest_path} is not valid JSON ({err}); rebuild the repo") from None
    validate_manifest(manifest, str(manifest_path))
    for task, entry in manifest["tasks"].items():
        for rel in entry["files"]:
            inside_repo(root, rel, f"{manifest_path}: file of task {task!r}")
    return manifest


def manifest_text(manifest: dict[str, Any]) -> str:
    """The manifest file's text. Insertion order, not sorted keys: configs stay in build order (del1,
    del2, ..., del10) when the manifest is read back to add a task; that order is itself deterministic."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def write_manifest(path: str | os.PathLike, manifest: dict[str, Any]) -> None:
    Path(path).write_text(manifest_text(manifest), encoding="utf-8")
