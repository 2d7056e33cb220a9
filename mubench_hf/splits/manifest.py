"""The manifest of a deletion repo (``mubench.json``): what was built, from what, and a content hash.

The content hash lets two people check they hold the same split: it covers every data file's
SHA-256 and every config's file lists, and nothing that varies between machines (no paths outside the
repo, no timestamps).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import MubenchError

MANIFEST_NAME = "mubench.json"
FORMAT_VERSION = 1


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


def is_mubench_repo(path: str | os.PathLike) -> bool:
    return (Path(path) / MANIFEST_NAME).is_file()


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of the deletion repo at ``path``."""
    manifest_path = Path(path) / MANIFEST_NAME
    if not manifest_path.is_file():
        raise MubenchError(f"{path} is not a mubench deletion repo: it has no {MANIFEST_NAME}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise MubenchError(f"{manifest_path} is not valid JSON ({err}); rebuild the repo") from None
    if manifest.get("format_version") != FORMAT_VERSION or "tasks" not in manifest:
        raise MubenchError(
            f"{manifest_path} has format version {manifest.get('format_version')!r}; "
            f"this mubench-hf reads version {FORMAT_VERSION}"
        )
    return manifest


def manifest_text(manifest: dict[str, Any]) -> str:
    """The manifest file's text. Insertion order, not sorted keys: configs stay in build order (del1,
    del2, ..., del10) when the manifest is read back to add a task; that order is itself deterministic."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def write_manifest(path: str | os.PathLike, manifest: dict[str, Any]) -> None:
    Path(path).write_text(manifest_text(manifest), encoding="utf-8")


def verify_repo(path: str | os.PathLike) -> list[str]:
    """Recompute every file hash and the content hashes; return a list of problems (empty = intact)."""
    root = Path(path)
    manifest = read_manifest(root)
    problems: list[str] = []
    for name, entry in manifest["tasks"].items():
        for rel, meta in entry["files"].items():
            file_path = root / rel
            if not file_path.is_file():
                problems.append(f"{name}: {rel} is missing")
            elif sha256_file(file_path) != meta["sha256"]:
                problems.append(f"{name}: {rel} has changed (SHA-256 differs)")
        if task_content_hash(entry["files"], entry["configs"]) != entry["content_hash"]:
            problems.append(f"{name}: the manifest's content hash does not match its files and configs")
    if repo_content_hash(manifest["tasks"]) != manifest.get("content_hash"):
        problems.append("the repo content hash does not match the tasks' hashes")
    return problems
