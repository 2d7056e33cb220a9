"""The ranking rule of generation tasks (LLM QA, summarisation): TOFU's two axes (its
``aggregate_eval_stat.py`` reports forget quality and model utility, and its paper compares methods on
them).

Within each task and deletion config: by forget quality (the KS-test p-value of the forget-set truth ratios
against the retrain model), highest first; ties go to the higher model utility, then to the name. The
retrain model is the reference row, never ranked. Without a retrain reference no row has a forget quality
and nothing is ranked: model utility alone would put the model that forgot nothing first. Tasks whose rows
carry no perturbed answers (summarisation) have no truth ratio, hence no forget quality even with a retrain
reference: there the rows are ranked by how close their forget ROUGE-L is to the retrain row's
(``|ΔROUGE-L_f|``, lowest first), ties to the higher retain ROUGE-L.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..ranking import REFERENCE
from ..ranking import number as _number

FORGET_QUALITY = "forget_quality"
MODEL_UTILITY = "model_utility"
ROUGE_GAP = "forget_rouge_l_gap_to_retrain"

GENERATION_RANKING_RULE = (
    "Ranking (generation tasks, as TOFU compares methods): within each task and config, by forget quality "
    "(KS-test p-value of the forget-set truth ratios against the retrain model; higher is better); ties "
    "go to the higher model utility, then to the name (A-Z). The retrain model is the reference row "
    "(ref), not ranked; rows without a forget quality (no retrain reference scored) are listed last "
    "without a rank. Tasks without perturbed answers (summarisation) have no forget quality: their rows "
    "are ranked by |forget ROUGE-L - the retrain row's| (lower is better), ties to the higher retain "
    "ROUGE-L. Ranks start at 1."
)

Row = TypeVar("Row")


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
    [(row, rank)]), rank as in the classification rule. A group where no row has a forget quality but a retrain row
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
