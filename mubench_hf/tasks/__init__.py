"""Benchmark tasks: what data a task uses and how it maps onto canonical columns."""

from . import builtin  # noqa: F401  (registers the shipped tasks)
from .base import LABEL_COLUMN, SAMPLE_ID_COLUMN, HubSource, OODSource, Task
from .lookup import get_task, list_tasks
from .registry import TASKS, register_task, task_source

__all__ = [
    "LABEL_COLUMN",
    "SAMPLE_ID_COLUMN",
    "TASKS",
    "HubSource",
    "OODSource",
    "Task",
    "get_task",
    "list_tasks",
    "register_task",
    "task_source",
]
