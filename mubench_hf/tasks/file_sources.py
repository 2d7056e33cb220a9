"""Where a task file's data comes from and how its splits are made: the source read through ``datasets``
(a Hub dataset, or local files through the packaged builders ``csv``, ``json`` for JSON Lines, ``parquet``,
``imagefolder``, ``audiofolder``, ``videofolder``, which need no network), and the seeded carve-out of the
validation and test splits a source lacks: one ``numpy.random.default_rng(split_seed).permutation`` of the
train rows (of the train groups, for a task that deletes by group), the first ``round(test_fraction * n)``
become test, the next ``round(validation_fraction * n)`` validation, the rest (in source order) train.
``sample_id`` then counts rows of the carved splits."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.table import InMemoryTable

from ..errors import MubenchError
from .sources import HubSource, load_hub_source, load_packaged_source

CANONICAL_SPLITS = ("train", "validation", "test")


def describe_declared_source(decl: Mapping[str, Any]) -> str:
    """``user/data@main``, ``local csv files (train: /data/a.csv)`` ... and the task file it came from."""
    where = f" (task file {decl['task_file']})" if decl.get("task_file") else ""
    if "hub" in decl:
        return f"{HubSource(decl['hub'], revision=decl.get('revision')).describe()}{where}"
    if "folder" in decl:
        return f"local {decl['format']} {decl['folder']}{where}"
    listed = ", ".join(f"{split}: {', '.join(paths)}" for split, paths in decl["files"].items())
    return f"local {decl['format']} files ({listed}){where}"


def load_declared_source(decl: Mapping[str, Any], name: str) -> datasets.DatasetDict:
    """The source splits the declaration names, as ``datasets`` reads them (columns not renamed yet)."""
    if "hub" in decl:
        hub = HubSource(decl["hub"], revision=decl.get("revision"), config_name=decl.get("config"))
        return load_hub_source(hub, f"task {name!r}", "--source PATH (a local copy with the same columns)")
    return load_local_source(decl, name)


def load_local_source(decl: Mapping[str, Any], name: str) -> datasets.DatasetDict:
    """Local files (``files``) or a folder (``folder``) through ``datasets``' packaged builders."""
    if "folder" in decl:
        kwargs: dict[str, Any] = {"data_dir": decl["folder"]}
        what = f"folder {decl['folder']}"
    else:
        kwargs = {"data_files": {split: list(paths) for split, paths in decl["files"].items()}}
        what = f"files {', '.join(p for paths in decl['files'].values() for p in paths)}"
    return load_packaged_source(
        decl["format"],
        f"task {name!r}: the {decl['format']} {what}",
        f"check the files, or the task file's format ({decl['format']!r})",
        **kwargs,
    )


def local_loader(decl: Mapping[str, Any], name: str) -> Any:
    """The ``loader`` of a task of local files (it reads the raw source; the task canonicalises it)."""
    return partial(load_local_source, decl, name)


def with_column(ds: datasets.Dataset, column: str, values: np.ndarray, feature: Any) -> datasets.Dataset:
    """``ds`` with ``values`` as its ``column``, built on the Arrow table (``Dataset.add_column`` hashes
    every new column for a fingerprint, and fails on a dataset left without columns)."""
    table = ds.with_format("arrow")[:]
    table = table.set_column(table.column_names.index(column), column, pa.array(values))
    features = datasets.Features({**ds.features, column: feature})
    fingerprint = hashlib.sha256(f"{ds._fingerprint}|{column}".encode()).hexdigest()[:16]
    return datasets.Dataset(
        InMemoryTable(table), info=datasets.DatasetInfo(features=features), fingerprint=fingerprint
    )


def canonical_splits(
    raw: datasets.DatasetDict,
    decl: Mapping[str, Any],
    name: str,
    prepare: Callable[[datasets.Dataset, str], datasets.Dataset],
    units: Callable[[datasets.Dataset], np.ndarray] | None = None,
) -> datasets.DatasetDict:
    """``train``/``validation``/``test``, each made by ``prepare(split, where)`` (canonical columns),
    carving the validation and test splits the source does not have out of train (by the ``units`` of its
    rows, e.g. groups; by row without)."""
    # a split the file names must exist; one it leaves out is the source's split of that name, if any;
    # null (or absent with no such split) is carved out of train
    declared = decl["splits"]
    wanted = {
        s: declared[s] if s in declared else (s if s in raw or s == "train" else None)
        for s in CANONICAL_SPLITS
    }
    out: dict[str, datasets.Dataset] = {}
    for canonical, upstream in wanted.items():
        if upstream is None:
            continue
        if upstream not in raw:
            key = f"splits.{canonical}"
            raise MubenchError(
                f"task {name!r}: the source has no {upstream!r} split (it has {sorted(raw)}); the task file "
                f"reads {canonical} from it (set {key}"
                + (")" if canonical == "train" else f", or set it to null to carve {canonical} out of train)")
            )
        out[canonical] = prepare(raw[upstream], f"split {upstream!r}")
    missing = [s for s in ("test", "validation") if s not in out]
    if missing:
        train = out["train"]
        row_units = units(train) if units is not None else np.arange(len(train))
        out.update(carve_out(train, row_units, decl, missing, name))
    return datasets.DatasetDict({s: out[s] for s in CANONICAL_SPLITS})


def carve_out(
    train: datasets.Dataset, row_units: np.ndarray, decl: Mapping[str, Any], missing: list[str], name: str
) -> dict[str, datasets.Dataset]:
    """The new ``train`` and the ``missing`` splits cut from it, whole units at a time (see the module
    docstring)."""
    unique, row_unit = np.unique(row_units, return_inverse=True)
    n = len(unique)
    order = np.random.default_rng(decl["split_seed"]).permutation(n)
    sizes = {s: int(round(decl[f"{s}_fraction"] * n)) for s in ("test", "validation") if s in missing}
    if sum(sizes.values()) >= n or any(size == 0 for size in sizes.values()):
        asked = ", ".join(f"{split}_fraction {decl[split + '_fraction']}" for split in sizes)
        raise MubenchError(
            f"task {name!r}: carving {asked} out of {n} train rows (or groups) leaves an empty split; give "
            "the source more rows, larger fractions or those splits"
        )
    out, start = {}, 0
    for split, size in sizes.items():
        out[split] = train.select(np.flatnonzero(np.isin(row_unit, order[start : start + size])))
        start += size
    out["train"] = train.select(np.flatnonzero(np.isin(row_unit, order[start:])))
    return out
