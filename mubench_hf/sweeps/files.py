"""Atomic JSON writes and tolerant reads: what makes a sweep safe to interrupt and resume."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json_atomic(path: str | os.PathLike, value: Any) -> None:
    """Write ``value`` as JSON so that ``path`` holds either the old file or the whole new one.

    The text goes to a temporary file in the same folder first, then replaces ``path`` in one rename:
    a crash or Ctrl-C mid-write leaves no half-written results file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w") as handle:
        handle.write(json.dumps(value, indent=2, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


def read_json_or_none(path: str | os.PathLike) -> Any:
    """The JSON in ``path``, or ``None`` when it is missing, empty or not valid JSON (a corrupt file)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
