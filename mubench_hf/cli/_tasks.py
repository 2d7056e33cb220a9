"""How commands find a task declared in a task file: ``--task FILE.yaml``, ``--task-file FILE`` (repeatable),
the files ``MUBENCH_TASK_FILES`` lists, or the declaration a deletion repo built from one records."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable

TASK_FILE_HELP = (
    "a task file (YAML/JSON) declaring a task of your own data; repeat for several. --task may also be a "
    "task file's path, and MUBENCH_TASK_FILES lists task files for every command (paths joined by "
    f"{os.pathsep!r}). See `mubench build-splits --help` for the keys"
)


def add_task_file_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--task-file", "--task_file", dest="task_file", action="append", default=[], metavar="FILE",
        help=TASK_FILE_HELP,
    )  # fmt: skip


def use_task_files(
    task: str | None, task_files: Iterable[str] = (), dataset: str | os.PathLike | None = None
) -> str | None:
    """Register the tasks of ``task_files`` and of the deletion repo ``dataset``; ``task`` as a task name
    (a task file's path becomes the name of the task it declares)."""
    from ..splits.declared_tasks import register_repo_tasks
    from ..tasks.task_file import is_task_file_path, register_task_file

    for path in task_files or ():
        register_task_file(path)
    if dataset is not None and not (task and is_task_file_path(task)):
        register_repo_tasks(dataset)
    if task and is_task_file_path(task):
        return register_task_file(task).name
    return task
