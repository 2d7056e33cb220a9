"""Task files: a dataset of one's own as a benchmark task, declared in YAML or JSON instead of Python.

    name: reviews                  # the task's name (config names are <name>_del5 ...)
    modality: text                 # image, text, audio, video, image_text
    files: data/reviews.csv        # or files: {train: a.csv, test: b.csv}; or folder: images/; or hub: user/id
    input_column: sentence         # the source column of the modality's input (default: its canonical name)
    label_column: sentiment        # default: label
    class_names: [negative, positive]   # default: a ClassLabel's names, else the sorted distinct labels

The keys and their checks are in ``task_file_schema.py``; ``mubench build-splits --help`` and the README
list them. Relative paths are relative to the task file's folder. Reading a file registers a ``FileTask``
(``file_task.py``; a generation task: ``generation_file_task.py``) under its name; ``MUBENCH_TASK_FILES`` (paths joined by ``os.pathsep``) names task files
every command (and every Ray worker) registers when it looks up a task it does not know.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from .base import Task
from .file_sources import load_declared_source, local_loader
from .file_task import FileTask, discover_class_names
from .registry import TASKS, register_task, task_source
from .sources import HubSource
from .task_file_schema import check_declaration

ENV_VAR = "MUBENCH_TASK_FILES"
TASK_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def is_task_file_path(value: Any) -> bool:
    """Whether a ``--task`` value names a task file rather than a registered task."""
    return isinstance(value, (str, os.PathLike)) and str(value).lower().endswith(TASK_FILE_SUFFIXES)


def task_from_declaration(decl: dict[str, Any]) -> Task:
    """The task of a checked declaration (a classification one's class names known)."""
    labels = f"class names from {decl['class_names_from']}; " if decl["kind"] == "classification" else ""
    note = (
        f"declared in {decl['task_file'] or 'a task file'}; {labels}a validation or test split the source "
        f"lacks is carved out of train (numpy default_rng({decl['split_seed']}), validation_fraction "
        f"{decl['validation_fraction']}, test_fraction {decl['test_fraction']}"
        + (f", by {decl['group_column']!r} group)" if decl.get("group_column") else ")")
    )
    common = dict(
        name=decl["name"],
        modality=decl["modality"],
        description=decl["description"] or f"{decl['name']}: a task declared in a task file",
        validation_split="validation",
        deletion_fraction=decl["deletion_fraction"],
        license=decl["license"],
        source_citation=decl["citation"],
        split_note=note,
        declaration=decl,
    )
    if decl["kind"] == "generation":
        from .generation_file_task import generation_task  # the generation layer, only when asked for

        return generation_task(decl, common)
    common["class_names"] = tuple(decl["class_names"])
    if "hub" in decl:
        return FileTask(
            hub=HubSource(decl["hub"], revision=decl["revision"], config_name=decl["config"]), **common
        )
    return FileTask(loader=local_loader(decl, decl["name"]), **common)


def read_task_file(path: str | os.PathLike) -> Task:
    """Read, check and complete a task file (its class names read from the data when it lists none)."""
    from ..config_files import read_config_file

    file = Path(path).expanduser().resolve()
    where = f"task file {file}"
    if not file.is_file():
        raise MubenchError(f"{where} does not exist; give the path of a YAML or JSON task file")
    values = read_config_file(file, what="task file")
    decl = check_declaration(values, where, file.parent)
    decl["task_file"] = str(file)
    if decl["kind"] == "classification" and decl["class_names"] is None:
        try:
            raw = load_declared_source(decl, decl["name"])
        except MubenchError as err:
            if "hub" not in decl:
                raise
            raise MubenchError(
                f"{where} lists no class_names, so they are read from the data, which failed: {err}. Or list "
                "them in the task file (class_names: [...], index i names label i)"
            ) from None
        decl["class_names"], decl["class_names_from"] = discover_class_names(raw, decl, decl["name"])
    return task_from_declaration(decl)


_READ: dict[Path, tuple[float, Task]] = {}  # task file -> (mtime, task): read each file once


def register_task_file(path: str | os.PathLike) -> Task:
    """Read the task file at ``path`` and register its task (again after the file changed). A name that a
    built-in or another file declared already is refused; a deletion repo's record of it is replaced."""
    file = Path(path).expanduser().resolve()
    mtime = file.stat().st_mtime if file.is_file() else -1.0
    cached = _READ.get(file)
    task = cached[1] if cached and cached[0] == mtime else read_task_file(file)
    _READ[file] = (mtime, task)
    origin = f"task file {file}"
    previous = task_source(task.name) if task.name in TASKS else ""
    if task.name in TASKS and previous != origin and not previous.startswith("deletion repo"):
        raise MubenchError(
            f"{origin} declares task {task.name!r}, which is already declared in {previous}; give the task "
            "file's task another name"
        )
    register_task(task, replace=True, declared_in=origin)
    return task


_FROM_ENV: set[str] = set()


def register_env_task_files() -> None:
    """Register the task files ``MUBENCH_TASK_FILES`` lists (each once per process)."""
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if entry and entry not in _FROM_ENV:
            if not Path(entry).expanduser().is_file():
                raise MubenchError(f"{ENV_VAR} names {entry!r}, which is not a file; list task files only")
            register_task_file(entry)
            _FROM_ENV.add(entry)


def register_declaration(decl: Any, origin: str) -> Task | None:
    """Register a task declaration recorded in a deletion repo (unless a task of that name is registered
    already); ``None`` when it was."""
    if isinstance(decl, Mapping) and decl.get("name") in TASKS:
        return None
    checked = check_declaration(decl, origin, Path("."), check_paths=False)
    if checked["kind"] == "classification" and checked["class_names"] is None:
        raise MubenchError(f"{origin}: the recorded task declaration has no class_names; rebuild the repo")
    task = task_from_declaration(checked)
    register_task(task, declared_in=origin)
    return task
