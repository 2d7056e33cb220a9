"""What is wrong with a report, in words: the numbers alone hide a broken setup.

A report can be complete and still say nothing: a base model that never learned its training data has
nothing to forget; a harmonic mean (TOFU's model utility) is 0 as soon as one of its components is 0, which
reads like total failure when one split failed; MU-Bench's score is 0 by a zeroing rule that the number does
not name; and a split of a handful of rows makes accuracies jump in big steps and leaves a KS test or an AUC
without power. :func:`add_report_warnings` finds these, emits each with ``warnings.warn`` (a
:class:`ReportWarning`) and records them in the report under ``"warnings"`` (a list of strings), so the
saved ``unlearning_results.json`` says it too.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from mubench_hf.metrics.generative.tofu import UTILITY_SPLITS
from mubench_hf.metrics.score import mubench_score_zero_reason

WARNINGS_KEY = "warnings"
#: Below this many rows one row moves a rate by more than 0.1, and a KS test or an AUC on the split cannot
#: tell two models apart from noise.
MIN_ROWS = 10
#: A classifier counts as "at chance" on its training rows when it gets less than this share of the way
#: from chance (1/K) to perfect.
CHANCE_MARGIN = 0.1
#: A language model has not memorised its training rows when its ROUGE-L on them (the forget split) beats
#: its ROUGE-L on never-seen rows (the holdout) by less than this.
MEMORISATION_MARGIN = 0.1

# The metrics that rest on each split, by task kind (only those present in a report are named).
_SPLIT_METRICS: dict[str, dict[str, tuple[str, ...]]] = {
    "classification": {
        "forget": ("forget_accuracy", "knowledge_gap", "zrf", "mia_efficacy", "forget_quality"),
        "retain": ("retain_accuracy", "knowledge_gap"),
        "test": ("test_accuracy", "mubench_score", "mia_efficacy"),
        "validation": ("validation_accuracy",),
        "ood": ("ood_accuracy",),
    },
    "generation": {
        "forget": ("forget_rouge_l", "truth_ratio", "forget_quality", "mia_min_k_auc", "extraction_strength"),
        "retain": ("retain_rouge_l", "model_utility"),
        "test": ("mia_min_k_auc", "privleak"),
    },
}


class ReportWarning(UserWarning):
    """A report whose numbers are computed but do not mean what they seem to (see the module docstring)."""


def report_warnings(
    report: Mapping[str, Any],
    *,
    kind: str,
    split_rows: Mapping[str, int],
    num_labels: int | None = None,
    method: str | None = None,
) -> list[str]:
    """The warnings that ``report`` (a flat metrics dict of task kind ``kind``) deserves.

    Args:
        report: the report's metrics (``forget_accuracy``, ``original_forget_accuracy``, ``model_utility`` ...).
        kind: ``"classification"`` or ``"generation"``.
        split_rows: the number of rows each scored split had.
        num_labels: the number of classes (classification: chance is 1/K).
        method: the unlearning method (selects MU-Bench's zeroing allowance).
    """
    found: list[str] = []
    found += _untrained_base(report, kind, num_labels)
    found += _zero_score(report, num_labels, method)
    found += _zero_utility(report)
    found += _small_splits(report, kind, split_rows)
    return found


def add_report_warnings(report: dict[str, Any], **context: Any) -> list[str]:
    """Find the warnings of ``report`` (:func:`report_warnings`, same keyword arguments), emit each once and
    record them in ``report["warnings"]`` (left out when there are none); returns them."""
    found = report_warnings(report, **context)
    for message in dict.fromkeys(found):  # each once, in order
        warnings.warn(message, ReportWarning, stacklevel=2)
    if found:
        report[WARNINGS_KEY] = list(dict.fromkeys(found))
    return found


def _number(report: Mapping[str, Any], key: str) -> float | None:
    value = report.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _untrained_base(report: Mapping[str, Any], kind: str, num_labels: int | None) -> list[str]:
    if kind == "generation":
        seen, unseen = _number(report, "original_forget_rouge_l"), _number(report, "original_test_rouge_l")
        if seen is None or unseen is None or seen - unseen >= MEMORISATION_MARGIN:
            return []
        return [
            f"the base model has not memorised its own training data: its forget ROUGE-L ({seen:.3f}) is no "
            f"better than on never-seen rows (test: {unseen:.3f}), so there is nothing to unlearn and the "
            "forget metrics cannot show forgetting; train the base model longer (more epochs, a higher "
            "learning rate)"
        ]
    accuracy = _number(report, "original_forget_accuracy")
    if accuracy is None or not num_labels:
        return []
    chance = 1.0 / num_labels
    if accuracy >= chance + CHANCE_MARGIN * (1.0 - chance):
        return []
    return [
        f"the base model is at chance on its own training data: forget accuracy {accuracy:.3f} with "
        f"{num_labels} classes (chance {chance:.3f}), so there is nothing to unlearn; train the base model "
        "(longer) before unlearning"
    ]


def _zero_score(report: Mapping[str, Any], num_labels: int | None, method: str | None) -> list[str]:
    found = []
    for prefix, rule_of in (("", method), ("retrain_", None)):
        score = _number(report, f"{prefix}mubench_score")
        test = _number(report, f"{prefix}test_accuracy")
        forget = _number(report, f"{prefix}forget_accuracy")
        anchor = _number(report, "original_test_accuracy")
        if score != 0.0 or None in (test, forget, anchor) or not num_labels or not anchor:
            continue
        reason = mubench_score_zero_reason(
            test_accuracy=test,  # type: ignore[arg-type]
            forget_accuracy=forget,  # type: ignore[arg-type]
            original_test_accuracy=anchor,  # type: ignore[arg-type]
            num_labels=num_labels,
            method=rule_of,
        )
        if reason:
            whose = "the retrain model's MU-Bench score" if prefix else "MU-Bench score"
            found.append(f"{whose} is 0 by MU-Bench's zeroing rule: {reason}")
    return found


def _zero_utility(report: Mapping[str, Any]) -> list[str]:
    found = []
    for prefix in ("", "original_"):
        if _number(report, f"{prefix}model_utility") != 0.0:
            continue
        zeros = [
            f"{split}_{metric}"
            for split in UTILITY_SPLITS
            for metric in ("answer_prob", "rouge_l", "truth_ratio")
            if _number(report, f"{prefix}{split}_{metric}") == 0.0
        ]
        if zeros:
            whose = "the base model's model utility" if prefix else "model utility"
            found.append(
                f"{whose} is 0 because {', '.join(zeros)} {'is' if len(zeros) == 1 else 'are'} 0: a harmonic "
                "mean is 0 as soon as one component is, whatever the others are"
            )
    return found


def _small_splits(report: Mapping[str, Any], kind: str, split_rows: Mapping[str, int]) -> list[str]:
    found = []
    metrics_of = _SPLIT_METRICS.get(kind, {})
    for split, rows in split_rows.items():
        if rows >= MIN_ROWS:
            continue
        named = [m for m in metrics_of.get(split, ()) if report.get(m) is not None]
        if not named:
            continue
        found.append(
            f"split {split!r} has {rows} row(s), fewer than the {MIN_ROWS} that {', '.join(named)} need to mean "
            f"anything (one row moves a rate by {1 / max(rows, 1):.2f}); use a larger deletion ratio or split"
        )
    return found
