"""Atomic writes, tolerant reads and checksums: what makes a sweep safe to interrupt, resume and trust.

Every file a sweep relies on is written to ``<name>.partial`` first and renamed into place, so a crash,
Ctrl-C or a full disk mid-write leaves either the old file or the whole new one, never half of one.
Checksums (SHA-256) catch what atomic writes cannot: a file damaged or hand-edited afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def _replace_atomically(path: Path, write: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)  # a half-written .partial is never read, but costs disk
        raise


def write_json_atomic(path: str | os.PathLike, value: Any) -> None:
    """Write ``value`` as JSON so that ``path`` holds either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(value, indent=2, default=str) + "\n"
    _replace_atomically(path, lambda handle: handle.write(text))


def write_text_if_changed(path: str | os.PathLike, text: str) -> bool:
    """Write ``text`` atomically unless ``path`` already holds exactly it; ``True`` when written.

    Skipping unchanged files is what lets a finished sweep be summarised again from a read-only folder.
    """
    path = Path(path)
    try:
        unchanged = path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        unchanged = False  # missing or unreadable: write it
    if unchanged:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace_atomically(path, lambda handle: handle.write(text))
    return True


def read_json_or_none(path: str | os.PathLike) -> Any:
    """The JSON in ``path``, or ``None`` when it is missing, empty or not valid JSON (a corrupt file)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def canonical_json(value: Any) -> str:
    """One text per value (sorted keys, no spaces): what checksums are taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def value_checksum(value: Any) -> str:
    """SHA-256 of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def file_checksum(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (raises ``OSError`` when it cannot be read)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def folder_checksums(folder: str | os.PathLike, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` except the names in ``skip``."""
    root = Path(folder)
    return {
        str(path.relative_to(root)): file_checksum(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in skip and not path.name.endswith(".partial")
    }


def damaged_files(folder: str | os.PathLike, checksums: dict[str, str]) -> list[str]:
    """The files of ``checksums`` that are missing, unreadable or changed under ``folder``."""
    damaged = []
    for name, expected in checksums.items():
        try:
            if file_checksum(Path(folder) / name) != expected:
                damaged.append(name)
        except OSError:
            damaged.append(name)
    return damaged
