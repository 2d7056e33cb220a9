"""Where a build writes: checks of the output folder, a staging folder beside it, and the final swap.

Writing goes to a staging folder beside the output and is moved into place only when everything
succeeded, so a failure leaves the output folder as it was. The staging folder is made with the user's
umask (``tempfile.mkdtemp`` would make it 0700, and it becomes the repo folder).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from ..errors import MubenchError
from .manifest import MANIFEST_NAME, is_mubench_repo, read_manifest
from .paths import check_name, inside_repo


def check_output(output: Path, task_name: str, overwrite: bool) -> None:
    """Refuse an output that is a file, or a non-empty folder that is not a deletion repo (even with
    ``overwrite``, which only replaces a repo's own configs: the message lists what the folder holds);
    read an existing repo's manifest now, so a broken or crafted one is reported before any work, and
    refuse a ``data/<task>`` that a symlink leads outside (it would be replaced)."""
    if output.exists() and not output.is_dir():
        raise MubenchError(f"output {output} exists and is not a folder; give a folder path (--output DIR)")
    if output.is_dir() and any(output.iterdir()) and not is_mubench_repo(output):
        # --overwrite replaces a deletion repo's own configs; it never deletes files mubench did not write
        raise MubenchError(
            f"output folder {output} is not empty and is not a mubench deletion repo (no {MANIFEST_NAME}): it "
            f"holds {_some_entries(output)}; choose another folder, or empty it yourself if those may go "
            "(--overwrite only replaces a deletion repo's own configs, never other files)"
        )
    if is_mubench_repo(output):
        read_manifest(output)
        _check_task_folder(output, task_name)


def _some_entries(folder: Path, shown: int = 5) -> str:
    """``a.txt, notes/ and 3 more``: what a folder holds, for a message."""
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    names = [f"{p.name}/" if p.is_dir() else p.name for p in entries[:shown]]
    more = f" and {len(entries) - shown} more" if len(entries) > shown else ""
    return ", ".join(names) + more


def _check_task_folder(output: Path, task_name: str) -> None:
    check_name(task_name, "task name")  # it names the folder that is replaced
    for rel in ("data", f"data/{task_name}"):
        inside_repo(output, rel, f"output {output}")


def make_staging_dir(output: Path, kind: str) -> Path:
    """A new, empty folder ``.<name>.<kind>-<random>`` beside ``output`` (its parents created)."""
    parent = output.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            path = parent / f".{output.name}.{kind}-{secrets.token_hex(4)}"
            try:
                path.mkdir()  # 0o777 minus the umask, like any folder the user creates
            except FileExistsError:
                continue
            return path
    except OSError as err:
        raise MubenchError(
            f"cannot create the output folder {output} ({err.strerror or err} in {_first_missing(parent)}); "
            "choose an --output folder you can write to"
        ) from None
    raise MubenchError(
        f"cannot create a staging folder in {parent}: too many leftovers .{output.name}.{kind}-*"
    )


def _first_missing(parent: Path) -> Path:
    """The folder the failure happened in: the deepest existing ancestor of ``parent``."""
    while not parent.is_dir() and parent != parent.parent:
        parent = parent.parent
    return parent


def move_into_place(staging: Path, output: Path, task_name: str, overwrite: bool) -> None:
    """Swap the staged files in with renames (same file system), so readers never see half a build.

    A new repo is the staging folder renamed; into an existing repo (or an empty folder) only
    ``data/<task>/``, the README and the manifest are swapped, so other tasks (and anything else that
    appeared meanwhile) stay as they are."""
    trash = make_staging_dir(output, "old")
    try:
        if not output.exists():
            staging.rename(output)
            return
        _check_task_folder(output, task_name)  # again: the folder may have changed during the build
        task_dir = output / "data" / task_name
        if task_dir.exists():
            task_dir.rename(trash / task_name)
        (output / "data").mkdir(exist_ok=True)
        (staging / "data" / task_name).rename(task_dir)
        os.replace(staging / "README.md", output / "README.md")
        os.replace(staging / MANIFEST_NAME, output / MANIFEST_NAME)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
