"""The inputs of a build, checked and resolved: the seed, the deletion order, the forget classes, and
the description of where the data came from (recorded in the manifest)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import datasets
import numpy as np

from ..errors import MubenchError
from ..tasks import Task
from ..tasks.sources import SourceLike, resolve_hub_revision
from .order import ORDER_GENERATOR, check_order_list, read_order_file, seeded_order, upstream_rows


def check_seed(seed: object) -> int:
    # numpy's generators take non-negative integers only; a bool is not a seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise MubenchError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def resolve_order(
    order: str | os.PathLike | Sequence[int] | None,
    num_train: int,
    default_length: int,
    needed: int,
    seed: int,
    *,
    sample_ids: np.ndarray | None = None,
    what: str = "the deletion order list",
    task: str = "",
    dropped: str = "",
) -> tuple[np.ndarray, str]:
    """The deletion order (positions in train) and its description: a seeded permutation of the
    ``num_train`` rows, or an order file / list of upstream train indices. ``sample_ids`` (each row's
    index in the source's train split) maps an imported order onto the rows, so that it means the rows the
    source numbers that way even when the task dropped some (``dropped`` says which, for the error)."""
    if order is None:
        return seeded_order(num_train, default_length, seed), f"seeded: {ORDER_GENERATOR}, seed={seed}"
    upstream_size = num_train if sample_ids is None or not len(sample_ids) else int(sample_ids.max()) + 1
    if isinstance(order, (str, os.PathLike)):
        indices = read_order_file(order, upstream_size, needed)
        what, description = f"order file {order}", f"imported from {Path(order).name}"
    else:
        indices = check_order_list(order, what, upstream_size, needed)
        description = "given as a list of train indices"
    return upstream_rows(indices, sample_ids, what, task, dropped), description


def label_index(task: Task, value: object) -> int | None:
    """The label index a class is given by (its index, as int or text, or its name), or ``None``."""
    if isinstance(value, str) and value in task.label2id:
        return task.label2id[value]
    if isinstance(value, bool):
        return None
    try:
        label = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return label if 0 <= label < task.num_labels else None


def check_forget_classes(task: Task, forget_classes: Iterable[int | str]) -> None:
    """Before any data is loaded: a task without classes (a generation task) has no class-wise configs,
    and every class must be an index or a name of the task's."""
    values = list(forget_classes)
    if values and task.num_labels == 0:
        raise MubenchError(
            f"forget class {', '.join(map(repr, values))}: task {task.name!r} is a {task.kind} task and has no "
            "classes, so it has no class-wise configs; drop --forget-class (deletion ratios work: --ratios)"
        )
    for value in values:
        if label_index(task, value) is None:
            raise MubenchError(
                f"forget class {value!r} is not a label of task {task.name!r}: give an index in "
                f"[0, {task.num_labels}) or one of {list(task.class_names)[:10]}"
            )


def resolve_classes(task: Task, forget_classes: Iterable[int | str], labels: np.ndarray) -> list[int]:
    """Forget classes (index or class name) as sorted, distinct label indices that occur in train."""
    resolved: list[int] = []
    for value in forget_classes:
        label = label_index(task, value)
        if label is None:
            raise MubenchError(
                f"forget class {value!r} is not a label of task {task.name!r}: give an index in "
                f"[0, {task.num_labels}) or one of {list(task.class_names)[:10]}"
            )
        if not np.any(labels == label):
            raise MubenchError(
                f"forget class {value!r}: task {task.name!r} has no training sample of that class"
            )
        if label not in resolved:
            resolved.append(label)
    return sorted(resolved)


def describe_source(task: Task, source: SourceLike) -> str:
    if source is None:
        return resolve_hub_revision(task.hub) if task.hub is not None else task.source_description()
    if isinstance(source, datasets.DatasetDict):
        return "a DatasetDict given in memory (source override)"
    if isinstance(source, Mapping):  # several upstream configs (TOFU's), each given in memory
        return f"configs {', '.join(sorted(map(str, source)))} given in memory (source override)"
    return f"local copy {Path(source).name} (source override)"


def describe_ood(task: Task, ood_source: SourceLike | bool, has_ood: bool) -> str | None:
    if not has_ood or task.ood is None:
        return None
    if ood_source is None or ood_source is True:
        return f"{resolve_hub_revision(task.ood)} ({task.ood.split} split)"
    if isinstance(ood_source, datasets.DatasetDict):
        return "a DatasetDict given in memory (OOD override)"
    return f"local copy {Path(ood_source).name} (OOD override)"
