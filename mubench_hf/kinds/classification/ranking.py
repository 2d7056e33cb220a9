"""The ranking rule of classification tasks, used by the sweep's leaderboard and by ``mubench leaderboard``.

Within each task and deletion config:

- the retrain model is the reference row (``ref``): shown first, never ranked;
- when a retrain reference was scored (some other row has a gap to retrain), rows are ranked by the
  gap to retrain, lowest first; otherwise by the MU-Bench score, highest first;
- ties go to the higher MU-Bench score (when ranking by gap) or the lower gap (when ranking by score),
  then to the name in alphabetical order;
- rows without the metric ranked on are listed last, unranked; ranks start at 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..ranking import REFERENCE
from ..ranking import number as _number

GAP = "gap_to_retrain"
SCORE = "mubench_score"

RANKING_RULE = (
    "Ranking: within each task and config, by the gap to retrain (lower is better) when a retrain "
    "reference was scored, else by the MU-Bench score (higher is better); ties go to the other of the "
    "two, then to the name (A-Z). The retrain model is the reference row (ref), not ranked; rows without "
    "the ranking metric are listed last without a rank. Ranks start at 1."
)

Row = TypeVar("Row")


def ranking_metric(gaps: Sequence[Any], references: Sequence[bool]) -> str:
    """``gap_to_retrain`` when a non-reference row has a gap, else ``mubench_score``."""
    has_gap = any(_number(g) is not None and not ref for g, ref in zip(gaps, references))
    return GAP if has_gap else SCORE


def rank(
    rows: Sequence[Row],
    *,
    gap: Callable[[Row], Any],
    score: Callable[[Row], Any],
    name: Callable[[Row], str],
    is_reference: Callable[[Row], bool],
) -> tuple[str, list[tuple[Row, int | str | None]]]:
    """Order one group's rows by the rule above: (the metric ranked on, [(row, rank)]), where rank is
    1, 2, ... for ranked rows, ``"ref"`` for the retrain reference and ``None`` for unranked rows."""
    metric = ranking_metric([gap(r) for r in rows], [is_reference(r) for r in rows])

    def key(row: Row) -> tuple:
        g, s = _number(gap(row)), _number(score(row))
        primary = g if metric == GAP else (None if s is None else -s)
        secondary = (
            (-s if s is not None else math.inf) if metric == GAP else (g if g is not None else math.inf)
        )
        return (
            not is_reference(row),
            primary is None,
            primary if primary is not None else 0.0,
            secondary,
            name(row),
        )

    ordered = sorted(rows, key=key)
    ranked: list[tuple[Row, int | str | None]] = []
    position = 0
    for row in ordered:
        if is_reference(row):
            ranked.append((row, REFERENCE))
            continue
        value = gap(row) if metric == GAP else score(row)
        if _number(value) is None:
            ranked.append((row, None))
        else:
            position += 1
            ranked.append((row, position))
    return metric, ranked
