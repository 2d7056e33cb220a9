"""The registry of benchmark tasks: one place that maps a task name to its definition."""

from __future__ import annotations

from ..errors import UnknownTaskError
from .base import Task

TASKS: dict[str, Task] = {}


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
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTaskError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}") from None


def list_tasks() -> list[str]:
    """Names of the registered tasks."""
    return sorted(TASKS)
