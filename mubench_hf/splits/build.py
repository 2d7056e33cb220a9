"""Build MU-Bench-style deletion splits as a dataset repo that ``datasets.load_dataset`` reads.

This module runs a build; its steps live beside it: ``inputs.py`` checks the arguments, ``layout.py``
decides which rows go in which file and which files make each config, ``write.py`` writes them,
``place.py`` stages and swaps the folder, ``manifest.py`` and ``card.py`` describe the result.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..columns import column_numpy
from ..errors import MubenchError
from ..tasks import SAMPLE_ID_COLUMN, Task, get_task
from ..tasks.base import SourceLike
from .card import render_card
from .declared_tasks import DECLARATION_KEY, declaration_of
from .inputs import (
    check_forget_classes,
    check_seed,
    describe_ood,
    describe_source,
    resolve_classes,
    resolve_order,
)
from .layout import EVAL_SPLITS, plan_configs, plan_segments
from .manifest import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    is_mubench_repo,
    read_manifest,
    repo_content_hash,
    task_content_hash,
    write_manifest,
)
from .order import expand_group_order, resolve_stratified_order
from .place import check_output, make_staging_dir, move_into_place
from .ratios import DEFAULT_RATIOS, forget_counts, format_ratio, parse_ratios
from .requests import parse_schedules, plan_request_configs, schedule_ratios
from .resample import resample_record, say_resample
from .write import write_files

DEFAULT_OUTPUT_DIR = "mubench"
DEFAULT_SEED = 42
UPSTREAM_ORDER = "upstream"  # order= value: the task's own forget sets (e.g. TOFU's forget01/05/10)


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
    stratify: bool = False,
    forget_classes: Iterable[int | str] = (),
    source: SourceLike = None,
    ood_source: SourceLike | bool = None,
    overwrite: bool = False,
    show_progress: bool = True,
    requests: Iterable[object] | str = (),
) -> BuildResult:
    """Write the deletion configs of ``task`` into the dataset repo ``output_dir``.

    Args:
        task: a registered task name (see ``mubench_hf.list_tasks()``) or a ``Task``.
        output_dir: the repo folder; other tasks already in it are kept. Its folders and files get the
            user's umask, like any other file they create.
        ratios: deletion percentages in (0, 100], each given once; ratio p gives config ``<task>_del<p>``.
            With n train rows and a deletion order of m = 10 % of n, ratio p ≤ 10 forgets the first
            ⌊p/10 · m⌋ entries of the order (MU-Bench's rule); p > 10 forgets m + ⌊(p−10)/90 · (n−m)⌋
            entries of the order extended past m, so ``del100`` forgets every row. Forget sets are
            nested: each is a prefix of the same order.
        seed: seed of the deletion order (``numpy.random.default_rng(seed).permutation``), ≥ 0.
        order: an external deletion order (a file with one train index per line, or a sequence of
            ints) that replaces the seeded permutation, e.g. to reproduce published MU-Bench splits;
            ``"upstream"``: the task's own (TOFU's forget01/05/10). Tasks that delete by group
            (``group`` column) count the order and the ratios in groups.
        stratify: make the seeded order class-stratified (every prefix, hence every forget set, holds
            each class in proportion to its share of train, within one row), as MU-Bench's lists are.
        forget_classes: classes (index or name) that get a class-wise config ``<task>_class<k>``.
        source: replaces the task's Hub dataset (a local path or a ``DatasetDict`` with the upstream
            schema). ``ood_source`` does the same for the OOD set; ``False`` skips the OOD set.
        overwrite: replace this task's existing configs when they differ from the new ones (a folder
            that is not a mubench repo is never replaced: it is refused, with a list of what it holds,
            unless empty).
        show_progress: show a progress bar while writing.
        requests: request schedules (``"4x2.5"``: 4 requests of 2.5 % each) that get the step configs
            ``<task>_req4x2.5_step<i>`` (see ``requests.py``); their ratios i·p are added to ``ratios``.
    """
    spec = get_task(task)
    schedules = parse_schedules(requests)
    # the order is cut at every request boundary too, so each request is made of whole chunk files
    ratio_list = sorted(set(parse_ratios(ratios)) | set(schedule_ratios(schedules)))
    seed = check_seed(seed)
    output = Path(output_dir)
    check_output(output, spec.name, overwrite)
    forget_classes = list(forget_classes)  # read twice: checked now, resolved once the labels are loaded
    check_forget_classes(spec, forget_classes)

    data = spec.load(source=source, ood_source=ood_source)
    resampled = resample_record(spec.features, data)  # clips at another rate than the model's: said once
    say_resample(spec.name, resampled)
    train = data["train"]
    num_train = len(train)
    if num_train == 0:
        raise MubenchError(f"task {spec.name!r}: the train split is empty")
    # Deletion by group (a task with a group column): the order and the ratios count groups, not rows.
    row_groups = spec.deletion_groups(train)
    if order is None and not stratify and getattr(spec, "upstream_by_default", False):
        order = UPSTREAM_ORDER  # a domain task forgets its forget corpus, not a seeded draw of documents
    upstream = isinstance(order, str) and order == UPSTREAM_ORDER
    if upstream:
        order = spec.upstream_order(source)
    # An imported order of rows names the source's train indices, which each row keeps as its sample_id
    # (a task that drops rows, like samsum's empty dialogues, does not renumber the others); groups are
    # numbered by the task itself.
    sample_ids = (
        column_numpy(train, SAMPLE_ID_COLUMN).astype(np.int64)
        if row_groups is None and SAMPLE_ID_COLUMN in train.column_names
        else None
    )
    num_units = num_train if row_groups is None else len(np.unique(row_groups))
    # A task whose upstream order is exactly its source's forget set (MUSE's forget corpus) sizes the order
    # by it: ratio 10 forgets that set, smaller ratios nested parts of it (MUSE's scalability).
    sized_by_upstream = upstream and getattr(spec, "upstream_forget_set", False)
    order_size = len(order) if sized_by_upstream else spec.deletion_order_size(num_units)
    counts = forget_counts(ratio_list, order_size, num_units)
    if stratify:
        deletion_order, order_description = resolve_stratified_order(
            spec.row_labels(train),
            max(order_size, counts[-1]),
            seed,
            order=order,
            grouped=row_groups is not None,
        )
    else:
        deletion_order, order_description = resolve_order(
            order,
            num_units,
            max(order_size, counts[-1]),
            counts[-1],
            seed,
            sample_ids=sample_ids,
            what=f"the upstream deletion order of task {spec.name!r}"
            if upstream
            else "the deletion order list",
            task=spec.name,
            dropped=f" (its data: {spec.split_note})" if spec.split_note else "",
        )
    # deletion_order.txt lists what --order reads back: upstream train indices (or group indices)
    stored_order = deletion_order if sample_ids is None else sample_ids[deletion_order]
    if row_groups is not None:
        deletion_order, counts = expand_group_order(deletion_order, counts, row_groups)
        order_description += " (over groups)"
    labels = spec.row_labels(train)
    classes = resolve_classes(spec, forget_classes, labels)

    segments = plan_segments(spec.name, deletion_order, counts, labels, classes)
    eval_splits = [s for s in EVAL_SPLITS if s in data]
    for split in eval_splits:
        if len(data[split]) == 0:
            raise MubenchError(f"task {spec.name!r}: the {split} split is empty")
    configs = plan_configs(spec.name, ratio_list, segments, classes, eval_splits)
    configs.update(plan_request_configs(spec.name, schedules, ratio_list, segments, eval_splits))

    staging = make_staging_dir(output, "staging")
    try:
        files = write_files(staging, spec, train, segments, data, eval_splits, stored_order, show_progress)
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
            "source": describe_source(spec, source),
            "ood_source": describe_ood(spec, ood_source, "ood" in data),
            "seed": seed,
            "ratios": [format_ratio(r) for r in ratio_list],
            "forget_classes": classes,
            **({"requests": [schedule.name for schedule in schedules]} if schedules else {}),
            "order_description": order_description,
            "deletion_order_size": order_size,
            **({"deletion_unit": "group", "num_groups": num_units} if row_groups is not None else {}),
            "num_train": num_train,
            "features": spec.features.to_dict(),
            **({"resample": resampled[0] if len(resampled) == 1 else resampled} if resampled else {}),
            # a task file's declaration, so later commands on this repo know the task without the file
            **({DECLARATION_KEY: declaration} if (declaration := declaration_of(spec)) else {}),
            "configs": configs,
            "split_sizes": sizes,
            "files": files,
        }
        entry["content_hash"] = task_content_hash(files, configs)
        manifest = _merge_manifest(output, entry, overwrite)
        (staging / "README.md").write_text(render_card(manifest, repo_id=output.name), encoding="utf-8")
        write_manifest(staging / MANIFEST_NAME, manifest)
        move_into_place(staging, output, spec.name, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(path=output, task=spec.name, content_hash=entry["content_hash"], split_sizes=sizes)


def _merge_manifest(output: Path, entry: dict[str, Any], overwrite: bool) -> dict[str, Any]:
    """The repo's manifest with this task's entry added (or replacing an identical or overwritten one)."""
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
