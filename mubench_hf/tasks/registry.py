"""The registry of benchmark tasks: one place that maps a task name to its definition.

Tasks from other distributions come through entry points in the group ``mubench_hf.tasks`` (see
:mod:`mubench_hf.plugins`), loaded the first time the tasks are listed or an unregistered name is asked
for. An entry point names a ``Task``, a function that registers tasks (or returns a ``Task`` or a list
of them), or a module that registers them on import. Each built-in task's module ends with one
``register_task(Task(...))`` call; a task file (YAML/JSON, see ``task_file.py``) registers through the same
call, and the files ``MUBENCH_TASK_FILES`` lists are read when a name is not registered yet.
:func:`task_source` says where each task came from (``built in (mubench_hf.tasks.digits)``, ``task file
/path/reviews.yaml``, ``deletion repo ...``, ``entry point <distribution>:<name>``), which ``mubench tasks
--json`` shows as ``origin``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from ..errors import MubenchError
from ..plugins import TASKS_GROUP, load_plugins, plugin_source
from .base import Task

TASKS: dict[str, Task] = {}
#: task name -> "entry point <distribution>:<name>" for the tasks that came from a plugin
PLUGIN_SOURCES: dict[str, str] = {}
#: task name -> where it was declared: "built in (<module>)", "module <name>", "task file <path>" ...
TASK_ORIGINS: dict[str, str] = {}


def register_task(task: Task, *, replace: bool = False, declared_in: str | None = None) -> Task:
    """Add a task to the registry (``replace=True`` to redefine one).

    ``declared_in`` says where the task was declared; by default the module that calls this function.
    """
    if task.name in TASKS and not replace:
        raise ValueError(
            f"task {task.name!r} is already registered ({task_source(task.name)}); pass replace=True to "
            "redefine it"
        )
    if declared_in is None:
        module = str(sys._getframe(1).f_globals.get("__name__", "?"))
        declared_in = f"built in ({module})" if module.startswith("mubench_hf.") else f"module {module}"
    TASKS[task.name] = task
    TASK_ORIGINS[task.name] = declared_in
    return task


def task_source(name: str) -> str:
    """Where task ``name`` comes from: ``"built in (<module>)"``, ``"entry point <distribution>:<name>"``,
    ``"task file <path>"``, ``"deletion repo <path> ..."`` or ``"module <name>"``."""
    return PLUGIN_SOURCES.get(name) or TASK_ORIGINS.get(name, "built in")


def load_task_plugins() -> None:
    """Register the tasks of the ``mubench_hf.tasks`` entry points, once per process."""
    load_plugins(TASKS_GROUP, _load_task_plugin)


def _load_task_plugin(point: Any) -> None:
    from ..modalities import load_modality_plugins

    load_modality_plugins()  # a plugin task may be of a plugin modality
    before = set(TASKS)
    loaded = point.load()
    if callable(loaded) and not isinstance(loaded, (Task, type, ModuleType)):
        loaded = loaded()  # a function that registers tasks, or returns them
    for task in _tasks_in(loaded):
        if TASKS.get(task.name) is not task:
            register_task(task)
    new = sorted(set(TASKS) - before)
    if not new and not isinstance(loaded, ModuleType):
        raise MubenchError(
            "it provides no new task: an entry point of mubench_hf.tasks names a Task, a function that "
            "registers tasks or returns them, or a module that registers them on import"
        )
    for name in new:
        PLUGIN_SOURCES[name] = plugin_source(point)


def _tasks_in(loaded: Any) -> list[Task]:
    if isinstance(loaded, Task):
        return [loaded]
    if isinstance(loaded, Iterable) and not isinstance(loaded, (str, bytes, dict, ModuleType)):
        return [task for task in loaded if isinstance(task, Task)]
    return []
