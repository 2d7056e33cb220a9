"""Telling a full disk or an unwritable folder apart from a method's own error.

A method that raises is one failed cell and the sweep goes on; a full disk or a read-only folder fails
every later cell the same way, so it stops the sweep with one clear message instead. The libraries
underneath do not always raise ``OSError``: torch's zip writer reports a full disk as
``RuntimeError: ... unexpected pos ...`` and safetensors as ``SafetensorError: ... No space left``.

Ctrl-C and SIGTERM (which the command line turns into a ``KeyboardInterrupt``) stop a training command at
once: :func:`tidy_on_interrupt` removes the checkpoint it may have been writing at that moment.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

from .errors import MubenchError

DISK_FULL = "disk full"
NOT_WRITABLE = "not writable"

_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_FULL_WORDS = (
    "no space left on device",
    "os error 28",
    "storagefull",
    "disk quota exceeded",
    "unexpected pos",
)
_FULL_WORDS += ("file write failed",)  # torch's PytorchStreamWriter when a write returns short
_READ_ONLY_WORDS = ("read-only file system", "os error 30", "permission denied", "os error 13")


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify(err: BaseException) -> str | None:
    """``DISK_FULL``, ``NOT_WRITABLE`` or ``None`` (an ordinary error) for ``err`` and its causes.

    Our own errors (``MubenchError``) are judged by the ``OSError`` they come from, never by their
    words: their messages may quote a path or a setting that happens to contain them."""
    for item in _chain(err):
        if isinstance(item, OSError) and item.errno in _FULL_ERRNOS:
            return DISK_FULL
        if isinstance(item, OSError) and item.errno in _READ_ONLY_ERRNOS:
            return NOT_WRITABLE
        if isinstance(item, MubenchError):
            continue
        text = str(item).lower()
        if any(word in text for word in _FULL_WORDS):
            return DISK_FULL
        if any(word in text for word in _READ_ONLY_WORDS):
            return NOT_WRITABLE
    return None


def as_mubench_error(kind: str, err: BaseException, output: str | Path, finished: int) -> MubenchError:
    """The message for a full disk or an unwritable output folder, saying what was kept."""
    kept = (
        f"the {finished} finished cell(s) in {output} were not lost and a rerun of the same command reuses "
        "them (a cell cut short is redone)"
    )
    if kind == DISK_FULL:
        return MubenchError(
            f"the disk is full (writing in {output}: {err}); free some space, then rerun: {kept}"
        )
    return MubenchError(
        f"cannot write in the output folder {output} ({err}); make it writable or give another --output: {kept}"
    )


CHECKPOINT_PREFIX = "checkpoint-"
# Trainer writes a checkpoint's files one after the other and trainer_state.json last: without it, the
# folder is a save cut short, which resume_from_checkpoint=True would pick as the latest and fail on.
CHECKPOINT_COMPLETE_FILE = "trainer_state.json"


def _checkpoints(output_dir: Path) -> set[Path]:
    try:
        return {p for p in output_dir.iterdir() if p.is_dir() and p.name.startswith(CHECKPOINT_PREFIX)}
    except OSError:
        return set()


@contextlib.contextmanager
def tidy_on_interrupt(output_dir: str | Path) -> Iterator[None]:
    """On Ctrl-C or SIGTERM inside the block (a ``KeyboardInterrupt``), remove the checkpoint folders the
    block started and did not finish, then let the interrupt go on. Finished checkpoints stay (a rerun can
    resume from them); what was there before the block is never touched."""
    folder = Path(output_dir)
    before = _checkpoints(folder)
    try:
        yield
    except KeyboardInterrupt:
        for checkpoint in _checkpoints(folder) - before:
            if not (checkpoint / CHECKPOINT_COMPLETE_FILE).is_file():
                shutil.rmtree(checkpoint, ignore_errors=True)
        raise
