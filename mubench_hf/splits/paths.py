"""File names read from a deletion repo (its manifest, its README ``configs:``) must stay inside the repo.

A deletion repo is data someone else may have written: a manifest naming ``../outside.parquet``,
``/etc/passwd`` or a symlink to a file elsewhere must be refused before anything reads, hashes, uploads
or deletes that file. ``check_relative`` is the textual check (usable without a folder, e.g. for a
manifest downloaded from the Hub); ``inside_repo`` adds the check of where the path really leads.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import MubenchError
from ..tasks.base import NAME_PATTERN

_DRIVE = re.compile(r"^[A-Za-z]:")


def check_name(value: object, what: str) -> str:
    """A task or config name: letters, digits, ``_``, ``.``, ``-``, not starting with a dot or a dash."""
    if not isinstance(value, str) or not NAME_PATTERN.match(value) or ".." in value:
        raise MubenchError(
            f"{what}: {value!r} is not a valid name (letters, digits, '_', '.', '-', starting with a letter "
            "or digit); the repo was not written by mubench build-splits, rebuild it"
        )
    return value


def check_relative(rel: object, what: str) -> str:
    """``rel`` as a file name relative to the repo root, refusing anything that could leave the repo."""
    if not isinstance(rel, str) or not rel:
        raise MubenchError(
            f"{what}: {rel!r} is not a file name (expected a path such as data/<task>/x.parquet)"
        )
    parts = rel.split("/")
    if rel.startswith("/") or _DRIVE.match(rel) or "\\" in rel or "\0" in rel:
        reason = "an absolute path"
    elif ".." in parts:
        reason = "a path with a '..' component"
    elif any(part in ("", ".") for part in parts):
        reason = "a path with an empty or '.' component"
    else:
        return rel
    raise MubenchError(
        f"{what}: {rel!r} is {reason}; a deletion repo may only name files inside its own folder, "
        "so nothing was read. Rebuild the repo with mubench build-splits"
    )


def inside_repo(root: Path, rel: object, what: str) -> Path:
    """``root / rel`` once it is certain the file (after following symlinks) lies inside ``root``."""
    path = root / check_relative(rel, what)
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        raise MubenchError(
            f"{what}: {rel!r} leads outside the repo through a symlink (to {real}); refusing to touch it. "
            "Replace the link with the file itself or rebuild the repo with mubench build-splits"
        )
    return path
