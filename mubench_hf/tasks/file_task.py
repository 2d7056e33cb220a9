"""``FileTask``: a classification task declared in a task file (``task_file.py`` reads and checks the file).

Its data comes from a Hub dataset or from local files, read through ``datasets``' packaged builders
(``csv``, ``json`` for JSON Lines, ``parquet``, ``imagefolder``, ``audiofolder``), which need no network.
Loading does, in order:

1. read the source's splits (or a ``--source`` copy with the same columns);
2. rename the declared input column(s) and label column onto the canonical ones (``text``, ``image`` ...,
   ``label``);
3. turn the labels into class indices in the order of the task's class names (string labels by name; a
   ``ClassLabel`` whose names are in another order is re-indexed; integers are taken as indices);
4. carve a seeded validation (and test) split out of train when the source has none: one
   ``numpy.random.default_rng(split_seed).permutation`` of the train rows, the first
   ``round(test_fraction * n)`` become test, the next ``round(validation_fraction * n)`` validation, the
   rest (in source order) train. ``sample_id`` then counts rows of the carved splits.
"""

from __future__ import annotations

import collections
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.table import InMemoryTable

from ..columns import column_numpy
from ..errors import MubenchError
from ..modalities import LABEL_COLUMN
from .base import Task
from .sources import HubSource, SourceLike, load_hub_source, load_source

CANONICAL_SPLITS = ("train", "validation", "test")
# A text task's tiny: models get a word-level vocabulary of the most frequent train words (the tiny BERT
# has 1,000 entries; characters and special tokens take the rest).
TINY_VOCABULARY_WORDS = 800
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class FileTask(Task):
    """A task declared by a task file; ``declaration`` is the checked file (absolute paths, class names
    resolved), which deletion repos record so that later commands need not find the file again."""

    declaration: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def task_file(self) -> str:
        return str(self.declaration.get("task_file", ""))

    def source_description(self) -> str:
        where = f" (task file {self.task_file})" if self.task_file else ""
        decl = self.declaration
        if "hub" in decl:
            return f"{HubSource(decl['hub'], revision=decl.get('revision')).describe()}{where}"
        if "folder" in decl:
            return f"local {decl['format']} {decl['folder']}{where}"
        files = decl["files"]
        listed = ", ".join(f"{split}: {', '.join(paths)}" for split, paths in files.items())
        return f"local {decl['format']} files ({listed}){where}"

    def load_processor(
        self, source: str | None, splits: Any, *, trust_remote_code: bool | None = None
    ) -> Any:
        # A text model built from a config has no tokenizer to read: give it a word-level one made from the
        # train split (the same rows in every config, so base, retrain and unlearned models agree).
        if self.modality == "text" and _is_config_spec(source):
            from .go_relations import tiny_tokenizer

            return tiny_tokenizer(frequent_words(splits))
        return super().load_processor(source, splits, trust_remote_code=trust_remote_code)

    def _load_raw(self, source: SourceLike) -> datasets.DatasetDict:
        if source is not None:
            raw = load_source(source, what=f"source for task {self.name!r}")
        else:
            raw = load_declared_source(self.declaration, self.name)
        return canonical_splits(raw, self.declaration, tuple(self.class_names), self.name)


def _is_config_spec(source: str | None) -> bool:
    return source is None or source.startswith("tiny:") or source.endswith(".json")


def frequent_words(splits: Any, limit: int = TINY_VOCABULARY_WORDS) -> tuple[str, ...]:
    """The ``limit`` most frequent lower-cased words of the ``text`` column of ``splits['train']``
    (ties by word), or none when there is no train split."""
    train = splits.get("train") if hasattr(splits, "get") else None
    if train is None or "text" not in train.column_names:
        return ()
    counts = collections.Counter(
        word for text in column_numpy(train, "text") for word in _WORD.findall(str(text).lower())
    )
    return tuple(word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit])


# --------------------------------------------------------------------------- reading the source
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
    try:
        loaded = datasets.load_dataset(decl["format"], **kwargs)
    except Exception as err:  # whatever the builder raises for a file it cannot parse
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
        raise MubenchError(
            f"task {name!r}: the {decl['format']} {what} did not load ({type(err).__name__}: {first}); check "
            f"the files, or the task file's format ({decl['format']!r})"
        ) from None
    if not isinstance(loaded, datasets.DatasetDict):
        raise MubenchError(f"task {name!r}: {what} did not load as named splits")
    return loaded


def renamed(ds: datasets.Dataset, decl: Mapping[str, Any], where: str, name: str) -> datasets.Dataset:
    """``ds`` with the declared input and label columns under their canonical names (others kept)."""
    mapping = {**decl["input_column"], LABEL_COLUMN: decl["label_column"]}
    missing = [f"{column!r} ({role})" for role, column in mapping.items() if column not in ds.column_names]
    if missing:
        raise MubenchError(
            f"task {name!r}: {where} has no column {', '.join(missing)}; its columns are {ds.column_names} "
            "(set input_column / label_column in the task file)"
        )
    # a column that holds a canonical name but is not the one mapped onto it would clash: drop it
    ds = ds.remove_columns([c for c in mapping if c in ds.column_names and c not in mapping.values()])
    renames = {source: canonical for canonical, source in mapping.items() if source != canonical}
    return ds.rename_columns(renames) if renames else ds


# --------------------------------------------------------------------------- labels and class names
def label_ids(ds: datasets.Dataset, class_names: tuple[str, ...], where: str, name: str) -> datasets.Dataset:
    """``ds`` with its ``label`` column as indices into ``class_names`` (see the module docstring)."""
    feature = ds.features[LABEL_COLUMN]
    if isinstance(feature, datasets.ClassLabel):
        if tuple(feature.names) == class_names:
            return ds
        if sorted(feature.names) != sorted(class_names):
            raise MubenchError(
                f"task {name!r}: {where}'s label column is a ClassLabel with classes {feature.names}, the task "
                f"file's class_names are {list(class_names)}; list the same names (in any order)"
            )
        lookup = np.asarray([class_names.index(n) for n in feature.names], dtype=np.int64)
        ids = lookup[column_numpy(ds, LABEL_COLUMN).astype(np.int64)]
    elif isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string"):
        values = [str(v) for v in column_numpy(ds, LABEL_COLUMN)]
        index = {n: i for i, n in enumerate(class_names)}
        unknown = sorted(set(values) - set(index))
        if unknown:
            raise MubenchError(
                f"task {name!r}: {where} has labels {unknown[:5]} that are not among the class names "
                f"{list(class_names)}; add them to class_names or remove those rows"
            )
        ids = np.asarray([index[v] for v in values], dtype=np.int64)
    elif isinstance(feature, datasets.Value) and feature.dtype.startswith(("int", "uint")):
        return ds  # indices already; Task checks they lie in [0, number of classes)
    else:
        raise MubenchError(
            f"task {name!r}: {where}'s label column holds {feature}; labels must be class names (strings), "
            "class indices (integers) or a ClassLabel"
        )
    return _with_labels(ds, ids)


def _with_labels(ds: datasets.Dataset, ids: np.ndarray) -> datasets.Dataset:
    """``ds`` with ``ids`` as its label column, built on the Arrow table (``Dataset.add_column`` hashes
    every new column for a fingerprint, and fails on a dataset left without columns)."""
    table = ds.with_format("arrow")[:]
    table = table.set_column(table.column_names.index(LABEL_COLUMN), LABEL_COLUMN, pa.array(ids))
    features = datasets.Features({**ds.features, LABEL_COLUMN: datasets.Value("int64")})
    fingerprint = hashlib.sha256(f"{ds._fingerprint}|label-ids".encode()).hexdigest()[:16]
    return datasets.Dataset(
        InMemoryTable(table), info=datasets.DatasetInfo(features=features), fingerprint=fingerprint
    )


def discover_class_names(
    raw: datasets.DatasetDict, decl: Mapping[str, Any], name: str
) -> tuple[list[str], str]:
    """Class names read from the data and how they were found: a ``ClassLabel`` label feature's names, else
    the sorted distinct values of a string label column (over every split)."""
    column = decl["label_column"]
    splits = [ds for ds in raw.values() if column in ds.column_names]
    if not splits:
        raise MubenchError(
            f"task {name!r}: the source has no label column {column!r} (columns: "
            f"{next(iter(raw.values())).column_names if raw else []}); set label_column in the task file"
        )
    feature = splits[0].features[column]
    if isinstance(feature, datasets.ClassLabel):
        return list(feature.names), f"the ClassLabel names of column {column!r}"
    if isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string"):
        values = sorted({str(v) for ds in splits for v in column_numpy(ds, column)})
        return values, f"the sorted distinct values of column {column!r}"
    raise MubenchError(
        f"task {name!r}: label column {column!r} holds {feature} without class names; list them in the task "
        "file as class_names: [...] (index i names label i)"
    )


# --------------------------------------------------------------------------- splits
def canonical_splits(
    raw: datasets.DatasetDict, decl: Mapping[str, Any], class_names: tuple[str, ...], name: str
) -> datasets.DatasetDict:
    """``train``/``validation``/``test`` with canonical columns and label indices, carving out the
    validation and test splits the source does not have."""
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
        ds = renamed(raw[upstream], decl, f"split {upstream!r}", name)
        out[canonical] = label_ids(ds, class_names, f"split {upstream!r}", name)
    missing = [s for s in ("test", "validation") if s not in out]
    if missing:
        out.update(carve_out(out["train"], decl, missing, name))
    return datasets.DatasetDict({s: out[s] for s in CANONICAL_SPLITS})


def carve_out(
    train: datasets.Dataset, decl: Mapping[str, Any], missing: list[str], name: str
) -> dict[str, datasets.Dataset]:
    """The new ``train`` and the ``missing`` splits cut from it (see the module docstring)."""
    n = len(train)
    order = np.random.default_rng(decl["split_seed"]).permutation(n)
    sizes = {s: int(round(decl[f"{s}_fraction"] * n)) for s in ("test", "validation") if s in missing}
    if sum(sizes.values()) >= n or any(size == 0 for size in sizes.values()):
        asked = ", ".join(f"{split}_fraction {decl[split + '_fraction']}" for split in sizes)
        raise MubenchError(
            f"task {name!r}: carving {asked} out of {n} train rows leaves an empty split; give the source "
            "more rows, larger fractions or those splits"
        )
    out, start = {}, 0
    for split, size in sizes.items():
        out[split] = train.select(np.sort(order[start : start + size]))
        start += size
    out["train"] = train.select(np.sort(order[start:]))
    return out


def local_loader(decl: Mapping[str, Any], name: str) -> Any:
    """The ``loader`` of a task of local files (it reads the raw source; ``FileTask`` canonicalises it)."""
    return partial(load_local_source, decl, name)
