"""The registry of benchmark tasks: one place that maps a task name to its definition.

Tasks from other distributions come through entry points in the group ``mubench_hf.tasks`` (see
:mod:`mubench_hf.plugins`), loaded the first time the tasks are listed or an unregistered name is asked
for. An entry point names a ``Task``, a function that registers tasks (or returns a ``Task`` or a list
of them), or a module that registers them on import; :func:`task_source` says where each came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Any

from ..errors import MubenchError, UnknownTaskError
from ..plugins import TASKS_GROUP, load_plugins, plugin_errors_note, plugin_source
from .base import Task

TASKS: dict[str, Task] = {}
#: task name -> "entry point <distribution>:<name>" for the tasks that came from a plugin
PLUGIN_SOURCES: dict[str, str] = {}


def register_task(task: Task, *, replace: bool = False) -> Task:
    """Add a task to the registry (``replace=True`` to redefine one)."""
    if task.name in TASKS and not replace:
        raise ValueError(f"task {task.name!r} is already registered; pass replace=True to redefine it")
    TASKS[task.name] = task
    return task


def get_task(name: str | Task) -> Task:
    """The registered task called ``name`` (a ``Task`` is returned as is)."""
    if isinstance(name, Task):
        return name
    if name not in TASKS:
        load_task_plugins()
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTaskError(
            f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}{plugin_errors_note(TASKS_GROUP)}"
        ) from None


def list_tasks() -> list[str]:
    """Names of the registered tasks, the plugins' included."""
    load_task_plugins()
    return sorted(TASKS)


def task_source(name: str) -> str:
    """Where task ``name`` comes from: ``"entry point <distribution>:<name>"`` or ``"built in"``."""
    return PLUGIN_SOURCES.get(name, "built in")


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
