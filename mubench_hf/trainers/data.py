"""What an unlearning method trains on, built from the forget set Df and the retain set Dr.

A method declares *what* it consumes with its ``data_use`` class attribute; this module turns that
declaration into a dataset for ``Trainer``'s own dataloader (so its seeded sampler, sharding across
processes and batch skipping on resume keep working). The data code never looks at method names.

* ``FORGET`` / ``RETAIN``: rows of Df or Dr as they are.
* ``PAIRED``: each row pairs a forget row with a retain row; batches arrive as
  ``{"forget": {...}, "retain": {...}}`` (both halves padded together, so they can share one forward).
* ``UNION_RELABELLED``: Dr together with Df whose labels are replaced by a random *different* class.
* ``SEPARATE``: the method reads Df and Dr itself (e.g. SSD's importance estimates); no training batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, NamedTuple

import datasets
import numpy as np
from torch.utils.data import ConcatDataset, Dataset

from ..errors import MubenchError
from ..rows import RowDataset

# Where a labelled row keeps its class: the data collators accept all three and emit "labels".
LABEL_KEYS = ("labels", "label", "label_ids")


class DataUse(str, Enum):
    """What a method consumes (see the module docstring)."""

    FORGET = "forget"
    RETAIN = "retain"
    PAIRED = "paired"
    UNION_RELABELLED = "union_relabelled"
    SEPARATE = "separate"

    @property
    def needs(self) -> tuple[str, ...]:
        """Which of the forget / retain sets this use reads."""
        return {
            DataUse.FORGET: ("forget",),
            DataUse.RETAIN: ("retain",),
        }.get(self, ("forget", "retain"))


# ----------------------------------------------------------------------------- labels
def _column_names(dataset: Any) -> list[str] | None:
    names = getattr(dataset, "column_names", None)
    return list(names) if names is not None else None


def label_key(dataset: Any, what: str) -> str:
    """The label column of ``dataset`` (one of ``LABEL_KEYS``), or a clear error naming ``what``."""
    names = _column_names(dataset)
    if names is None:  # a torch Dataset: look at its first row
        first = dataset[0] if len(dataset) else {}
        names = list(first) if isinstance(first, dict) else []
    for key in LABEL_KEYS:
        if key in names:
            return key
    raise MubenchError(
        f"{what} has no label column: expected one of {list(LABEL_KEYS)}, its columns are {names}"
    )


def read_labels(dataset: Any, what: str) -> np.ndarray:
    """All labels of ``dataset`` as an int64 array, without running its (possibly costly) transform."""
    key = label_key(dataset, what)
    if isinstance(dataset, datasets.Dataset):
        # with_format(None) drops a with_transform()/set_transform() formatter: reading one column
        # then touches Arrow only, not the images.
        return np.asarray(dataset.with_format(None)[key], dtype=np.int64)
    return np.asarray([int(dataset[i][key]) for i in range(len(dataset))], dtype=np.int64)


def declared_class_count(dataset: Any) -> int | None:
    """Number of classes a ``datasets.ClassLabel`` label column declares (None if it declares none)."""
    features = getattr(dataset, "features", None)
    if not features:
        return None
    for key in LABEL_KEYS:
        feature = features.get(key)
        if isinstance(feature, datasets.ClassLabel):
            return feature.num_classes
    return None


def random_other_labels(labels: np.ndarray, num_labels: int, seed: int) -> np.ndarray:
    """For each label y a class drawn uniformly from the other ``num_labels - 1`` classes (never y)."""
    if num_labels < 2:
        raise MubenchError(f"random relabelling needs at least 2 classes, the model has {num_labels}")
    rng = np.random.default_rng(seed)
    # y + k (mod K) with k uniform in 1..K-1 is uniform over the classes other than y.
    return (labels + rng.integers(1, num_labels, size=len(labels))) % num_labels


# ----------------------------------------------------------------------------- datasets
class RelabelledDataset(RowDataset):
    """Rows of ``dataset`` with their label replaced by ``labels[index]``.

    The label is replaced in the row as the dataset returns it, i.e. after any ``with_transform``
    formatter (which typically renames ``label`` to ``labels``).
    """

    def __init__(self, dataset: Any, labels: Sequence[int]) -> None:
        super().__init__(dataset)
        if len(labels) != len(dataset):
            raise ValueError(f"{len(labels)} new labels for {len(dataset)} rows")
        self.labels = [int(v) for v in labels]

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = dict(self.dataset[int(index)])
        keys = [key for key in LABEL_KEYS if key in row]
        if not keys:
            raise MubenchError(f"row {index} of the forget set has no label (looked for {list(LABEL_KEYS)})")
        for key in keys:
            row[key] = self.labels[int(index)]
        return row


class PairedRow(NamedTuple):
    """One forget row and one retain row. Not a dict on purpose: ``Trainer``'s column filter passes
    it through untouched and ``PairedCollator`` filters each half."""

    forget: dict[str, Any]
    retain: dict[str, Any]


class PairedDataset(Dataset):
    """Pairs rows of Df and Dr (see ``UnlearnConfig.pair_anchor``).

    Which partner a row gets is fixed by a seeded permutation of the other set; ``Trainer``'s sampler
    shuffles the pairs every epoch, so the forget and the retain half of a batch are random subsets.
    """

    def __init__(self, forget: Any, retain: Any, anchor: str = "longest", seed: int = 0) -> None:
        self.forget, self.retain = forget, retain
        n_forget, n_retain = len(forget), len(retain)
        if anchor == "longest":
            self.length = max(n_forget, n_retain)
        elif anchor in ("forget", "retain"):
            self.length = n_forget if anchor == "forget" else n_retain
        else:
            raise MubenchError(f"pair_anchor must be 'longest', 'forget' or 'retain', got {anchor!r}")
        rng = np.random.default_rng(seed)
        # The set whose length is the epoch length is read in order (the sampler shuffles it); the
        # other one is read through a seeded permutation, cycled if it is shorter.
        self.forget_order = np.arange(n_forget) if n_forget == self.length else rng.permutation(n_forget)
        self.retain_order = np.arange(n_retain) if n_retain == self.length else rng.permutation(n_retain)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> PairedRow:
        index = int(index)
        forget_index = int(self.forget_order[index % len(self.forget_order)])
        retain_index = int(self.retain_order[index % len(self.retain_order)])
        return PairedRow(self.forget[forget_index], self.retain[retain_index])


class PairedCollator:
    """Collates ``PairedRow``s into ``{"forget": batch, "retain": batch}``; other rows as usual.

    Both halves go through ``collate`` together, so text is padded to one length and a method can run
    a single forward pass over both halves. ``keep_columns`` (the model's forward arguments) filters
    each row, as ``Trainer`` does for ordinary rows.
    """

    def __init__(
        self, collate: Callable[[list[dict]], dict], keep_columns: Sequence[str] | None = None
    ) -> None:
        self.collate = collate
        self.keep_columns = set(keep_columns) if keep_columns is not None else None

    def _keep(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.keep_columns is None:
            return row
        return {k: v for k, v in row.items() if k in self.keep_columns}

    def __call__(self, features: list[Any]) -> dict[str, Any]:
        if not features or not isinstance(features[0], PairedRow):
            return self.collate(features)
        n = len(features)
        rows = [self._keep(f.forget) for f in features] + [self._keep(f.retain) for f in features]
        batch = self.collate(rows)
        return {
            "forget": {k: v[:n] for k, v in batch.items()},
            "retain": {k: v[n:] for k, v in batch.items()},
        }


# ----------------------------------------------------------------------------- building
def check_datasets(method: str, use: DataUse, forget: Any, retain: Any) -> None:
    """Every set ``use`` needs is present, non-empty and labelled; otherwise say which and why."""
    given = {"forget": forget, "retain": retain}
    for name in use.needs:
        dataset = given[name]
        if dataset is None:
            raise MubenchError(
                f"method {method!r} needs the {name} set: pass {name}_dataset=... "
                f"(or splits= a DatasetDict with a {name!r} split)"
            )
        if len(dataset) == 0:
            raise MubenchError(
                f"method {method!r} needs a non-empty {name} set, the {name} set given has 0 rows"
            )
        label_key(dataset, f"the {name} set")


def build_training_data(
    use: DataUse,
    forget: Any,
    retain: Any,
    *,
    num_labels: int,
    seed: int,
    anchor: str = "longest",
) -> Dataset | None:
    """The training dataset for a method that consumes ``use``."""
    if use is DataUse.FORGET:
        return RowDataset(forget)
    if use is DataUse.RETAIN:
        return RowDataset(retain)
    if use is DataUse.PAIRED:
        return PairedDataset(forget, retain, anchor=anchor, seed=seed)
    if use is DataUse.UNION_RELABELLED:
        labels = random_other_labels(read_labels(forget, "the forget set"), num_labels, seed)
        return ConcatDataset([RelabelledDataset(forget, labels), RowDataset(retain)])
    if use is DataUse.SEPARATE:
        return None
    raise ValueError(f"unhandled data use {use!r}")
