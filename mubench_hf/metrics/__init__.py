"""Unlearning metrics as plain, vectorised NumPy functions (DESIGN §5).

Each ``evaluate_metrics/<name>/<name>.py`` module is a thin ``evaluate.Metric`` around one of these;
:func:`compute_unlearning_metrics` computes all of them at once, sharing the per-split work. Every metric
is declared once (name, kind, split, label, direction, module, reference) in
:mod:`mubench_hf.metrics.declarations`; plugins add theirs with ``@register_metric``.

Conventions: inputs are raw logits of shape (samples, classes) and integer labels; Df = forget set,
Dr = retain set, Dt = test set; every value is a float in [0, 1]. Published definitions are the
defaults: ``mia_efficacy`` is SalUn's SVC attack, ``mubench_score`` applies MU-Bench's zeroing rules.
"""

from mubench_hf.metrics.accuracy import split_accuracy
from mubench_hf.metrics.declarations import (
    MetricSpec,
    metric_label,
    metric_spec,
    metric_specs,
    metric_split,
    register_metric,
    unregister_metric,
)
from mubench_hf.metrics.forget_quality import (
    ForgetQualityResult,
    forget_quality,
    forget_quality_from_losses,
    forget_quality_from_outputs,
    forget_quality_test,
)
from mubench_hf.metrics.gap import GAP_COMPONENTS, gap_to_retrain
from mubench_hf.metrics.intervals import bootstrap_interval, rate_interval
from mubench_hf.metrics.knowledge_gap import (
    knowledge_gap,
    knowledge_gap_draw_aucs,
    knowledge_gap_draw_std,
    knowledge_gap_from_correct,
    knowledge_gap_monte_carlo,
)
from mubench_hf.metrics.mia import (
    SALUN_SVC_PARAMS,
    MembershipAttackResult,
    membership_attack,
    membership_attack_from_outputs,
    mia_efficacy,
    salun_attacker,
)
from mubench_hf.metrics.mia_loss import loss_attack_auc, loss_attack_auc_from_losses
from mubench_hf.metrics.mia_lr import (
    MEMBERSHIP_FEATURES,
    membership_attack_lr,
    membership_attack_lr_from_outputs,
    membership_features,
    mia_efficacy_lr,
)
from mubench_hf.metrics.outputs import SplitOutputs, log_softmax, split_outputs
from mubench_hf.metrics.plugin_metrics import ClassificationInputs, compute_plugin_metrics
from mubench_hf.metrics.score import LENIENT_METHODS, max_test_change_for, mubench_score
from mubench_hf.metrics.suite import (
    OPTIONAL_SPLITS,
    REQUIRED_SPLITS,
    compute_unlearning_metrics,
    interval_rng,
)
from mubench_hf.metrics.zrf import (
    ZRF_TEACHERS,
    js_divergence,
    zrf,
    zrf_from_log_probs,
    zrf_uniform_noise_from_log_probs,
)

__all__ = [
    "ClassificationInputs",
    "ForgetQualityResult",
    "GAP_COMPONENTS",
    "LENIENT_METHODS",
    "MEMBERSHIP_FEATURES",
    "MembershipAttackResult",
    "MetricSpec",
    "OPTIONAL_SPLITS",
    "REQUIRED_SPLITS",
    "SALUN_SVC_PARAMS",
    "SplitOutputs",
    "ZRF_TEACHERS",
    "bootstrap_interval",
    "compute_plugin_metrics",
    "compute_unlearning_metrics",
    "forget_quality",
    "forget_quality_from_losses",
    "forget_quality_from_outputs",
    "forget_quality_test",
    "gap_to_retrain",
    "interval_rng",
    "js_divergence",
    "knowledge_gap",
    "knowledge_gap_draw_aucs",
    "knowledge_gap_draw_std",
    "knowledge_gap_from_correct",
    "knowledge_gap_monte_carlo",
    "log_softmax",
    "loss_attack_auc",
    "loss_attack_auc_from_losses",
    "max_test_change_for",
    "metric_label",
    "metric_spec",
    "metric_specs",
    "metric_split",
    "membership_attack",
    "membership_attack_from_outputs",
    "membership_attack_lr",
    "membership_attack_lr_from_outputs",
    "membership_features",
    "mia_efficacy",
    "mia_efficacy_lr",
    "mubench_score",
    "rate_interval",
    "register_metric",
    "salun_attacker",
    "split_accuracy",
    "split_outputs",
    "unregister_metric",
    "zrf",
    "zrf_from_log_probs",
    "zrf_uniform_noise_from_log_probs",
]
