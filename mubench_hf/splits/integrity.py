"""Checking that a loaded deletion config holds the rows its manifest names, before anything trains or
scores on it.

``datasets`` serves a local folder from its cache; the product keys that cache by the task's content hash
(``manifest.cache_key``), and this check is the guard behind it: every split has the size the manifest
records, and the forget split holds exactly the ``sample_id``s of the forget files the manifest lists (in
their order), those files being the ones the manifest hashed. The forget files are hashed on every load:
they are what the benchmark is about, and a forget set is a small part of train (the other data files
are left to ``mubench verify``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow.parquet as pq

from ..columns import column_numpy
from ..errors import MubenchError
from ..tasks.base import SAMPLE_ID_COLUMN
from .manifest import sha256_file
from .paths import inside_repo

FORGET_SPLIT = "forget"


def check_forget_files(root: Path, entry: dict[str, Any], config: str) -> np.ndarray | None:
    """The ``sample_id``s the manifest's forget files hold, in order (``None``: the config has no forget
    split, or its files no ``sample_id`` column); raises when a forget file is not the one the manifest
    hashed."""
    files = entry["configs"][config].get(FORGET_SPLIT)
    if files is None:
        return None
    ids: list[np.ndarray] = []
    for rel in files:
        path = inside_repo(root, rel, f"{root}: forget file of config {config!r}")
        if not path.is_file():
            raise MubenchError(
                f"forget file {rel} of config {config!r} is missing from {root}; find the damage with "
                f"`mubench verify {root}` and rebuild with mubench build-splits"
            )
        if sha256_file(path) != entry["files"][rel]["sha256"]:
            raise MubenchError(
                f"forget file {rel} of config {config!r} in {root} is not the file its manifest names (its "
                f"SHA-256 differs), so the forget set is not the declared one; check the repo with "
                f"`mubench verify {root}` and rebuild it with mubench build-splits (--overwrite)"
            )
        schema = pq.read_schema(path)
        if SAMPLE_ID_COLUMN not in schema.names:
            return None
        column = pq.read_table(path, columns=[SAMPLE_ID_COLUMN]).column(SAMPLE_ID_COLUMN)
        ids.append(column.to_numpy().astype(np.int64))
    return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)


def loaded_problems(
    loaded: datasets.DatasetDict, entry: dict[str, Any], config: str, forget_ids: np.ndarray | None
) -> list[str]:
    """How ``loaded`` differs from what the manifest declares for ``config`` (empty: it is the declared
    content): a split of another size, or forget rows other than ``forget_ids``."""
    problems = []
    for split, size in entry["split_sizes"][config].items():
        if split in loaded and len(loaded[split]) != size:
            problems.append(f"split {split!r} has {len(loaded[split])} rows, the manifest says {size}")
    forget = loaded.get(FORGET_SPLIT)
    if forget_ids is not None and forget is not None and SAMPLE_ID_COLUMN in forget.column_names:
        got = column_numpy(forget, SAMPLE_ID_COLUMN).astype(np.int64)
        if not np.array_equal(got, forget_ids):
            problems.append(
                f"the forget split holds sample_ids {_head(got)}, the manifest's forget files {_head(forget_ids)}"
            )
    return problems


def cache_location(loaded: datasets.DatasetDict) -> str:
    """The cache folder a loaded DatasetDict was read from (for an error message)."""
    for split in loaded.values():
        if split.cache_files:
            return str(Path(split.cache_files[0]["filename"]).parent)
    return "the datasets cache"


def _head(ids: np.ndarray, count: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in ids[:count])
    return f"[{shown}{', ...' if len(ids) > count else ''}] ({len(ids)} rows)"
