"""One run at a time in a sweep folder.

Two ``mubench run`` processes writing the same folder would train the same cells at once and trip over
each other's temporary files (one renames ``predictions.npz`` or removes a checkpoint the other is
writing). A run that has work to do therefore holds an operating-system lock on ``<folder>/.mubench.lock``
(``filelock``: ``flock`` on Unix), which the kernel releases when the process ends however it ends, so a
lock left by a killed run is simply taken by the next one. Beside it, ``.mubench.lock.json`` says who
holds it (pid, host, start time, command), for the message a second run prints.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import MubenchError

LOCK_FILE = ".mubench.lock"
HOLDER_FILE = ".mubench.lock.json"


def read_holder(folder: Path) -> dict[str, Any] | None:
    """Who holds (or last held) the lock of ``folder``, as recorded; ``None`` when unknown."""
    try:
        value = json.loads((folder / HOLDER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def describe_holder(holder: dict[str, Any] | None) -> str:
    """``pid 123 on host h since 2026-01-01 10:00:00 UTC (mubench run ...)``, or what is known."""
    if not holder:
        return "another process (it left no record of itself)"
    text = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    if holder.get("started"):
        text += f" since {holder['started']}"
    if holder.get("command"):
        text += f" ({holder['command']})"
    return text


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just someone else's
    return True


def _write_holder(folder: Path) -> None:
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": " ".join(["mubench", *sys.argv[1:]]) if sys.argv else "",
    }
    partial = folder / f"{HOLDER_FILE}.{os.getpid()}.partial"
    partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
    partial.replace(folder / HOLDER_FILE)  # atomic: a waiting run never reads half a record


@contextlib.contextmanager
def sweep_lock(folder: Path, *, wait: bool = False, log: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the lock of the sweep folder ``folder`` (created when missing) for the ``with`` block.

    Held by another living process: ``wait`` waits for it (saying so once), else a ``MubenchError`` names
    the holder at once. A record left by a run that died is noted and taken over."""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = describe_holder(read_holder(folder))
        if not wait:
            raise MubenchError(
                f"the sweep folder {folder} is in use by {holder}; wait for that run to finish (or stop it), "
                "pass --wait-for-lock to wait for it, or give another --output"
            ) from None
        log(f"the sweep folder {folder} is in use by {holder}; waiting for it to finish")
        lock.acquire()  # blocks until the holder ends (or is killed: the kernel releases its lock)
    try:
        previous = read_holder(folder)
        if previous and previous.get("pid") != os.getpid():
            same_host = previous.get("host") == socket.gethostname()
            if same_host and not _pid_alive(previous.get("pid")):
                log(
                    f"taking over the lock of {folder} left by a run that ended ({describe_holder(previous)})"
                )
        _write_holder(folder)
        yield
    finally:
        with contextlib.suppress(OSError):
            (folder / HOLDER_FILE).unlink()
        lock.release()
