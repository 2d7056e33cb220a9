"""Unlearning metrics as plain, vectorised NumPy functions (DESIGN §5).

Each ``evaluate_metrics/<name>/<name>.py`` module is a thin ``evaluate.Metric`` around one of these;
:func:`compute_unlearning_metrics` computes all of them at once, sharing the per-split work.

Conventions: inputs are raw logits of shape (samples, classes) and integer labels; Df = forget set,
Dr = retain set, Dt = test set; every value is a float in [0, 1].
"""

from mubench_hf.metrics.accuracy import split_accuracy
from mubench_hf.metrics.forget_quality import (
    ForgetQualityResult,
    forget_quality,
    forget_quality_from_losses,
    forget_quality_from_outputs,
    forget_quality_test,
)
from mubench_hf.metrics.gap import GAP_COMPONENTS, gap_to_retrain
from mubench_hf.metrics.knowledge_gap import (
    knowledge_gap,
    knowledge_gap_draw_aucs,
    knowledge_gap_draw_std,
    knowledge_gap_from_correct,
    knowledge_gap_monte_carlo,
)
from mubench_hf.metrics.mia import (
    MEMBERSHIP_FEATURES,
    MembershipAttackResult,
    loss_attack_auc,
    loss_attack_auc_from_losses,
    membership_attack,
    membership_attack_from_outputs,
    membership_features,
    mia_efficacy,
)
from mubench_hf.metrics.outputs import SplitOutputs, log_softmax, split_outputs
from mubench_hf.metrics.score import mubench_score
from mubench_hf.metrics.suite import OPTIONAL_SPLITS, REQUIRED_SPLITS, compute_unlearning_metrics
from mubench_hf.metrics.zrf import js_divergence, zrf, zrf_from_log_probs

__all__ = [
    "GAP_COMPONENTS",
    "MEMBERSHIP_FEATURES",
    "OPTIONAL_SPLITS",
    "REQUIRED_SPLITS",
    "ForgetQualityResult",
    "MembershipAttackResult",
    "SplitOutputs",
    "compute_unlearning_metrics",
    "forget_quality",
    "forget_quality_from_losses",
    "forget_quality_from_outputs",
    "forget_quality_test",
    "gap_to_retrain",
    "js_divergence",
    "knowledge_gap",
    "knowledge_gap_draw_aucs",
    "knowledge_gap_draw_std",
    "knowledge_gap_from_correct",
    "knowledge_gap_monte_carlo",
    "log_softmax",
    "loss_attack_auc",
    "loss_attack_auc_from_losses",
    "membership_attack",
    "membership_attack_from_outputs",
    "membership_features",
    "mia_efficacy",
    "mubench_score",
    "split_accuracy",
    "split_outputs",
    "zrf",
    "zrf_from_log_probs",
]
