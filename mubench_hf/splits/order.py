"""Deletion orders: a seeded permutation of the train indices, or an imported MU-Bench index list."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import MubenchError

# Documented generator: NumPy's default_rng (PCG64) seeded with the build seed, one permutation of
# range(num_train), truncated to the length needed.
ORDER_GENERATOR = "numpy.random.default_rng(seed).permutation(num_train)"


def seeded_order(num_train: int, length: int, seed: int) -> np.ndarray:
    """The first ``length`` entries of a seeded permutation of ``range(num_train)``."""
    return np.random.default_rng(seed).permutation(num_train)[:length].astype(np.int64)


def read_order_file(path: str | os.PathLike, num_train: int, needed: int) -> np.ndarray:
    """Read an order file (one train index per line, MU-Bench's format) and check it.

    Blank lines are ignored. Duplicates, non-integers, indices outside ``[0, num_train)`` and a file
    shorter than ``needed`` are errors that name the line.
    """
    path = Path(path)
    if path.is_dir():
        raise MubenchError(f"order file {path} is a folder; give a text file with one train index per line")
    if not path.is_file():
        raise MubenchError(
            f"order file {path} does not exist; give a text file with one train index per line"
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise MubenchError(
            f"order file {path} is not UTF-8 text; give a text file with one train index per line"
        ) from None
    entries = [(f"line {n}", line.strip()) for n, line in enumerate(lines, start=1) if line.strip()]
    return _check_entries(entries, f"order file {path}", "one train index per line", num_train, needed)


def check_order_list(order: Sequence[object], what: str, num_train: int, needed: int) -> np.ndarray:
    """Check a deletion order given as a list (``what`` names it in errors): the rules of an order file,
    entries counted from 1."""
    entries = [(f"entry {n}", str(value).strip()) for n, value in enumerate(order, start=1)]
    return _check_entries(entries, what, "a list of train indices", num_train, needed)


def _check_entries(
    entries: list[tuple[str, str]], what: str, shape: str, num_train: int, needed: int
) -> np.ndarray:
    indices: list[int] = []
    seen: dict[int, str] = {}
    for where, text in entries:
        try:
            index = int(text)
        except ValueError:
            raise MubenchError(f"{what}, {where}: {text!r} is not an integer train index") from None
        if not 0 <= index < num_train:
            raise MubenchError(f"{what}, {where}: index {index} is out of range [0, {num_train})")
        if index in seen:
            raise MubenchError(f"{what}, {where}: index {index} repeats {seen[index]}")
        seen[index] = where
        indices.append(index)
    if not indices:
        raise MubenchError(f"{what} is empty; give {shape} (the largest ratio needs {needed})")
    if len(indices) < needed:
        raise MubenchError(f"{what} lists {len(indices)} indices but the largest ratio needs {needed}")
    return np.asarray(indices, dtype=np.int64)


def upstream_rows(
    order: np.ndarray, sample_ids: np.ndarray | None, what: str, task: str, dropped: str
) -> np.ndarray:
    """An imported order of *upstream* train indices (MU-Bench's lists index the source's train split) as
    positions in the task's train rows, whose ``sample_id`` is that upstream index. A task that drops
    rows (samsum's empty dialogues) keeps every other row's upstream index; an order naming a dropped row
    is refused by name (``dropped`` says what the task drops)."""
    if sample_ids is None or np.array_equal(sample_ids, np.arange(len(sample_ids))):
        return order
    sorter = np.argsort(sample_ids, kind="stable")
    ordered = sample_ids[sorter]
    if len(ordered) > 1 and np.any(ordered[1:] == ordered[:-1]):
        repeated = int(ordered[1:][ordered[1:] == ordered[:-1]][0])
        raise MubenchError(
            f"task {task!r}: sample_id {repeated} names two train rows, so {what} cannot say which one it means"
        )
    slot = np.minimum(np.searchsorted(ordered, order), len(ordered) - 1)
    found = ordered[slot] == order
    if not np.all(found):
        gone = order[~found]
        listed = ", ".join(str(int(i)) for i in gone[:5]) + (", ..." if len(gone) > 5 else "")
        raise MubenchError(
            f"{what} names upstream train row(s) {listed}, which task {task!r} drops{dropped}: they have no "
            f"sample; remove them from the order (every other row keeps its upstream index as its sample_id)"
        )
    return sorter[slot].astype(np.int64)


def expand_group_order(
    group_order: np.ndarray, counts: list[int], row_groups: np.ndarray
) -> tuple[np.ndarray, list[int]]:
    """Deletion by group: a deletion order of groups (indices into the sorted distinct groups of
    ``row_groups``) and forget counts in groups → the order of train rows (each group's rows in train
    order, group after group) and the forget counts in rows. Forget sets stay nested."""
    groups, inverse = np.unique(row_groups, return_inverse=True)
    rows_of = [np.flatnonzero(inverse == g) for g in range(len(groups))]
    lengths = np.cumsum([0, *(len(rows_of[g]) for g in group_order)])
    order = np.concatenate([rows_of[g] for g in group_order]) if len(group_order) else np.zeros(0, np.int64)
    return order.astype(np.int64), [int(lengths[c]) for c in counts]


# Documented generator of the class-stratified order (``--stratify``): per class (increasing label), a
# seeded permutation of its rows; the k-th row of a class of n_c rows is due at (k + 1/2) / n_c; rows are
# taken in order of when they are due, ties (classes of equal size) in a seeded random order.
STRATIFIED_ORDER_GENERATOR = (
    "rng = numpy.random.default_rng(seed); per class c (increasing): rng.permutation(rows of c), "
    "due[k] = (k + 0.5) / n_c; ties by rng.permutation(num_train); lexsort"
)


def stratified_order(labels: np.ndarray, length: int, seed: int) -> np.ndarray:
    """The first ``length`` entries of a seeded, class-stratified order of the train rows.

    Every prefix holds each class in proportion to its share of ``labels``, within one row (MU-Bench's
    deletion lists are class-stratified 10 % samples); within a class the order is a seeded permutation.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    due = np.empty(len(labels), dtype=np.float64)
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        due[rows] = (np.arange(len(rows)) + 0.5) / len(rows)
    tie_break = rng.permutation(len(labels))
    return np.lexsort((tie_break, due))[:length].astype(np.int64)


def resolve_stratified_order(
    labels: np.ndarray, length: int, seed: int, *, order: object = None, grouped: bool = False
) -> tuple[np.ndarray, str]:
    """``build_splits(..., stratify=True)``: the class-stratified order and its description; refused
    with an imported order (it is already an order) and for deletion by group (groups have no class)."""
    if order is not None:
        raise MubenchError(
            "stratify=True (--stratify) makes a seeded class-stratified order, and --order imports one: "
            "give one of them"
        )
    if grouped:
        raise MubenchError(
            "stratify=True (--stratify) stratifies rows by class, but this task deletes whole groups: "
            "leave --stratify out"
        )
    return stratified_order(labels, length, seed), f"stratified: {STRATIFIED_ORDER_GENERATOR}, seed={seed}"
