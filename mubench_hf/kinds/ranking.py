"""What every ranking rule shares: which values count as numbers, and how the retrain row is marked."""

from __future__ import annotations

import math
from typing import Any

#: the rank of the retrain model: the reference row, shown first, never ranked
REFERENCE = "ref"


def number(value: Any) -> float | None:
    """``value`` as a float when it is a finite number (not a bool), else ``None`` (unranked)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
