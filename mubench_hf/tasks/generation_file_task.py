"""A generation task (prompt -> completion rows, TRL's convention) declared in a task file.

The declared prompt and completion columns become ``prompt`` and ``completion``; a ``group_column`` (the
entity a row is about: an author, a person) becomes ``group`` and makes deletion take whole groups, as
TOFU forgets whole authors; string groups are numbered in sorted order. A validation or test split the
source lacks is carved out of train by whole groups (``file_sources.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import datasets
import numpy as np

from ..columns import column_numpy
from ..errors import MubenchError
from ..modalities.base import COMPLETION_COLUMN, GROUP_COLUMN, PROMPT_COLUMN
from .file_sources import canonical_splits, describe_declared_source, load_declared_source, with_column
from .generation import GenerationTask
from .sources import HubSource, SourceLike, load_source


@dataclass(frozen=True)
class GenerationFileTask(GenerationTask):
    """A ``GenerationTask`` declared by a task file (``declaration``: what deletion repos record)."""

    declaration: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def source_description(self) -> str:
        return describe_declared_source(self.declaration)


def generation_task(decl: Mapping[str, Any], common: dict[str, Any]) -> GenerationFileTask:
    """The task of a checked generation declaration (``common``: the fields every file task has)."""
    hub = (
        HubSource(decl["hub"], revision=decl["revision"], config_name=decl["config"])
        if "hub" in decl
        else None
    )
    return GenerationFileTask(
        **common,
        hub=hub,
        build=partial(generation_splits, decl),
        group_column=GROUP_COLUMN if decl["group_column"] else None,
        architecture=decl["architecture"],
        eval_splits=("validation", "test"),
    )


def generation_splits(decl: Mapping[str, Any], source: SourceLike) -> datasets.DatasetDict:
    """``train``/``validation``/``test`` with ``prompt``, ``completion`` (and ``group``) columns."""
    name = decl["name"]
    if source is not None:
        raw = load_source(source, what=f"source for task {name!r}")
    else:
        raw = load_declared_source(decl, name)
    mapping = {PROMPT_COLUMN: decl["prompt_column"], COMPLETION_COLUMN: decl["completion_column"]}
    if decl["group_column"]:
        mapping[GROUP_COLUMN] = decl["group_column"]
    group_ids = _group_ids(raw, decl["group_column"]) if decl["group_column"] else None

    def prepare(ds: datasets.Dataset, where: str) -> datasets.Dataset:
        missing = [
            f"{column!r} ({role})" for role, column in mapping.items() if column not in ds.column_names
        ]
        if missing:
            raise MubenchError(
                f"task {name!r}: {where} has no column {', '.join(missing)}; its columns are {ds.column_names} "
                "(set prompt_column / completion_column / group_column in the task file)"
            )
        ds = ds.select_columns(list(mapping.values())).rename_columns(
            {column: role for role, column in mapping.items() if column != role}
        )
        if group_ids is not None:
            groups = np.asarray([group_ids[str(v)] for v in column_numpy(ds, GROUP_COLUMN)], dtype=np.int64)
            ds = with_column(ds, GROUP_COLUMN, groups, datasets.Value("int64"))
        return ds

    units = (lambda ds: column_numpy(ds, GROUP_COLUMN)) if group_ids is not None else None
    return canonical_splits(raw, decl, name, prepare, units)


def _group_ids(raw: datasets.DatasetDict, column: str) -> dict[str, int]:
    """Group value (as text) -> its number: integers keep their value, other values are numbered in
    sorted order over every split."""
    values = {str(v) for ds in raw.values() if column in ds.column_names for v in column_numpy(ds, column)}
    if all(v.lstrip("-").isdigit() for v in values):
        return {v: int(v) for v in values}
    return {v: i for i, v in enumerate(sorted(values))}
