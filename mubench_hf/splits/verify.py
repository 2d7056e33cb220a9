"""Checking a deletion repo against its manifest: every file's hash, the content hashes, and the README
YAML that ``datasets.load_dataset`` reads."""

from __future__ import annotations

import os
from pathlib import Path

from .manifest import read_manifest, repo_content_hash, sha256_file, task_content_hash
from .paths import inside_repo
from .readme import readme_problems


def verify_repo(path: str | os.PathLike) -> list[str]:
    """Recompute every file hash and the content hashes, and compare the README's YAML with the manifest;
    return a list of problems (empty = intact). A manifest that is damaged or names files outside the repo
    raises ``MubenchError`` before any file is read."""
    root = Path(path)
    manifest = read_manifest(root)
    problems: list[str] = []
    for name, entry in manifest["tasks"].items():
        for rel, meta in entry["files"].items():
            file_path = inside_repo(root, rel, f"{root}: file of task {name!r}")
            if not file_path.is_file():
                problems.append(f"{name}: {rel} is missing")
            elif sha256_file(file_path) != meta["sha256"]:
                problems.append(f"{name}: {rel} has changed (SHA-256 differs)")
        if task_content_hash(entry["files"], entry["configs"]) != entry["content_hash"]:
            problems.append(f"{name}: the manifest's content hash does not match its files and configs")
    if repo_content_hash(manifest["tasks"]) != manifest["content_hash"]:
        problems.append("the repo content hash does not match the tasks' hashes")
    return problems + readme_problems(root, manifest)
