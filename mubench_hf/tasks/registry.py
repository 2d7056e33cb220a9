"""The registry of benchmark tasks: one place that maps a task name to its definition.

Each built-in task's module ends with one ``register_task(Task(...))`` call; a task file (YAML/JSON, see
``task_file.py``) registers through the same call. ``declared_in`` records where each task came from
(``module mubench_hf.tasks.digits``, ``task file /path/reviews.yaml`` ...), which ``mubench tasks --json``
shows.
"""

from __future__ import annotations

import sys

from ..errors import UnknownTaskError
from .base import Task

TASKS: dict[str, Task] = {}
# task name -> where it was declared (a module, a task file, a deletion repo's manifest)
TASK_ORIGINS: dict[str, str] = {}


def register_task(task: Task, *, replace: bool = False, declared_in: str | None = None) -> Task:
    """Add a task to the registry (``replace=True`` to redefine one).

    ``declared_in`` says where the task was declared; by default the module that calls this function.
    """
    if task.name in TASKS and not replace:
        raise ValueError(
            f"task {task.name!r} is already registered (declared in {TASK_ORIGINS.get(task.name, '?')}); "
            "pass replace=True to redefine it"
        )
    if declared_in is None:
        declared_in = f"module {sys._getframe(1).f_globals.get('__name__', '?')}"
    TASKS[task.name] = task
    TASK_ORIGINS[task.name] = declared_in
    return task


def task_origin(name: str) -> str:
    """Where the registered task ``name`` was declared (``module ...``, ``task file ...``)."""
    return TASK_ORIGINS.get(name, "unknown")


def get_task(name: str | Task) -> Task:
    """The registered task called ``name`` (a ``Task`` is returned as is).

    ``name`` may also be the path of a task file (``.yaml``/``.yml``/``.json``): it is read and registered.
    A name not registered yet is looked up in the task files that ``MUBENCH_TASK_FILES`` lists.
    """
    if isinstance(name, Task):
        return name
    if name in TASKS:
        return TASKS[name]
    from .task_file import is_task_file_path, register_env_task_files, register_task_file

    if is_task_file_path(name):
        return register_task_file(name)
    register_env_task_files()
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTaskError(
            f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))} (a task of your own: give its "
            "task file with --task-file FILE or --task FILE.yaml, or list it in MUBENCH_TASK_FILES)"
        ) from None


def list_tasks() -> list[str]:
    """Names of the registered tasks (those of the task files in ``MUBENCH_TASK_FILES`` included)."""
    from .task_file import register_env_task_files

    register_env_task_files()
    return sorted(TASKS)
