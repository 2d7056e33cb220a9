"""Audio splits prepared once: each row's feature-extractor output decoded by ``Dataset.map`` (cached
on disk next to the split) and stored flat, then served as tensors cut from the memory-mapped Arrow
columns (``PreparedAudioRows``). :meth:`AudioModality.prepare_split <mubench_hf.modalities.audio.AudioModality.prepare_split>`
calls :func:`prepare_audio_split`; why rows are served this way is in :mod:`mubench_hf.modalities.audio`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import datasets
import numpy as np

from ..errors import MubenchError
from .base import serve_prepared_rows


class FeatureTransform(Protocol):
    """What :func:`prepare_audio_split` needs of a transform (``AudioTransform`` is one)."""

    input_column: str
    label_column: str

    def features(self, batch: Mapping[str, Sequence[Any]]) -> dict[str, list[np.ndarray]]: ...

    def fingerprint(self) -> str: ...


#: Bumped when the stored layout of prepared features changes, so older ``prepare_split`` caches are not reused.
PREPARED_LAYOUT = "flat-v2"


def _stored_feature(example: np.ndarray) -> datasets.features.features.FeatureType:
    """How one row's features are stored: flat, whatever their shape (``PreparedAudioRows`` gives the
    shape back). A 1-D list is what Arrow hands back without a copy; ``Array2D`` cost ~3 ms a row."""
    if example.ndim not in (1, 2):
        raise MubenchError(f"audio features of {example.ndim} dimensions are not supported")
    return datasets.List(datasets.Value(str(example.dtype)))


def _served_dtype(dtype: np.dtype) -> np.dtype:
    # what datasets' torch format made of stored arrays, kept so rows are the tensors they were:
    # integers as int64, floats as float32
    return np.dtype(np.int64) if np.issubdtype(dtype, np.integer) else np.dtype(np.float32)


class PreparedAudioRows:
    """The rows of a prepared audio split, read straight from its Arrow columns by position.

    Each feature column is a flat list per row; its values buffer is viewed as NumPy once (no copy: the
    table is memory-mapped from the ``map`` cache), and a row is a slice of it, copied into a tensor of its
    shape (``[40, 100]`` for the tiny Whisper) and dtype. ``label`` comes back as a 0-d int64 tensor, as the
    torch format gave it. The views are rebuilt after unpickling (DataLoader workers)."""

    def __init__(
        self,
        table: Any,
        shapes: Mapping[str, tuple[int, ...]],
        dtypes: Mapping[str, np.dtype],
        label_column: str | None,
    ) -> None:
        self.table = table
        self.shapes = dict(shapes)
        self.dtypes = dict(dtypes)
        self.label_column = label_column
        self._views: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_views": None}

    def _build_views(self) -> dict[str, Any]:
        import torch

        views: dict[str, Any] = {}
        for name in self.shapes:
            chunks = [chunk for chunk in self.table.column(name).chunks if len(chunk)]
            starts = np.cumsum([0] + [len(chunk) for chunk in chunks])
            parts = [
                (chunk.offsets.to_numpy(), chunk.values.to_numpy(zero_copy_only=False)) for chunk in chunks
            ]
            views[name] = (starts, parts)
        if self.label_column is not None:
            labels = self.table.column(self.label_column).to_numpy().astype(np.int64)
            views[self.label_column] = torch.from_numpy(labels)
        return views

    def _row(self, name: str, position: int) -> Any:
        import torch

        starts, parts = self._views[name]
        chunk = int(np.searchsorted(starts, position, side="right")) - 1
        offsets, values = parts[chunk]
        i = position - int(starts[chunk])
        flat = np.array(values[offsets[i] : offsets[i + 1]], dtype=self.dtypes[name])  # a writable copy
        return torch.from_numpy(flat.reshape(self.shapes[name]))

    def __call__(self, positions: list[int]) -> dict[str, list]:
        if self._views is None:
            self._views = self._build_views()
        out: dict[str, list] = {}
        if self.label_column is not None:  # first, where the torch format had it (the table's order)
            labels = self._views[self.label_column]
            out[self.label_column] = [labels[p] for p in positions]
        for name in self.shapes:
            out[name] = [self._row(name, p) for p in positions]
        return out


def prepare_audio_split(
    split: datasets.Dataset, transform: FeatureTransform, *, desc: str = "decoding audio"
) -> datasets.Dataset:
    """``split`` with its audio decoded and turned into model inputs once (``Dataset.map``, cached on disk
    next to the split), served as torch tensors: the model inputs and ``label`` per row (the same tensors as
    the lazy ``transform``, read as array views: ``PreparedAudioRows``); ``sample_id`` and the rest stay
    readable with ``with_format(None)``."""
    column = transform.input_column
    if column not in split.column_names:
        raise MubenchError(f"the split has no audio column {column!r}; its columns are {split.column_names}")
    first = transform.features(split.select(range(1))[:1]) if len(split) else {}
    kept = [name for name in split.column_names if name != column]
    features = datasets.Features(
        {
            **{name: split.features[name] for name in kept},
            **{name: _stored_feature(values[0]) for name, values in first.items()},
        }
    )

    def decode(batch: dict[str, list]) -> dict[str, list]:
        return {name: [v.ravel() for v in values] for name, values in transform.features(batch).items()}

    # an explicit fingerprint: datasets would otherwise hash the feature extractor object itself
    key = f"{split._fingerprint}|{transform.fingerprint()}|{PREPARED_LAYOUT}"
    prepared = split.map(
        decode,
        batched=True,
        batch_size=64,
        remove_columns=[column],
        features=features,
        new_fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16],
        desc=desc,
    )
    # rows of one shape but the last axis (Whisper: mel bins x frames; waveforms: their own length)
    shapes = {name: (*values[0].shape[:-1], -1) for name, values in first.items()}
    dtypes = {name: _served_dtype(values[0].dtype) for name, values in first.items()}
    label = transform.label_column if transform.label_column in prepared.column_names else None
    return serve_prepared_rows(prepared, PreparedAudioRows(prepared.data, shapes, dtypes, label))
