"""Writing a build's parquet files and its deletion order into the staging folder, hashing as it goes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.io.parquet import get_writer_batch_size_from_data_size
from datasets.table import InMemoryTable
from tqdm.auto import tqdm

from ..tasks import Task
from .layout import Segment, eval_file
from .manifest import HashingWriter, sha256_file


def write_files(
    staging: Path,
    task: Task,
    train: datasets.Dataset,
    segments: list[Segment],
    data: datasets.DatasetDict,
    eval_splits: list[str],
    deletion_order: np.ndarray,
    show_progress: bool,
) -> dict[str, dict[str, Any]]:
    """Write every file of ``task`` under ``staging``; return the manifest's ``files`` (hash, rows)."""
    # Gather each file's rows from the Arrow table into a contiguous in-memory Dataset: writing it is
    # then as fast as writing train once (Dataset.select would gather row group by row group).
    table = train.with_format("arrow")[:].combine_chunks()

    def segment_dataset(segment: Segment) -> datasets.Dataset:
        rows = table.take(pa.array(segment.indices))
        return datasets.Dataset(InMemoryTable(rows), info=train.info.copy(), fingerprint=segment.path)

    jobs: list[tuple[str, Callable[[], datasets.Dataset]]] = [
        (s.path, partial(segment_dataset, s)) for s in segments
    ]
    jobs += [(eval_file(task.name, split), partial(data.__getitem__, split)) for split in eval_splits]
    # Row groups sized as datasets sizes them (about 100 MB), measured once on the whole train table:
    # without an explicit size, to_parquet would estimate the bytes of every file again.
    rows_per_group = get_writer_batch_size_from_data_size(table.num_rows, table.nbytes)
    files: dict[str, dict[str, Any]] = {}
    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # one bar for the whole build instead of one per file
    try:
        for rel, make in tqdm(
            jobs, desc=f"Writing {task.name} splits", unit="file", disable=not show_progress
        ):
            subset = make()
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as handle:
                writer = HashingWriter(handle)
                subset.to_parquet(writer, batch_size=rows_per_group)
            files[rel] = {"sha256": writer.hexdigest(), "num_rows": len(subset)}
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    order_rel = f"data/{task.name}/deletion_order.txt"
    (staging / order_rel).write_text("".join(f"{int(i)}\n" for i in deletion_order), encoding="utf-8")
    files[order_rel] = {"sha256": sha256_file(staging / order_rel), "num_rows": len(deletion_order)}
    return files
