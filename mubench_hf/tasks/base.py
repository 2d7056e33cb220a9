"""What a benchmark task is: where its data comes from and how it maps onto canonical columns."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.table import InMemoryTable

from ..columns import column_numpy
from ..errors import MubenchError
from ..modalities import LABEL_COLUMN, Modality, get_modality, list_modalities
from .sources import HubSource, OODSource, SourceLike, load_hub_source, load_source

SAMPLE_ID_COLUMN = "sample_id"
SAMPLE_ID_FEATURE = datasets.Value("int64")

# MU-Bench's convention: the deletion order lists 10 % of the training set; ratio p ≤ 10 forgets the
# first p/10 of that order (larger ratios: mubench_hf/splits/ratios.py).
DEFAULT_DELETION_FRACTION = 0.1

# Task (and config) names become folder names (data/<task>/) and config prefixes: plain names only.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# What a task asks of a model: a label per input, a completion per prompt, or an image per prompt. A kind
# registered in mubench_hf.kinds (register_kind) adds its name here, so tasks of it can be declared.
TASK_KINDS = ["classification", "generation", "image_generation"]


def source_columns(
    task: str, ds: datasets.Dataset, mapping: dict[str, str], roles: list[tuple[str, str]], where: str
) -> dict[str, str]:
    """Canonical column → its name in ``ds`` (through ``mapping``, upstream → canonical), for every
    ``(column, role)`` of ``roles``; a missing one is refused with the columns there are."""
    upstream_of = {new: old for old, new in mapping.items() if old in ds.column_names}
    columns = {}
    for needed, role in roles:
        name = upstream_of.get(needed, needed)
        if name not in ds.column_names:
            upstream = [old for old, new in mapping.items() if new == needed]
            hint = f" (upstream name {upstream[0]!r})" if upstream else ""
            what = f"{role} column" if role else "column"
            raise MubenchError(
                f"task {task!r}: {where} has no {what} {needed!r}{hint}; "
                f"its columns are {list(ds.column_names)}"
            )
        columns[needed] = name
    return columns


def canonical_dataset(
    task: str, ds: datasets.Dataset, columns: dict[str, str], ids: np.ndarray, where: str, *, features: bool
) -> datasets.Dataset:
    """``ds`` cut to ``columns`` (canonical → upstream name), renamed, with ``sample_id`` = ``ids``.

    Works on the Arrow table directly: the ``Dataset`` methods would hash every new column for their
    fingerprints, which costs seconds on CIFAR-sized data. ``features`` keeps the upstream features of the
    columns (the caller casts otherwise)."""
    table = ds.select_columns(list(columns.values())).with_format("arrow")[:]
    table = table.rename_columns(list(columns))
    table = table.append_column(SAMPLE_ID_COLUMN, pa.array(ids.astype(np.int64)))
    info = (
        datasets.DatasetInfo(
            features=datasets.Features(
                {**{k: ds.features[v] for k, v in columns.items()}, SAMPLE_ID_COLUMN: SAMPLE_ID_FEATURE}
            )
        )
        if features
        else None
    )
    # an explicit fingerprint: deriving one would hash the whole new table
    fingerprint = hashlib.sha256(f"{task}|{where}|{ds._fingerprint}".encode()).hexdigest()[:16]
    return datasets.Dataset(InMemoryTable(table), info=info, fingerprint=fingerprint)


@dataclass(frozen=True)
class Task:
    """One benchmark task.

    A task knows where its data comes from (a Hub dataset, or an offline ``loader``), how to
    rename that data onto the canonical columns (its modality's input column, ``label``), the class
    names, which source splits serve as validation and test, an optional OOD set, and the size of
    its deletion order (``deletion_fraction`` of the train split). ``kind`` is ``"classification"``
    (``num_labels`` classes) or ``"generation"``.
    """

    name: str
    modality: str
    class_names: tuple[str, ...]
    description: str = ""
    hub: HubSource | None = None
    loader: Callable[[], datasets.DatasetDict] | None = None
    train_split: str = "train"
    validation_split: str | None = None
    test_split: str = "test"
    ood: OODSource | None = None
    deletion_fraction: float = DEFAULT_DELETION_FRACTION
    license: str = "unknown"
    source_citation: str = ""
    split_note: str = ""
    kind: str = "classification"

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name) or ".." in self.name:
            raise MubenchError(
                f"task name {self.name!r}: use letters, digits, '_', '.' and '-', starting with a letter or digit"
            )
        if self.modality not in list_modalities():
            raise MubenchError(
                f"task {self.name!r}: modality must be one of {list_modalities()}, not {self.modality!r}"
            )
        if self.kind not in TASK_KINDS:
            raise MubenchError(
                f"task {self.name!r}: kind must be one of {list(TASK_KINDS)}, not {self.kind!r}"
            )
        if (self.hub is None) == (self.loader is None):
            raise MubenchError(f"task {self.name!r}: give exactly one of hub= or loader=")

    @property
    def modality_spec(self) -> Modality:
        """The registered ``Modality`` object of ``modality`` (its columns, processing and models)."""
        return get_modality(self.modality)

    @property
    def input_column(self) -> str:
        return self.modality_spec.input_column

    @property
    def label_column(self) -> str:
        return LABEL_COLUMN

    @property
    def num_labels(self) -> int:
        return len(self.class_names)

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.class_names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.class_names)}

    @property
    def input_columns(self) -> tuple[str, ...]:
        """Every input column of the modality (two images and a sentence for ``image_text``)."""
        return tuple(getattr(self.modality_spec, "input_columns", (self.input_column,)))

    @property
    def features(self) -> datasets.Features:
        """Canonical features of every stored split."""
        spec = self.modality_spec
        inputs = spec.input_features() if hasattr(spec, "input_features") else {}
        return datasets.Features(
            {
                **(inputs or {self.input_column: spec.input_feature()}),
                LABEL_COLUMN: datasets.ClassLabel(names=list(self.class_names)),
                SAMPLE_ID_COLUMN: SAMPLE_ID_FEATURE,
            }
        )

    def deletion_order_size(self, num_train: int) -> int:
        """Length m of the task's deletion order; ratio p ≤ 10 forgets the first floor(p/10 * m)."""
        return int(num_train * self.deletion_fraction)

    # ------------------------------------------------------------------ what the data says
    # Classification defaults; a generation task (tasks.generation.GenerationTask) overrides them, so the
    # code that builds splits never asks which kind it holds. How models and processors are built, trained
    # and scored is the business of the task's kind (mubench_hf.kinds.kind_of), never of the task.
    def row_labels(self, train: datasets.Dataset) -> np.ndarray:
        """The class of every train row (class-wise configs cut files by it)."""
        return column_numpy(train, LABEL_COLUMN).astype(np.int64)

    def deletion_groups(self, train: datasets.Dataset) -> np.ndarray | None:
        """The entity of every train row when deletion is by group (then the order lists groups), else None."""
        return None

    def upstream_order(self, source: SourceLike = None) -> list[int]:
        """The deletion order that reproduces the source's own forget sets (``order="upstream"``)."""
        raise MubenchError(
            f"task {self.name!r} has no upstream deletion order; give --order FILE (one train index per line) "
            "or leave --order out for the seeded one"
        )

    def recipe_defaults(self) -> dict:
        """Training arguments base and retrain models of this task use unless given (none: the recipe's)."""
        return {}

    def config_model_processor(self, splits: Any) -> Any:
        """The processor a model built from a config (``tiny:<arch>``, no checkpoint to read one from) uses,
        when the task brings its own (a tokenizer over its vocabulary, possibly read from ``splits``);
        ``None``: the modality's default."""
        return None

    def source_description(self) -> str:
        if self.hub is not None:
            return self.hub.describe()
        return f"offline loader ({self.split_note or 'built in'})"

    # ------------------------------------------------------------------ loading
    def load(self, source: SourceLike = None, ood_source: SourceLike | bool = None) -> datasets.DatasetDict:
        """Load the task as canonical splits ``train``, ``test`` and, where the task has them,
        ``validation`` and ``ood``.

        ``source`` replaces the Hub dataset (a local path or a ``DatasetDict`` with the upstream
        schema); ``ood_source`` does the same for the OOD set, and ``False`` skips it.
        Each split gets a ``sample_id`` column: the row's index in its split of the source.
        """
        raw = self._load_raw(source)
        splits = {"train": self.train_split, "test": self.test_split}
        if self.validation_split:
            splits["validation"] = self.validation_split
        out = {}
        mapping = dict(self.hub.column_mapping) if self.hub else {}
        for canonical, upstream in splits.items():
            if upstream not in raw:
                raise MubenchError(
                    f"task {self.name!r}: the source has no {upstream!r} split (it has {sorted(raw)}); "
                    f"the task reads {canonical} from {upstream!r}"
                )
            out[canonical] = self._canonicalise(raw[upstream], mapping, f"split {upstream!r}")
        if self.ood is not None and ood_source is not False:
            out["ood"] = self._load_ood(ood_source)
        return datasets.DatasetDict(out)

    def _load_raw(self, source: SourceLike) -> datasets.DatasetDict:
        if source is not None:
            return load_source(source, what=f"source for task {self.name!r}")
        if self.loader is not None:
            return self.loader()
        assert self.hub is not None
        return load_hub_source(self.hub, f"task {self.name!r}", "--source PATH (source=...)")

    def _load_ood(self, ood_source: SourceLike | bool) -> datasets.Dataset:
        assert self.ood is not None
        if ood_source is None or ood_source is True:
            raw = load_hub_source(
                self.ood,
                f"the OOD set of task {self.name!r}",
                "--ood-source PATH (ood_source=...), or --no-ood",
            )
        else:
            raw = load_source(ood_source, what=f"OOD source for task {self.name!r}")
        if self.ood.split not in raw:
            raise MubenchError(
                f"task {self.name!r}: the OOD source has no {self.ood.split!r} split (it has {sorted(raw)})"
            )
        return self._canonicalise(raw[self.ood.split], dict(self.ood.column_mapping), "the OOD source")

    def _canonicalise(self, ds: datasets.Dataset, mapping: dict[str, str], where: str) -> datasets.Dataset:
        """Rename onto the canonical columns, check the labels, add ``sample_id``, drop the rest.

        Works on the Arrow table directly: the ``Dataset`` methods would hash every new column for
        their fingerprints, which costs seconds on CIFAR-sized data.
        """
        roles = [*((column, "input") for column in self.input_columns), (LABEL_COLUMN, "label")]
        columns = source_columns(self.name, ds, mapping, roles, where)
        self._check_labels(ds, columns[LABEL_COLUMN], where)
        ids = np.arange(len(ds), dtype=np.int64)
        out = canonical_dataset(self.name, ds, columns, ids, where, features=True)
        # a modality that can spot malformed rows (a missing image) refuses them before anything is stored
        check_rows = getattr(self.modality_spec, "check_rows", None)
        if check_rows is not None:
            check_rows(out, f"task {self.name!r}, {where}")
        return out if out.features == self.features else out.cast(self.features)

    def _check_labels(self, ds: datasets.Dataset, column: str, where: str) -> None:
        feature = ds.features[column]
        if isinstance(feature, datasets.ClassLabel) and feature.num_classes != self.num_labels:
            raise MubenchError(
                f"task {self.name!r}: {where} has {feature.num_classes} classes {feature.names[:5]}..., "
                f"the task expects {self.num_labels}"
            )
        labels = column_numpy(ds, column)
        if not np.issubdtype(labels.dtype, np.integer):
            raise MubenchError(f"task {self.name!r}: {where} has non-integer labels ({labels.dtype})")
        bad = labels[(labels < 0) | (labels >= self.num_labels)]
        if len(bad):
            raise MubenchError(
                f"task {self.name!r}: {where} has labels outside [0, {self.num_labels}) "
                f"(e.g. {bad[:3].tolist()}); unlabelled rows (-1) must be removed from the source"
            )
