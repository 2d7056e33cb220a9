"""Running ``mubench`` commands in-process for the bad-input suites.

A bad input must end in a one-line error (``mubench <command>: error: ...``) or argparse's usage error,
never in a Python traceback, and must leave no partial output behind. ``run_cli`` calls the real entry
point (``mubench_hf.cli.main``) in this process, which is far cheaper than a subprocess per case.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> CliResult:
    """``mubench *argv`` in this process: its exit code and what it printed."""
    from mubench_hf.cli import main

    capsys.readouterr()  # forget what earlier steps of the test printed
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's usage errors (2), and commands that exit with a message
        if exit_.code is None or isinstance(exit_.code, int):
            code = exit_.code or 0
        else:  # as the interpreter does: the message to stderr, status 1
            print(exit_.code, file=sys.stderr)
            code = 1
    captured = capsys.readouterr()
    return CliResult(int(code or 0), captured.out, captured.err)


def assert_clean_error(result: CliResult, *needles: str) -> None:
    """A non-zero exit with a short error on stderr, no traceback, mentioning every needle."""
    assert result.code != 0, f"expected a failure, got exit 0; stdout: {result.out[-500:]}"
    assert "Traceback" not in result.err, result.err
    assert "Traceback" not in result.out, result.out
    assert "error" in result.err.lower(), f"no error message on stderr: {result.err!r}"
    for needle in needles:
        assert needle.lower() in result.err.lower(), f"{needle!r} not in {result.err!r}"


def snapshot(folder: str | os.PathLike) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes ({} when it does not exist): to check nothing was written."""
    root = Path(folder)
    if not root.exists():
        return {}
    if root.is_file():
        return {".": root.read_bytes()}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
