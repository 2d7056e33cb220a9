"""When the reports show progress bars: as ``transformers.Trainer`` does (``disable_tqdm`` off), and only on
a terminal, so that logs of sweeps and batch jobs are not filled with bar redraws."""

from __future__ import annotations

import sys
from typing import Any


def show_progress(args: Any) -> bool:
    """Whether a report's scoring passes draw tqdm bars: ``args.disable_tqdm`` is off and stderr is a
    terminal."""
    if getattr(args, "disable_tqdm", False):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())
