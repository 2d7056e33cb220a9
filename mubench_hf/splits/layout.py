"""Where each train row is stored, and which files make up each config.

Every train row is written exactly once. The deletion order is cut into chunks at the ratio
boundaries (``chunk-01`` ... ``chunk-k``); rows never deleted go to ``keep``. When class-wise
configs are asked for, each of those files is further cut by class (``chunk-03-class7``,
``chunk-03-other``), so class configs reuse the same files instead of copying rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import MubenchError
from .ratios import format_ratio

# holdout, real_authors and world_facts: the extra evaluation splits of generation tasks (TOFU's)
# forget_mcq and utility_mcq: multiple-choice questions about the forgotten and the kept domain (WMDP's, MMLU's)
# verbmem and knowmem: the probes of MUSE-shaped tasks (kinds/generation/muse_report.py)
EVAL_SPLITS = (
    "validation",
    "test",
    "ood",
    "holdout",
    "real_authors",
    "world_facts",
    "forget_mcq",
    "utility_mcq",
    "verbmem",
    "knowmem",
)
# forget_cumulative: a request step's Df_≤i (see requests.py)
SPLIT_ORDER = ("train", "forget", "forget_cumulative", "retain", *EVAL_SPLITS)


@dataclass(frozen=True)
class Segment:
    """One parquet file of train rows."""

    path: str
    indices: np.ndarray
    chunk: int | None  # 1..k, or None for the rows that are never deleted
    label: int | None  # the forget class held by this file, or None


def del_config_name(task: str, ratio: Fraction) -> str:
    return f"{task}_del{format_ratio(ratio)}"


def class_config_name(task: str, label: int) -> str:
    return f"{task}_class{label}"


# ... and <task>_req<k>x<p>_step<i>: step i of a request schedule (requests.py)
_CONFIG_NAME = re.compile(r"^(?P<task>.+)_(del[0-9.]+|class[0-9]+|req[0-9]+x[0-9.]+_step[0-9]+)$")


def is_class_config(config: str) -> bool:
    """``digits_class3`` (class-wise deletion) rather than ``digits_del5`` (random deletion)."""
    match = _CONFIG_NAME.match(config)
    return match is not None and match.group(2).startswith("class")


def task_of_config(config: str) -> str:
    """The task of a deletion config name: ``digits_del5`` and ``digits_class3`` → ``digits``."""
    match = _CONFIG_NAME.match(config)
    if match is None:
        raise MubenchError(
            f"{config!r} is not a deletion config name (<task>_del<p>, <task>_class<k> or "
            "<task>_req<k>x<p>_step<i>); pass the task explicitly"
        )
    return match.group("task")


def plan_segments(
    task: str, order: np.ndarray, counts: list[int], labels: np.ndarray, forget_classes: list[int]
) -> list[Segment]:
    """Cut the train rows into files: one per chunk of the order (and per forget class), plus keep."""
    width = max(2, len(str(len(counts))))
    pieces: list[tuple[str, np.ndarray, int | None]] = []
    start = 0
    for number, stop in enumerate(counts, start=1):
        pieces.append((f"chunk-{number:0{width}d}", order[start:stop], number))
        start = stop
    deleted = np.zeros(len(labels), dtype=bool)
    deleted[order[: counts[-1]]] = True
    pieces.append(("keep", np.flatnonzero(~deleted).astype(np.int64), None))

    segments: list[Segment] = []
    for stem, idx, chunk in pieces:
        if not len(
            idx
        ):  # only keep, when the largest ratio is 100 %: no file (datasets refuses empty splits)
            continue
        if not forget_classes:
            segments.append(Segment(f"data/{task}/train/{stem}.parquet", idx, chunk, None))
            continue
        row_labels = labels[idx]
        for label in forget_classes:
            part = idx[row_labels == label]
            if len(part):
                segments.append(Segment(f"data/{task}/train/{stem}-class{label}.parquet", part, chunk, label))
        other = idx[~np.isin(row_labels, forget_classes)]
        if len(other):
            segments.append(Segment(f"data/{task}/train/{stem}-other.parquet", other, chunk, None))
    return segments


def eval_file(task: str, split: str) -> str:
    return f"data/{task}/{split}.parquet"


def plan_configs(
    task: str,
    ratios: list[Fraction],
    segments: list[Segment],
    forget_classes: list[int],
    eval_splits: list[str],
) -> dict[str, dict[str, list[str]]]:
    """Config name -> split name -> the files that make the split."""
    everything = [s.path for s in segments]
    evals = {split: [eval_file(task, split)] for split in EVAL_SPLITS if split in eval_splits}
    configs: dict[str, dict[str, list[str]]] = {}
    for number, ratio in enumerate(ratios, start=1):
        forgotten = [s.chunk is not None and s.chunk <= number for s in segments]
        retain = [s.path for s, f in zip(segments, forgotten) if not f]
        configs[del_config_name(task, ratio)] = {
            "train": list(everything),
            "forget": [s.path for s, f in zip(segments, forgotten) if f],
            # 100 % forgets every row: that config has no retain split at all (an empty one cannot load)
            **({"retain": retain} if retain else {}),
            **{k: list(v) for k, v in evals.items()},
        }
    for label in forget_classes:
        configs[class_config_name(task, label)] = {
            "train": list(everything),
            "forget": [s.path for s in segments if s.label == label],
            "retain": [s.path for s in segments if s.label != label],
            **{k: list(v) for k, v in evals.items()},
        }
    return configs
