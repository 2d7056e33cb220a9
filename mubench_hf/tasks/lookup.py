"""Looking a task up by name: the registry's tasks, then the plugins' and the task files'.

It sits above both the registry (which only stores tasks) and the task-file reader (which registers
through the registry), so that neither imports the other's caller: ``get_task`` reads a task file given
as a path, and a name not registered yet is looked up in the plugins and in ``MUBENCH_TASK_FILES``.
"""

from __future__ import annotations

from ..errors import UnknownTaskError
from ..plugins import TASKS_GROUP, plugin_errors_note
from . import registry  # its TASKS read at each call: the registry may be swapped (tests isolate it)
from .base import Task
from .task_file import is_task_file_path, register_env_task_files, register_task_file


def get_task(name: str | Task) -> Task:
    """The registered task called ``name`` (a ``Task`` is returned as is).

    ``name`` may also be the path of a task file (``.yaml``/``.yml``/``.json``): it is read and registered.
    A name not registered yet is looked up in the plugins and in the task files ``MUBENCH_TASK_FILES`` lists.
    """
    if isinstance(name, Task):
        return name
    if name in registry.TASKS:
        return registry.TASKS[name]
    if is_task_file_path(name):
        return register_task_file(name)
    registry.load_task_plugins()
    register_env_task_files()
    try:
        return registry.TASKS[name]
    except KeyError:
        raise UnknownTaskError(
            f"unknown task {name!r}; known tasks: {', '.join(sorted(registry.TASKS))}{plugin_errors_note(TASKS_GROUP)} "
            "(a task of your own data: give its task file with --task FILE.yaml or --task-file FILE, or list "
            "it in MUBENCH_TASK_FILES)"
        ) from None


def list_tasks() -> list[str]:
    """Names of the registered tasks, the plugins' and those of ``MUBENCH_TASK_FILES`` included."""
    registry.load_task_plugins()
    register_env_task_files()
    return sorted(registry.TASKS)
