"""Tasks whose modality reads several input columns (two images and a sentence, ...).

``Task`` stores one input column (its modality's ``input_column``). A modality that declares
``input_columns`` and ``input_features()`` (``image_text``: ``image_left``, ``image_right``, ``text``)
gets ``MultiInputTask``: the same declarative task (source, column mapping, splits, OOD), canonicalised
onto every one of those columns, with the modality's ``check_rows`` run on each split as it is loaded, so
a malformed row (a missing image) is refused before anything is stored or trained.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import datasets
import numpy as np
import pyarrow as pa
from datasets.table import InMemoryTable

from ..errors import MubenchError
from ..modalities import LABEL_COLUMN
from .base import SAMPLE_ID_COLUMN, SAMPLE_ID_FEATURE, Task


@dataclass(frozen=True)
class MultiInputTask(Task):
    """A ``Task`` stored with every input column of its modality (``Modality.input_columns``)."""

    @property
    def input_columns(self) -> tuple[str, ...]:
        return tuple(getattr(self.modality_spec, "input_columns", (self.input_column,)))

    @property
    def features(self) -> datasets.Features:
        spec = self.modality_spec
        inputs = spec.input_features() if hasattr(spec, "input_features") else {}
        if not inputs:
            inputs = {self.input_column: spec.input_feature()}
        return datasets.Features(
            {
                **inputs,
                LABEL_COLUMN: datasets.ClassLabel(names=list(self.class_names)),
                SAMPLE_ID_COLUMN: SAMPLE_ID_FEATURE,
            }
        )

    def _canonicalise(self, ds: datasets.Dataset, mapping: dict[str, str], where: str) -> datasets.Dataset:
        """``Task._canonicalise`` for several input columns: rename onto them and ``label``, check the
        labels and the rows, add ``sample_id``, drop the rest (on the Arrow table, as the base does)."""
        upstream_of = {new: old for old, new in mapping.items() if old in ds.column_names}
        needed = [(column, "input") for column in self.input_columns] + [(LABEL_COLUMN, "label")]
        columns: dict[str, str] = {}
        for column, role in needed:
            name = upstream_of.get(column, column)
            if name not in ds.column_names:
                upstream = [old for old, new in mapping.items() if new == column]
                hint = f" (upstream name {upstream[0]!r})" if upstream else ""
                raise MubenchError(
                    f"task {self.name!r}: {where} has no {role} column {column!r}{hint}; "
                    f"its columns are {list(ds.column_names)}"
                )
            columns[column] = name
        self._check_labels(ds, columns[LABEL_COLUMN], where)
        table = ds.select_columns(list(columns.values())).with_format("arrow")[:]
        table = table.rename_columns(list(columns))
        table = table.append_column(SAMPLE_ID_COLUMN, pa.array(np.arange(len(ds), dtype=np.int64)))
        features = datasets.Features(
            {**{k: ds.features[v] for k, v in columns.items()}, SAMPLE_ID_COLUMN: SAMPLE_ID_FEATURE}
        )
        fingerprint = hashlib.sha256(f"{self.name}|{where}|{ds._fingerprint}".encode()).hexdigest()[:16]
        out = datasets.Dataset(
            InMemoryTable(table), info=datasets.DatasetInfo(features=features), fingerprint=fingerprint
        )
        check_rows = getattr(self.modality_spec, "check_rows", None)
        if check_rows is not None:
            check_rows(out, f"task {self.name!r}, {where}")
        return out if out.features == self.features else out.cast(self.features)
