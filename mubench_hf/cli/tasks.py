"""``mubench tasks``: the registered tasks and where their data comes from (``--json`` for scripts)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..tasks import TASKS, Task, list_tasks, task_origin
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
        "declared_in": task_origin(task.name),  # module ..., task file ..., deletion repo ...
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mubench tasks", description=__doc__)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list, one object per task: name, modality, kind, offline, num_labels, source (where "
        "its data comes from), ..., declared_in (the module or task file that declares it)",
    )
    add_task_file_flag(parser)
    args = parser.parse_args(argv)
    use_task_files(None, args.task_file)
    tasks = [TASKS[name] for name in list_tasks()]  # list_tasks: with MUBENCH_TASK_FILES' tasks
    if args.json:
        print(json.dumps([task_record(task) for task in tasks], indent=2, ensure_ascii=False))
        return 0
    width = max(len(task.name) for task in tasks)
    for task in tasks:
        ood = f"; OOD {task.ood.describe()}" if task.ood else ""
        labels = f"{task.num_labels:>3} classes" if task.kind == "classification" else f"{task.kind:<11}"
        print(f"{task.name:<{width}}  {task.modality:<5}  {labels}  {task.source_description()}{ood}")
    return 0
