"""``FileTask``: a classification task declared in a task file (``task_file.py`` reads and checks the file).

Its data comes from a Hub dataset or from local files (``file_sources.py``). Loading does, in order:

1. read the source's splits (or a ``--source`` copy with the same columns);
2. rename the declared input column(s) and label column onto the canonical ones (``text``, ``image`` ...,
   ``label``);
3. turn the labels into class indices in the order of the task's class names (string labels by name; a
   ``ClassLabel`` whose names are in another order is re-indexed; integers are taken as indices);
4. carve a seeded validation (and test) split out of train when the source has none (``file_sources.py``).
"""

from __future__ import annotations

import collections
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np

from ..columns import column_numpy
from ..errors import MubenchError
from ..modalities import LABEL_COLUMN
from .base import Task
from .file_sources import canonical_splits, describe_declared_source, load_declared_source, with_column
from .sources import SourceLike, load_source

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
        return describe_declared_source(self.declaration)

    def config_model_processor(self, splits: Any) -> Any:
        # A text model built from a config has no tokenizer to read: give it a word-level one made from the
        # train split (the same rows in every config, so base, retrain and unlearned models agree).
        if self.modality == "text":
            from .go_relations import tiny_tokenizer

            return tiny_tokenizer(frequent_words(splits))
        return None

    def _load_raw(self, source: SourceLike) -> datasets.DatasetDict:
        if source is not None:
            raw = load_source(source, what=f"source for task {self.name!r}")
        else:
            raw = load_declared_source(self.declaration, self.name)
        decl, names = self.declaration, tuple(self.class_names)

        def prepare(ds: datasets.Dataset, where: str) -> datasets.Dataset:
            return label_ids(renamed(ds, decl, where, self.name), names, where, self.name)

        return canonical_splits(raw, decl, self.name, prepare)


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
    return with_column(ds, LABEL_COLUMN, ids, datasets.Value("int64"))


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
