"""``mubench tasks``: the registered tasks and where their data comes from (``--json`` for scripts)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..tasks import Task, get_task, list_tasks, task_source


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
        "origin": task_source(task.name),  # "built in", or the plugin's "entry point <distribution>:<name>"
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mubench tasks", description=__doc__)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list, one object per task: name, modality, kind, offline, num_labels, source, ...",
    )
    args = parser.parse_args(argv)
    tasks = [get_task(name) for name in list_tasks()]  # plugins' tasks included
    if args.json:
        print(json.dumps([task_record(task) for task in tasks], indent=2, ensure_ascii=False))
        return 0
    width = max(len(task.name) for task in tasks)
    for task in tasks:
        ood = f"; OOD {task.ood.describe()}" if task.ood else ""
        ood += "" if task_source(task.name) == "built in" else f"; from {task_source(task.name)}"
        labels = f"{task.num_labels:>3} classes" if task.kind == "classification" else f"{task.kind:<11}"
        print(f"{task.name:<{width}}  {task.modality:<5}  {labels}  {task.source_description()}{ood}")
    return 0
