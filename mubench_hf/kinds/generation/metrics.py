"""The generation report's metrics from one model's split outputs (:class:`~.score.SplitScores`): ROUGE-L
recall, answer probability, truth ratio, forget quality against a retrain model, TOFU's model utility, the
LOSS / zlib / min-k % / min-k %++ membership AUCs, MUSE's PrivLeak and the extraction strength
(:mod:`mubench_hf.metrics.generative` holds the arithmetic)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...metrics.generative import (
    UTILITY_SPLITS,
    aggregate_truth_ratio,
    answer_probability,
    exact_memorization,
    extraction_strength,
    extraction_strength_open_unlearning,
    loss_scores,
    mia_auc,
    min_k_plus_plus_scores,
    min_k_scores,
    model_utility,
    normalised_answer_probability,
    privleak,
    rouge_l_recalls,
    truth_ratio_forget_quality,
    truth_ratios,
    zlib_scores,
)
from ...modalities.base import COMPLETION_COLUMN
from .muse_report import PROBE_SPLITS, muse_metrics
from .score import OPTIONAL_STATISTICS, SplitScores, texts_of

#: the splits every report needs (the plain answer probability is TOFU's "Prob." on these)
REQUIRED_SPLITS = ("forget", "retain")

#: Every metric of the report, in order (each also as ``original_<name>`` with an original model).
REPORT_METRICS = (
    "forget_rouge_l",
    "retain_rouge_l",
    "forget_answer_prob",
    "truth_ratio",
    "forget_quality",
    "model_utility",
    "mia_loss_auc",
    "mia_zlib_auc",
    "mia_min_k_auc",
    "mia_min_k_plus_plus_auc",
    "privleak",
    "extraction_strength",
    "extraction_strength_open_unlearning",
    "exact_memorization",
)


def needed_statistics(name: str, *, holdout: str | None, retrain: bool) -> tuple[str, ...]:
    """The per-token statistics beyond log-probabilities (:data:`~.score.OPTIONAL_STATISTICS`) that
    :func:`model_metrics` reads from one model's split ``name``: the argmax on forget (extraction strength)
    and min-k %++'s mean and variance on forget and the holdout split (when there is one). The retrain
    model's forget and holdout outputs (``retrain``) serve truth ratios and min-k % only: none."""
    if retrain:
        return ()
    wanted = {"argmax"} if name == "forget" else set()
    if holdout is not None and name in ("forget", holdout):
        wanted |= {"mean", "var"}
    return tuple(s for s in OPTIONAL_STATISTICS if s in wanted)


def _avg_loss(stat: Mapping[str, np.ndarray]) -> float:
    return float(-stat["log_probs"].mean()) if stat["log_probs"].size else 0.0


def _without_eos(stat: Mapping[str, np.ndarray], eos: int | None) -> dict[str, np.ndarray]:
    """The answer's tokens minus a final end-of-sequence token (open-unlearning's min-k and extraction
    strength score the answer proper, not the stop token)."""
    if eos is not None and stat["target"].size and stat["target"][-1] == eos:
        return {name: value[:-1] for name, value in stat.items()}
    return dict(stat)


def truth_ratio_statistics(scores: SplitScores) -> np.ndarray | None:
    """Per-row truth-ratio statistics R = p(false)/p(true) over the rows with perturbed answers; the true
    answer is the paraphrase where the row has one, else the answer itself (TOFU's real authors and world
    facts). ``None`` when no row has perturbed answers."""
    rows = [row for row, wrong in enumerate(scores.perturbed) if wrong]
    if not rows:
        return None
    correct = [_avg_loss(scores.paraphrase[r] or scores.answer[r]) for r in rows]
    wrong = [[_avg_loss(s) for s in scores.perturbed[r]] for r in rows]
    return truth_ratios(correct, wrong)


def _split_probability(name: str, scores: SplitScores) -> float:
    """TOFU's "Prob.": plain on forget and retain, normalised against the perturbed answers elsewhere."""
    true = [_avg_loss(s) for s in scores.answer]
    rows = [row for row, wrong in enumerate(scores.perturbed) if wrong]
    if name in REQUIRED_SPLITS or not rows:
        return answer_probability(true)
    return normalised_answer_probability(
        [true[r] for r in rows], [[_avg_loss(s) for s in scores.perturbed[r]] for r in rows]
    )


def _min_k(scores: SplitScores, eos: int | None, k: float) -> np.ndarray:
    """The min-k % scores of a split's answers alone (the retrain model's PrivLeak reads no other)."""
    return min_k_scores([_without_eos(s, eos)["log_probs"] for s in scores.answer], k=k)


def _mia_scores(
    scores: SplitScores, texts: Sequence[str], eos: int | None, k: float
) -> dict[str, np.ndarray]:
    avg = np.array([_avg_loss(s) for s in scores.answer])
    trimmed = [_without_eos(s, eos) for s in scores.answer]
    return {
        "loss": loss_scores([s["log_probs"] for s in scores.answer]),
        "zlib": zlib_scores(avg, texts),
        "min_k": min_k_scores([s["log_probs"] for s in trimmed], k=k),
        "min_k_plus_plus": min_k_plus_plus_scores(
            [s["log_probs"] for s in trimmed], [s["mean"] for s in trimmed], [s["var"] for s in trimmed], k=k
        ),
    }


def model_metrics(
    outputs: Mapping[str, SplitScores],
    splits: Mapping[str, Any],
    *,
    holdout: str | None,
    retrain: Mapping[str, SplitScores] | None,
    eos: int | None,
    k: float,
) -> dict[str, float | None]:
    """Every metric of one model from its split outputs (and the retrain model's, for the relative ones)."""
    metrics: dict[str, float | None] = dict.fromkeys(REPORT_METRICS)
    for name, scores in outputs.items():
        # MUSE's probes are read by their own ROUGE-L F1 (muse_metrics), not TOFU's stemmed recall
        if scores.predictions is not None and name not in PROBE_SPLITS:
            metrics[f"{name}_rouge_l"] = float(
                rouge_l_recalls(scores.predictions, texts_of(splits[name], COMPLETION_COLUMN)).mean()
            )
    forget = outputs["forget"]
    metrics["forget_answer_prob"] = answer_probability([_avg_loss(s) for s in forget.answer])
    ratios = truth_ratio_statistics(forget)
    if ratios is not None:
        metrics["truth_ratio"] = aggregate_truth_ratio(ratios, "closer_to_1_better")
        retrain_ratios = truth_ratio_statistics(retrain["forget"]) if retrain else None
        if retrain_ratios is not None:
            metrics["forget_quality"] = truth_ratio_forget_quality(ratios, retrain_ratios)
    utility: dict[str, float] = {}
    for name, scores in outputs.items():
        if name in ("forget", holdout) or not scores.answer:  # not teacher-forced: generations only
            continue
        metrics[f"{name}_answer_prob"] = _split_probability(name, scores)
        split_ratios = truth_ratio_statistics(scores)
        if split_ratios is not None:
            metrics[f"{name}_truth_ratio"] = aggregate_truth_ratio(split_ratios, "true_better")
        if name in UTILITY_SPLITS:
            for metric in ("answer_prob", "rouge_l", "truth_ratio"):
                value = metrics.get(f"{name}_{metric}")
                if value is not None:
                    utility[f"{name}_{metric}"] = value
    if utility:
        metrics["model_utility"] = model_utility(utility)
    metrics.update(muse_metrics(outputs, splits))  # VerbMem / KnowMem where MUSE's probes were scored
    trimmed = [_without_eos(s, eos) for s in forget.answer]
    predicted, answers = [s["argmax"] for s in trimmed], [s["target"] for s in trimmed]
    metrics["extraction_strength"] = extraction_strength(predicted, answers)
    metrics["extraction_strength_open_unlearning"] = extraction_strength_open_unlearning(predicted, answers)
    metrics["exact_memorization"] = exact_memorization(predicted, answers)
    if holdout is not None and holdout in outputs:
        member = _mia_scores(forget, texts_of(splits["forget"], COMPLETION_COLUMN), eos, k)
        other = _mia_scores(outputs[holdout], texts_of(splits[holdout], COMPLETION_COLUMN), eos, k)
        for attack in member:
            metrics[f"mia_{attack}_auc"] = mia_auc(member[attack], other[attack])
        if retrain is not None and holdout in retrain:
            # the retrain model's min-k % only (its other statistics are not computed: needed_statistics)
            retrain_auc = mia_auc(_min_k(retrain["forget"], eos, k), _min_k(retrain[holdout], eos, k))
            metrics["privleak"] = privleak(metrics["mia_min_k_auc"], retrain_auc)
    return metrics
