"""``mubench tasks``: the registered tasks and where their data comes from (``--json`` for scripts)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..tasks import Task, get_task, list_tasks, task_source
from ._tasks import add_task_file_flag, use_task_files


def task_record(task: Task) -> dict[str, Any]:
    """What ``--json`` prints for one task."""
    return {
        "name": task.name,
        "modality": task.modality,
        "kind": task.kind,
        "offline": task.loader is not None,  # a loader needs no Hub; a Hub source does
        "num_labels": task.num_labels if task.kind == "classification" else None,
        "source": task.source_description(),
        "ood_source": task.ood.describe() if task.ood else None,
        "license": task.license,
        "description": task.description,
        # the pretrained pipeline a text-to-image Hub task's base starts from (None elsewhere)
        "default_model": getattr(task, "default_model", None),
        # "built in (<module>)", "task file <path>", "deletion repo <path> ...", "entry point <dist>:<name>"
        "origin": task_source(task.name),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mubench tasks", description=__doc__)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list, one object per task: name, modality, kind, offline, num_labels, source (where "
        "its data comes from), ..., default_model (the base model a task names, e.g. a Stable Diffusion id; "
        "null: models built from configs), origin (built in, task file, deletion repo or plugin entry point)",
    )
    add_task_file_flag(parser)
    args = parser.parse_args(argv)
    use_task_files(None, args.task_file)
    tasks = [get_task(name) for name in list_tasks()]  # plugins' and MUBENCH_TASK_FILES' tasks included
    if args.json:
        print(json.dumps([task_record(task) for task in tasks], indent=2, ensure_ascii=False))
        return 0
    width = max(len(task.name) for task in tasks)
    for task in tasks:
        ood = f"; OOD {task.ood.describe()}" if task.ood else ""
        origin = task_source(task.name)  # a task file is named in its source already
        ood += "" if origin.startswith(("built in", "task file")) else f"; from {origin}"
        labels = f"{task.num_labels:>3} classes" if task.kind == "classification" else f"{task.kind:<11}"
        print(f"{task.name:<{width}}  {task.modality:<5}  {labels}  {task.source_description()}{ood}")
    return 0
