"""Build MU-Bench-style deletion splits as a dataset repo that ``datasets.load_dataset`` reads.

See ``layout.py`` for the file layout and ``manifest.py`` for the manifest. Writing goes to a staging
folder beside the output and is moved into place only when everything succeeded, so a failure leaves
the output folder as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.io.parquet import get_writer_batch_size_from_data_size
from datasets.table import InMemoryTable
from tqdm.auto import tqdm

from .. import __version__
from ..columns import column_numpy
from ..errors import MubenchError
from ..tasks import Task, get_task
from ..tasks.base import LABEL_COLUMN, SourceLike, resolve_hub_revision
from .card import render_card
from .layout import EVAL_SPLITS, Segment, eval_file, plan_configs, plan_segments
from .manifest import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    HashingWriter,
    is_mubench_repo,
    read_manifest,
    repo_content_hash,
    sha256_file,
    task_content_hash,
    write_manifest,
)
from .order import ORDER_GENERATOR, read_order_file, seeded_order
from .ratios import DEFAULT_RATIOS, forget_counts, format_ratio, parse_ratios

DEFAULT_OUTPUT_DIR = "mubench"
DEFAULT_SEED = 42


@dataclass
class BuildResult:
    """What ``build_splits`` wrote."""

    path: Path
    task: str
    content_hash: str
    split_sizes: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def configs(self) -> list[str]:
        return list(self.split_sizes)


def build_splits(
    task: str | Task,
    output_dir: str | os.PathLike = DEFAULT_OUTPUT_DIR,
    ratios: Iterable[object] | str = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
    order: str | os.PathLike | Sequence[int] | None = None,
    forget_classes: Iterable[int | str] = (),
    source: SourceLike = None,
    ood_source: SourceLike | bool = None,
    overwrite: bool = False,
    show_progress: bool = True,
) -> BuildResult:
    """Write the deletion configs of ``task`` into the dataset repo ``output_dir``.

    Args:
        task: a registered task name (see ``mubench_hf.list_tasks()``) or a ``Task``.
        output_dir: the repo folder; other tasks already in it are kept.
        ratios: deletion percentages; ratio p gives config ``<task>_del<p>`` forgetting
            floor(p/10 * m) samples of the m-long deletion order (m = 10 % of train).
        seed: seed of the deletion order (``numpy.random.default_rng(seed).permutation``).
        order: an external deletion order (a file with one train index per line, or a sequence of
            ints) that replaces the seeded permutation, e.g. to reproduce published MU-Bench splits.
        forget_classes: classes (index or name) that get a class-wise config ``<task>_class<k>``.
        source: replaces the task's Hub dataset (a local path or a ``DatasetDict`` with the upstream
            schema). ``ood_source`` does the same for the OOD set; ``False`` skips the OOD set.
        overwrite: replace a folder that is not a mubench repo, or this task's existing configs
            when they differ from the new ones.
        show_progress: show a progress bar while writing.
    """
    spec = get_task(task)
    ratio_list = parse_ratios(ratios)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise MubenchError(f"seed must be an integer, got {seed!r}")
    output = Path(output_dir)
    _check_output(output, overwrite)

    data = spec.load(source=source, ood_source=ood_source)
    train = data["train"]
    num_train = len(train)
    if num_train == 0:
        raise MubenchError(f"task {spec.name!r}: the train split is empty")
    order_size = spec.deletion_order_size(num_train)
    counts = forget_counts(ratio_list, order_size, num_train)
    deletion_order, order_description = _resolve_order(
        order, num_train, max(order_size, counts[-1]), counts[-1], seed
    )
    labels = column_numpy(train, LABEL_COLUMN).astype(np.int64)
    classes = _resolve_classes(spec, forget_classes, labels)

    segments = plan_segments(spec.name, deletion_order, counts, labels, classes)
    eval_splits = [s for s in EVAL_SPLITS if s in data]
    for split in eval_splits:
        if len(data[split]) == 0:
            raise MubenchError(f"task {spec.name!r}: the {split} split is empty")
    configs = plan_configs(spec.name, ratio_list, segments, classes, eval_splits)

    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.staging-", dir=_parent_of(output)))
    try:
        files = _write_files(staging, spec, train, segments, data, eval_splits, deletion_order, show_progress)
        sizes = {
            name: {split: sum(files[path]["num_rows"] for path in paths) for split, paths in splits.items()}
            for name, splits in configs.items()
        }
        entry = {
            "name": spec.name,
            "modality": spec.modality,
            "num_labels": spec.num_labels,
            "class_names": list(spec.class_names),
            "license": spec.license,
            "source": _describe_source(spec, source),
            "ood_source": _describe_ood(spec, ood_source, "ood" in data),
            "seed": int(seed),
            "ratios": [format_ratio(r) for r in ratio_list],
            "forget_classes": classes,
            "order_description": order_description,
            "deletion_order_size": order_size,
            "num_train": num_train,
            "features": spec.features.to_dict(),
            "configs": configs,
            "split_sizes": sizes,
            "files": files,
        }
        entry["content_hash"] = task_content_hash(files, configs)
        manifest = _merge_manifest(output, entry, overwrite)
        (staging / "README.md").write_text(render_card(manifest, repo_id=output.name), encoding="utf-8")
        write_manifest(staging / MANIFEST_NAME, manifest)
        _move_into_place(staging, output, spec.name, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(path=output, task=spec.name, content_hash=entry["content_hash"], split_sizes=sizes)


# --------------------------------------------------------------------------- checks
def _parent_of(output: Path) -> Path:
    parent = output.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _check_output(output: Path, overwrite: bool) -> None:
    if output.exists() and not output.is_dir():
        raise MubenchError(f"output {output} exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not is_mubench_repo(output) and not overwrite:
        raise MubenchError(
            f"output folder {output} is not empty and is not a mubench deletion repo (no {MANIFEST_NAME}); "
            "choose another folder or pass overwrite=True (--overwrite) to replace its contents"
        )
    if is_mubench_repo(output):
        read_manifest(output)  # a broken manifest is reported before any work


def _resolve_order(
    order: str | os.PathLike | Sequence[int] | None,
    num_train: int,
    default_length: int,
    needed: int,
    seed: int,
) -> tuple[np.ndarray, str]:
    if order is None:
        return seeded_order(num_train, default_length, seed), f"seeded: {ORDER_GENERATOR}, seed={seed}"
    if isinstance(order, (str, os.PathLike)):
        return read_order_file(order, num_train, needed), f"imported from {Path(order).name}"
    with tempfile.TemporaryDirectory() as tmp:  # one validation path for files and in-memory lists
        path = Path(tmp) / "order.txt"
        path.write_text("\n".join(str(i) for i in order) + "\n")
        return read_order_file(path, num_train, needed), "given as a list of train indices"


def _resolve_classes(task: Task, forget_classes: Iterable[int | str], labels: np.ndarray) -> list[int]:
    resolved: list[int] = []
    for value in forget_classes:
        if isinstance(value, str) and value in task.label2id:
            label = task.label2id[value]
        else:
            try:
                label = int(value)
            except (TypeError, ValueError):
                label = -1
        if not 0 <= label < task.num_labels:
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


def _describe_source(task: Task, source: SourceLike) -> str:
    if source is None:
        return resolve_hub_revision(task.hub) if task.hub is not None else task.source_description()
    if isinstance(source, datasets.DatasetDict):
        return "a DatasetDict given in memory (source override)"
    return f"local copy {Path(source).name} (source override)"


def _describe_ood(task: Task, ood_source: SourceLike | bool, has_ood: bool) -> str | None:
    if not has_ood or task.ood is None:
        return None
    if ood_source is None or ood_source is True:
        return f"{resolve_hub_revision(task.ood)} ({task.ood.split} split)"
    if isinstance(ood_source, datasets.DatasetDict):
        return "a DatasetDict given in memory (OOD override)"
    return f"local copy {Path(ood_source).name} (OOD override)"


# --------------------------------------------------------------------------- writing
def _write_files(
    staging: Path,
    task: Task,
    train: datasets.Dataset,
    segments: list[Segment],
    data: datasets.DatasetDict,
    eval_splits: list[str],
    deletion_order: np.ndarray,
    show_progress: bool,
) -> dict[str, dict[str, Any]]:
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


def _merge_manifest(output: Path, entry: dict[str, Any], overwrite: bool) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    if is_mubench_repo(output):
        tasks = dict(read_manifest(output)["tasks"])
        old = tasks.get(entry["name"])
        if old is not None and old["content_hash"] != entry["content_hash"] and not overwrite:
            raise MubenchError(
                f"{output} already holds task {entry['name']!r} built differently "
                f"(seed {old['seed']}, ratios {','.join(old['ratios'])}); pass overwrite=True (--overwrite) "
                "to replace it, or build into another folder"
            )
    tasks[entry["name"]] = entry
    tasks = dict(sorted(tasks.items()))
    return {
        "format_version": FORMAT_VERSION,
        "mubench_hf_version": __version__,
        "content_hash": repo_content_hash(tasks),
        "tasks": tasks,
    }


def _move_into_place(staging: Path, output: Path, task_name: str, overwrite: bool) -> None:
    """Swap the staged files in with renames (same file system), so readers never see half a build."""
    trash = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=staging.parent))
    try:
        if not output.exists() or (overwrite and not is_mubench_repo(output)):
            if output.exists():
                output.rename(trash / "previous")
            staging.rename(output)
            return
        task_dir = output / "data" / task_name
        if task_dir.exists():
            task_dir.rename(trash / task_name)
        (output / "data").mkdir(exist_ok=True)
        (staging / "data" / task_name).rename(task_dir)
        os.replace(staging / "README.md", output / "README.md")
        os.replace(staging / MANIFEST_NAME, output / MANIFEST_NAME)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
