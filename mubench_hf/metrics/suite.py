"""Every unlearning metric in one call, as a flat ``{name: float}`` dict (the ``mubench`` module).

The suite validates each split once, derives the per-sample quantities once
(:class:`~mubench_hf.metrics.outputs.SplitOutputs`: softmax, arg-max, loss, entropy) and feeds them to
every metric, for the unlearned model and, when given, for the retrained reference model.

Definitions follow the published ones: ``mia_efficacy`` is SalUn's SVC attack, ``mubench_score`` uses
MU-Bench's zeroing rules (pass the unlearning ``method``), ``zrf`` is the ZRF paper's random-network
teacher in bits unless ``zrf_teacher="uniform_noise"`` (MU-Bench; use ``zrf_base=math.e`` as it does).
Each split accuracy and ``mia_efficacy`` come with a seeded percentile-bootstrap interval
(:mod:`mubench_hf.metrics.intervals`).

Which number is which (DESIGN §5): ``mubench_score`` pulls Df accuracy toward chance, which for random
deletion rewards over-forgetting; ``gap_to_retrain`` measures the distance to the retrained gold
standard and is the principled target. Report both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError
from mubench_hf.metrics._validate import as_teacher_logits, check_fraction
from mubench_hf.metrics.forget_quality import forget_quality_from_outputs
from mubench_hf.metrics.gap import gap_to_retrain
from mubench_hf.metrics.intervals import DEFAULT_RESAMPLES, check_resamples, rate_interval
from mubench_hf.metrics.knowledge_gap import knowledge_gap_from_correct
from mubench_hf.metrics.mia import membership_attack_from_outputs
from mubench_hf.metrics.mia_loss import loss_attack_auc_from_losses
from mubench_hf.metrics.mia_lr import membership_attack_lr_from_outputs
from mubench_hf.metrics.outputs import SplitOutputs
from mubench_hf.metrics.plugin_metrics import ClassificationInputs, compute_plugin_metrics
from mubench_hf.metrics.score import max_test_change_for, mubench_score
from mubench_hf.metrics.suite_inputs import (
    OPTIONAL_SPLITS,
    REQUIRED_SPLITS,
    retrain_outputs,
    validated_outputs,
)
from mubench_hf.metrics.zrf import (
    MUBENCH_NOISE_DRAWS,
    ZRF_TEACHERS,
    check_base,
    zrf_from_log_probs,
    zrf_uniform_noise_from_log_probs,
)

__all__ = ["OPTIONAL_SPLITS", "REQUIRED_SPLITS", "compute_unlearning_metrics"]

# Each interval draws from its own stream, [seed, model, stream], so adding a split or a model never
# shifts another interval's resamples.
_INTERVAL_STREAMS: dict[str, int] = {
    **{f"{split}_accuracy": index for index, split in enumerate((*REQUIRED_SPLITS, *OPTIONAL_SPLITS))},
    "mia_efficacy": 100,
}


@dataclass(frozen=True)
class _Settings:
    teachers: np.ndarray | None
    original_test_accuracy: float | None
    method: str | None
    num_labels: int
    seed: int
    zrf_teacher: str
    zrf_base: float
    zrf_noise_draws: int
    bootstrap_resamples: int


def compute_unlearning_metrics(
    logits: Mapping[str, ArrayLike],
    labels: Mapping[str, ArrayLike],
    *,
    num_labels: int | None = None,
    original_test_accuracy: float | None = None,
    method: str | None = None,
    random_teacher_logits: ArrayLike | None = None,
    retrain_logits: Mapping[str, ArrayLike] | None = None,
    seed: int = 0,
    zrf_teacher: str = "random_network",
    zrf_base: float = 2,
    zrf_noise_draws: int = MUBENCH_NOISE_DRAWS,
    bootstrap_resamples: int = DEFAULT_RESAMPLES,
) -> dict[str, float]:
    """Compute every MU-Bench metric for an unlearned classifier.

    Args:
        logits: the unlearned model's logits per split, each of shape (samples, classes). Required
            splits: ``forget``, ``retain``, ``test``; optional: ``validation``, ``ood``.
        labels: the true class ids per split, same keys and sample order as ``logits``.
        num_labels: number of classes K; defaults to the logits' width (checked when given).
        original_test_accuracy: the original model's test accuracy, needed for ``mubench_score``.
        method: the unlearning method's name; selects MU-Bench's test-accuracy allowance in
            ``mubench_score`` (40 % for ``grad_ascent`` / ``neggrad``, else 20 %); the retrained
            reference's ``retrain_mubench_score`` always uses the default 20 %.
        random_teacher_logits: a randomly initialised model's logits on the forget split, shape
            (forget samples, K), or a stack (teachers, forget samples, K); enables ``zrf`` with
            ``zrf_teacher="random_network"``.
        retrain_logits: the retrained model's logits per split (at least ``forget``, ``retain`` and
            ``test``, same samples as ``logits``); enables ``forget_quality``, ``gap_to_retrain`` and
            the ``retrain_*`` reference values.
        seed: seeds the logistic MIA attacker's class balancing, the bootstrap resamples and the
            uniform-noise ZRF teachers.
        zrf_teacher: ``"random_network"`` (the ZRF paper) or ``"uniform_noise"`` (MU-Bench, needs no
            teacher logits; ``zrf`` is then always computed).
        zrf_base: 2 (bits) or ``math.e`` (nats, MU-Bench) for the Jensen-Shannon divergence.
        zrf_noise_draws: the number of uniform-noise teachers (MU-Bench: 500).
        bootstrap_resamples: resamples per interval (0 = no ``*_ci_low`` / ``*_ci_high`` keys).

    Returns:
        A flat dict of floats. Always: ``forget_accuracy``, ``retain_accuracy``, ``test_accuracy``,
        ``knowledge_gap``, ``mia_efficacy`` (SalUn), ``mia_test_nonmember_rate``, ``mia_efficacy_lr``
        (logistic attack), ``mia_loss_auc`` (Dr vs Dt), ``mia_forget_loss_auc`` (Df vs Dt), and
        ``<metric>_ci_low`` / ``<metric>_ci_high`` (95 % bootstrap) for every accuracy and
        ``mia_efficacy``. With the optional splits: ``validation_accuracy``, ``ood_accuracy``. With a
        teacher: ``zrf``. With ``original_test_accuracy``: ``mubench_score``. With ``retrain_logits``:
        ``forget_quality``, ``forget_quality_ks_statistic``, ``gap_to_retrain``,
        ``gap_forget_accuracy``, ``gap_retain_accuracy``, ``gap_test_accuracy``, ``gap_mia_efficacy``
        and every metric above for the retrained model, prefixed ``retrain_``. Metrics declared with a
        compute function (plugins, :mod:`mubench_hf.metrics.declarations`) are added under their names,
        for the retrained model too.
    """
    outputs = validated_outputs(logits, labels, num_labels)
    settings = _settings(
        outputs["forget"],
        original_test_accuracy=original_test_accuracy,
        method=method,
        random_teacher_logits=random_teacher_logits,
        seed=seed,
        zrf_teacher=zrf_teacher,
        zrf_base=zrf_base,
        zrf_noise_draws=zrf_noise_draws,
        bootstrap_resamples=bootstrap_resamples,
    )
    metrics = _model_metrics(outputs, settings, model_index=0)
    if retrain_logits is None:
        metrics.update(_plugin_metrics(outputs, None, settings))
        return metrics
    reference = retrain_outputs(retrain_logits, outputs)
    # The reference is scored by its own rule, not the reported method's: MU-Bench's lenient allowance
    # for grad_ascent would otherwise give the same retrain model another score in each method's report.
    retrain_metrics = _model_metrics(reference, replace(settings, method=None), model_index=1)
    quality = forget_quality_from_outputs(outputs["forget"], reference["forget"])
    metrics["forget_quality"] = quality.p_value
    metrics["forget_quality_ks_statistic"] = quality.ks_statistic
    metrics.update(gap_to_retrain(metrics, retrain_metrics))
    metrics.update(_plugin_metrics(outputs, reference, settings))
    retrain_metrics.update(_plugin_metrics(reference, None, settings))
    metrics.update({f"retrain_{name}": value for name, value in retrain_metrics.items()})
    return metrics


def _plugin_metrics(
    outputs: dict[str, SplitOutputs], reference: dict[str, SplitOutputs] | None, settings: _Settings
) -> dict[str, float]:
    """The metrics declared with a compute function (:mod:`mubench_hf.metrics.plugin_metrics`)."""
    inputs = ClassificationInputs(
        outputs=outputs, retrain=reference, num_labels=settings.num_labels, seed=settings.seed
    )
    return compute_plugin_metrics("classification", inputs)


def interval_rng(seed: int, model_index: int, metric: str) -> np.random.Generator:
    """The generator of one interval: ``default_rng([seed, model_index, stream of metric])``.

    ``model_index`` is 0 for the unlearned model and 1 for the retrained one.
    """
    return np.random.default_rng([seed, model_index, _INTERVAL_STREAMS[metric]])


def _settings(
    forget: SplitOutputs,
    *,
    original_test_accuracy: float | None,
    method: str | None,
    random_teacher_logits: ArrayLike | None,
    seed: int,
    zrf_teacher: str,
    zrf_base: float,
    zrf_noise_draws: int,
    bootstrap_resamples: int,
) -> _Settings:
    """Every argument checked once, before any metric is computed."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MubenchError(f"seed must be an integer >= 0; got {seed!r}")
    if zrf_teacher not in ZRF_TEACHERS:
        raise MubenchError(f"zrf_teacher must be one of {list(ZRF_TEACHERS)}; got {zrf_teacher!r}")
    if zrf_teacher == "uniform_noise" and random_teacher_logits is not None:
        raise MubenchError(
            "random_teacher_logits must be None with zrf_teacher='uniform_noise' (the noise teachers are "
            "drawn from the seed); use zrf_teacher='random_network' to score against a random model"
        )
    if (
        isinstance(zrf_noise_draws, bool)
        or not isinstance(zrf_noise_draws, (int, np.integer))
        or zrf_noise_draws < 1
    ):
        raise MubenchError(
            f"zrf_noise_draws must be a positive integer (MU-Bench uses 500); got {zrf_noise_draws!r}"
        )
    teachers = None
    if random_teacher_logits is not None:
        teachers = as_teacher_logits(
            random_teacher_logits, "random_teacher_logits", expected=forget.log_probs.shape
        )
    if original_test_accuracy is not None:
        original_test_accuracy = check_fraction(original_test_accuracy, "original_test_accuracy")
    max_test_change_for(method)  # rejects a method that is not a name
    return _Settings(
        teachers=teachers,
        original_test_accuracy=original_test_accuracy,
        method=method,
        num_labels=forget.num_labels,
        seed=int(seed),
        zrf_teacher=zrf_teacher,
        zrf_base=check_base(zrf_base),
        zrf_noise_draws=int(zrf_noise_draws),
        bootstrap_resamples=check_resamples(bootstrap_resamples),
    )


def _model_metrics(
    outputs: dict[str, SplitOutputs], settings: _Settings, *, model_index: int
) -> dict[str, float]:
    forget, retain, test = outputs["forget"], outputs["retain"], outputs["test"]
    metrics = {
        f"{split}_accuracy": outputs[split].accuracy
        for split in (*REQUIRED_SPLITS, *OPTIONAL_SPLITS)
        if split in outputs
    }
    counts = {
        f"{split}_accuracy": (int(outputs[split].correct.sum()), outputs[split].num_samples)
        for split in outputs
    }
    metrics["knowledge_gap"] = knowledge_gap_from_correct(forget.correct, retain.correct)
    zrf_value = _zrf(forget, settings)
    if zrf_value is not None:
        metrics["zrf"] = zrf_value
    attack = membership_attack_from_outputs(forget, retain, test)
    metrics["mia_efficacy"] = attack.efficacy
    metrics["mia_test_nonmember_rate"] = attack.test_nonmember_rate
    # efficacy is a share of Df, so its count is recovered exactly from the rate
    counts["mia_efficacy"] = (round(attack.efficacy * attack.forget_samples), attack.forget_samples)
    metrics["mia_efficacy_lr"] = membership_attack_lr_from_outputs(
        forget, retain, test, seed=settings.seed
    ).efficacy
    metrics["mia_loss_auc"] = loss_attack_auc_from_losses(retain.loss, test.loss)
    metrics["mia_forget_loss_auc"] = loss_attack_auc_from_losses(forget.loss, test.loss)
    if settings.original_test_accuracy is not None:
        metrics["mubench_score"] = mubench_score(
            test_accuracy=metrics["test_accuracy"],
            forget_accuracy=metrics["forget_accuracy"],
            original_test_accuracy=settings.original_test_accuracy,
            num_labels=settings.num_labels,
            method=settings.method,
        )
    if settings.bootstrap_resamples > 0:
        for name, (successes, trials) in counts.items():
            low, high = rate_interval(
                successes,
                trials,
                resamples=settings.bootstrap_resamples,
                rng=interval_rng(settings.seed, model_index, name),
            )
            metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"] = low, high
    return metrics


def _zrf(forget: SplitOutputs, settings: _Settings) -> float | None:
    if settings.zrf_teacher == "uniform_noise":
        return zrf_uniform_noise_from_log_probs(
            forget.log_probs, num_draws=settings.zrf_noise_draws, seed=settings.seed, base=settings.zrf_base
        )
    if settings.teachers is None:
        return None
    return zrf_from_log_probs(
        forget.log_probs, settings.teachers, name="random_teacher_logits", base=settings.zrf_base
    )
