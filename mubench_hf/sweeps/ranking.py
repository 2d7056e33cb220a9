"""Ranking leaderboard rows: each task kind's rule (``mubench_hf.kinds``), used by the sweep's leaderboard
and by ``mubench leaderboard``.

Within each task and deletion config the retrain model is the reference row (``ref``), shown first and never
ranked; rows without the metric ranked on are listed last, unranked; ranks start at 1. Classification tasks
are ranked by the gap to retrain (else the MU-Bench score): see ``mubench_hf.kinds.classification.ranking``.
Generation tasks by forget quality (else the forget ROUGE-L gap): see ``mubench_hf.kinds.generation.ranking``.
:func:`rank_for` picks the rule by task kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import MubenchError
from ..kinds import KINDS, get_kind
from ..kinds.classification.ranking import GAP, RANKING_RULE, SCORE, rank, ranking_metric
from ..kinds.generation.ranking import (
    FORGET_QUALITY,
    GENERATION_RANKING_RULE,
    MODEL_UTILITY,
    ROUGE_GAP,
    rank_generation,
)
from ..kinds.ranking import REFERENCE
from ..tasks import get_task

__all__ = [
    "FORGET_QUALITY",
    "GAP",
    "GENERATION_RANKING_RULE",
    "MODEL_UTILITY",
    "RANKING_RULE",
    "RANKING_RULES",
    "REFERENCE",
    "ROUGE_GAP",
    "SCORE",
    "describe_metric",
    "rank",
    "rank_for",
    "rank_generation",
    "ranking_metric",
    "task_kind_of",
]


class _RankingRules(Mapping[str, str]):
    """Each registered kind's rule, in words (read when asked: a kind registered later is listed too)."""

    def __getitem__(self, kind: str) -> str:
        if kind not in KINDS:
            raise KeyError(kind)
        return KINDS[kind].ranking_rule

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(KINDS))

    def __len__(self) -> int:
        return len(KINDS)


RANKING_RULES: Mapping[str, str] = _RankingRules()

Row = TypeVar("Row")


def task_kind_of(task: str | None) -> str:
    """The kind of task ``task`` names (``classification`` when it is unknown to this install: a card
    from a newer version or another tool is still ranked, by the classification rule)."""
    try:
        return get_task(str(task)).kind if task else "classification"
    except MubenchError:
        return "classification"


def rank_for(
    kind: str,
    rows: Sequence[Row],
    *,
    name: Callable[[Row], str],
    is_reference: Callable[[Row], bool],
    **metrics: Callable[[Row], Any],
) -> tuple[str, list[tuple[Row, int | str | None]]]:
    """One group ranked by its task kind's rule (``TaskKind.rank``); ``metrics`` are accessors (``gap``,
    ``score``, ``forget_quality``, ``model_utility``, ``forget_rouge``, ``retain_rouge``), each rule reads
    the ones it needs."""
    if kind not in KINDS:
        raise MubenchError(f"no ranking rule for task kind {kind!r}; known kinds: {sorted(KINDS)}")
    return get_kind(kind).rank(rows, name=name, is_reference=is_reference, **metrics)


def describe_metric(metric: str, *, any_ranked: bool = True, muse: bool = False) -> str:
    """How one group was ranked, for the line under its heading (``muse``: a MUSE-shaped group, whose
    ROUGE gap is VerbMem's)."""
    if metric == ROUGE_GAP and muse:
        return (
            "No forget quality here (MUSE-shaped: no truth ratio): ranked by |VerbMem - the retrain row's| "
            "(lower is better); KnowMem on the retain documents breaks ties."
        )
    if metric == ROUGE_GAP:
        return (
            "No forget quality here (no perturbed answers, so no truth ratio): ranked by |forget ROUGE-L - "
            "the retrain row's| (lower is better); retain ROUGE-L breaks ties."
        )
    if metric == FORGET_QUALITY:
        if not any_ranked:
            return "Not ranked: no row here has a forget quality (it needs a scored retrain reference)."
        return "Ranked by forget quality (higher is better); model utility breaks ties."
    if not any_ranked:
        return "Not ranked: no row here has a gap to retrain or a MU-Bench score."
    if metric == GAP:
        return "Ranked by gap to retrain (lower is better); MU-Bench score breaks ties."
    return "No retrain reference scored here: ranked by MU-Bench score (higher is better)."
