"""The one ranking rule of mubench-hf, used by the sweep's leaderboard and by ``mubench leaderboard``.

Within each task and deletion config:

- the retrain model is the reference row (``ref``): shown first, never ranked;
- when a retrain reference was scored (some other row has a gap to retrain), rows are ranked by the
  gap to retrain, lowest first; otherwise by the MU-Bench score, highest first;
- ties go to the higher MU-Bench score (when ranking by gap) or the lower gap (when ranking by score),
  then to the name in alphabetical order;
- rows without the metric ranked on are listed last, unranked; ranks start at 1.

Generation tasks (LLM QA, summarisation) have a rule of their own, TOFU's two axes (its
``aggregate_eval_stat.py`` reports forget quality and model utility, and its paper compares methods on
them): by forget quality (the KS-test p-value of the forget-set truth ratios against the retrain model),
highest first; ties go to the higher model utility, then to the name. Without a retrain reference no
row has a forget quality and nothing is ranked: model utility alone would put the model that forgot
nothing first. Tasks whose rows carry no perturbed answers (summarisation) have no truth ratio, hence no
forget quality even with a retrain reference: there the rows are ranked by how close their forget
ROUGE-L is to the retrain row's (``|ΔROUGE-L_f|``, lowest first), ties to the higher retain ROUGE-L.
:func:`rank_for` picks the rule by task kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import MubenchError

GAP = "gap_to_retrain"
SCORE = "mubench_score"
REFERENCE = "ref"
FORGET_QUALITY = "forget_quality"
MODEL_UTILITY = "model_utility"
ROUGE_GAP = "forget_rouge_l_gap_to_retrain"

RANKING_RULE = (
    "Ranking: within each task and config, by the gap to retrain (lower is better) when a retrain "
    "reference was scored, else by the MU-Bench score (higher is better); ties go to the other of the "
    "two, then to the name (A-Z). The retrain model is the reference row (ref), not ranked; rows without "
    "the ranking metric are listed last without a rank. Ranks start at 1."
)

GENERATION_RANKING_RULE = (
    "Ranking (generation tasks, as TOFU compares methods): within each task and config, by forget quality "
    "(KS-test p-value of the forget-set truth ratios against the retrain model; higher is better); ties "
    "go to the higher model utility, then to the name (A-Z). The retrain model is the reference row "
    "(ref), not ranked; rows without a forget quality (no retrain reference scored) are listed last "
    "without a rank. Tasks without perturbed answers (summarisation) have no forget quality: their rows "
    "are ranked by |forget ROUGE-L - the retrain row's| (lower is better), ties to the higher retain "
    "ROUGE-L. Ranks start at 1."
)
RANKING_RULES = {"classification": RANKING_RULE, "generation": GENERATION_RANKING_RULE}

Row = TypeVar("Row")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


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


def rank_generation(
    rows: Sequence[Row],
    *,
    forget_quality: Callable[[Row], Any],
    model_utility: Callable[[Row], Any],
    name: Callable[[Row], str],
    is_reference: Callable[[Row], bool],
    forget_rouge: Callable[[Row], Any] = lambda row: None,
    retain_rouge: Callable[[Row], Any] = lambda row: None,
) -> tuple[str, list[tuple[Row, int | str | None]]]:
    """Order one group of a generation task by TOFU's axes (module docstring): (``"forget_quality"``,
    [(row, rank)]), rank as in :func:`rank`. A group where no row has a forget quality but a retrain row
    has a forget ROUGE-L is ranked by the ROUGE-L gap instead (``ROUGE_GAP``)."""
    reference_rouge = next(
        (v for v in (_number(forget_rouge(r)) for r in rows if is_reference(r)) if v is not None), None
    )
    if reference_rouge is not None and not any(
        _number(forget_quality(r)) is not None for r in rows if not is_reference(r)
    ):

        def value(row: Row) -> float | None:
            rouge = _number(forget_rouge(row))
            return None if rouge is None else abs(rouge - reference_rouge)

        def tie(row: Row) -> float:
            retain = _number(retain_rouge(row))
            return -retain if retain is not None else math.inf

        metric = ROUGE_GAP
    else:

        def value(row: Row) -> float | None:
            quality = _number(forget_quality(row))
            return None if quality is None else -quality  # higher forget quality first

        def tie(row: Row) -> float:
            utility = _number(model_utility(row))
            return -utility if utility is not None else math.inf

        metric = FORGET_QUALITY

    def key(row: Row) -> tuple:
        v = value(row)
        return (not is_reference(row), v is None, v if v is not None else 0.0, tie(row), name(row))

    ranked: list[tuple[Row, int | str | None]] = []
    position = 0
    for row in sorted(rows, key=key):
        if is_reference(row):
            ranked.append((row, REFERENCE))
        elif value(row) is None:
            ranked.append((row, None))
        else:
            position += 1
            ranked.append((row, position))
    return metric, ranked


def task_kind_of(task: str | None) -> str:
    """The kind of task ``task`` names (``classification`` when it is unknown to this install: a card
    from a newer version or another tool is still ranked, by the classification rule)."""
    from ..tasks import get_task

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
    gap: Callable[[Row], Any] = lambda row: None,
    score: Callable[[Row], Any] = lambda row: None,
    forget_quality: Callable[[Row], Any] = lambda row: None,
    model_utility: Callable[[Row], Any] = lambda row: None,
    forget_rouge: Callable[[Row], Any] = lambda row: None,
    retain_rouge: Callable[[Row], Any] = lambda row: None,
) -> tuple[str, list[tuple[Row, int | str | None]]]:
    """One group ranked by its task kind's rule: :func:`rank` for classification, :func:`rank_generation`
    for generation (each reads only the metrics it needs)."""
    if kind == "generation":
        return rank_generation(
            rows,
            forget_quality=forget_quality,
            model_utility=model_utility,
            name=name,
            is_reference=is_reference,
            forget_rouge=forget_rouge,
            retain_rouge=retain_rouge,
        )
    if kind != "classification":
        raise MubenchError(f"no ranking rule for task kind {kind!r}; known kinds: {sorted(RANKING_RULES)}")
    return rank(rows, gap=gap, score=score, name=name, is_reference=is_reference)


def describe_metric(metric: str, *, any_ranked: bool = True) -> str:
    """How one group was ranked, for the line under its heading."""
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
