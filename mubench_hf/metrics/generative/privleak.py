"""PrivLeak (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way Evaluation for Language Models"), as
open-unlearning's ``privleak`` handler computes it (``src/evals/metrics/privacy.py``).

MUSE reports the Min-k % membership AUC the other way round (``1 - AUC`` in open-unlearning's
convention, where 1 = forget looks like members) and compares it with the retrain model's on the same
forget and holdout sets:

``privleak = ((1 - auc) - (1 - retrain_auc)) / (1 - retrain_auc) * 100``

in percent. 0 = the unlearned model leaks as much (or as little) membership as the retrain model; large
negative = the forget set still looks like training data (under-unlearning); large positive = it looks
*less* like training data than unseen text does (over-unlearning, itself a signal).
"""

from __future__ import annotations

from mubench_hf.errors import MubenchError


def _auc(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise MubenchError(f"{name} must be an AUC in [0, 1]; got {value!r}")
    return float(value)


def privleak(auc: float, retrain_auc: float) -> float:
    """MUSE's PrivLeak in percent from the unlearned and the retrain model's Min-k % AUCs (forget vs holdout).

    Args:
        auc: the unlearned model's membership AUC (open-unlearning's convention: 1 = forget looks like members).
        retrain_auc: the retrain model's AUC on the same forget and holdout samples.
    """
    auc, retrain_auc = _auc(auc, "auc"), _auc(retrain_auc, "retrain_auc")
    reference = 1.0 - retrain_auc
    if reference == 0.0:
        raise MubenchError(
            "privleak is undefined when the retrain model's AUC is 1 (it separates forget from holdout "
            "perfectly although it never trained on the forget set): check that the retrain model was "
            "trained without the forget set"
        )
    return ((1.0 - auc) - reference) / reference * 100.0
