"""Every unlearning metric in one call, as a flat ``{name: float}`` dict (the ``mubench`` module).

The suite validates each split once, derives the per-sample quantities once
(:class:`~mubench_hf.metrics.outputs.SplitOutputs`: softmax, arg-max, loss, entropy) and feeds them to
every metric, for the unlearned model and, when given, for the retrained reference model.

Which number is which (DESIGN §5): ``mubench_score`` pulls Df accuracy toward chance, which for random
deletion rewards over-forgetting; ``gap_to_retrain`` measures the distance to the retrained gold
standard and is the principled target. Report both.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.metrics._validate import (
    as_logits,
    as_teacher_logits,
    check_fraction,
    check_num_labels,
    check_reference_shape,
    check_same_width,
)
from mubench_hf.metrics.forget_quality import forget_quality_from_outputs
from mubench_hf.metrics.gap import gap_to_retrain
from mubench_hf.metrics.knowledge_gap import knowledge_gap_from_correct
from mubench_hf.metrics.mia import loss_attack_auc_from_losses, membership_attack_from_outputs
from mubench_hf.metrics.outputs import SplitOutputs, split_outputs
from mubench_hf.metrics.score import mubench_score
from mubench_hf.metrics.zrf import zrf_from_log_probs

REQUIRED_SPLITS: tuple[str, ...] = ("forget", "retain", "test")
OPTIONAL_SPLITS: tuple[str, ...] = ("validation", "ood")


def compute_unlearning_metrics(
    logits: Mapping[str, ArrayLike],
    labels: Mapping[str, ArrayLike],
    *,
    num_labels: int | None = None,
    original_test_accuracy: float | None = None,
    random_teacher_logits: ArrayLike | None = None,
    retrain_logits: Mapping[str, ArrayLike] | None = None,
    seed: int = 0,
    max_test_drop: float = 0.2,
    chance_floor: float = 0.5,
) -> dict[str, float]:
    """Compute every MU-Bench metric for an unlearned classifier.

    Args:
        logits: the unlearned model's logits per split, each of shape (samples, classes). Required
            splits: ``forget``, ``retain``, ``test``; optional: ``validation``, ``ood``.
        labels: the true class ids per split, same keys and sample order as ``logits``.
        num_labels: number of classes K; defaults to the logits' width (checked when given).
        original_test_accuracy: the original model's test accuracy, needed for ``mubench_score``.
        random_teacher_logits: a randomly initialised model's logits on the forget split, shape
            (forget samples, K), or a stack (teachers, forget samples, K); enables ``zrf``.
        retrain_logits: the retrained model's logits per split (at least ``forget``, ``retain`` and
            ``test``, same samples as ``logits``); enables ``forget_quality``, ``gap_to_retrain`` and
            the ``retrain_*`` reference values.
        seed: seeds the MIA attacker's class balancing.
        max_test_drop, chance_floor: the zeroing rules of :func:`~mubench_hf.metrics.score.mubench_score`.

    Returns:
        A flat dict of floats. Always: ``forget_accuracy``, ``retain_accuracy``, ``test_accuracy``,
        ``knowledge_gap``, ``mia_efficacy``, ``mia_test_nonmember_rate``, ``mia_loss_auc`` (Dr vs Dt),
        ``mia_forget_loss_auc`` (Df vs Dt). With the optional splits: ``validation_accuracy``,
        ``ood_accuracy``. With teachers: ``zrf``. With ``original_test_accuracy``: ``mubench_score``.
        With ``retrain_logits``: ``forget_quality``, ``forget_quality_ks_statistic``,
        ``gap_to_retrain``, ``gap_forget_accuracy``, ``gap_retain_accuracy``, ``gap_test_accuracy``,
        ``gap_mia_efficacy`` and every metric above for the retrained model, prefixed ``retrain_``.
    """
    outputs = _validated_outputs(logits, labels, num_labels)
    k = outputs["forget"].num_labels
    forget_shape = outputs["forget"].log_probs.shape
    teachers = None
    if random_teacher_logits is not None:
        teachers = as_teacher_logits(random_teacher_logits, "random_teacher_logits", expected=forget_shape)
    if original_test_accuracy is not None:
        original_test_accuracy = check_fraction(original_test_accuracy, "original_test_accuracy")

    def model_metrics(model_outputs: dict[str, SplitOutputs]) -> dict[str, float]:
        return _model_metrics(
            model_outputs,
            teachers=teachers,
            original_test_accuracy=original_test_accuracy,
            num_labels=k,
            seed=seed,
            max_test_drop=max_test_drop,
            chance_floor=chance_floor,
        )

    metrics = model_metrics(outputs)
    if retrain_logits is None:
        return metrics
    retrain_outputs = _retrain_outputs(retrain_logits, outputs)
    retrain_metrics = model_metrics(retrain_outputs)
    quality = forget_quality_from_outputs(outputs["forget"], retrain_outputs["forget"])
    metrics["forget_quality"] = quality.p_value
    metrics["forget_quality_ks_statistic"] = quality.ks_statistic
    metrics.update(gap_to_retrain(metrics, retrain_metrics))
    metrics.update({f"retrain_{name}": value for name, value in retrain_metrics.items()})
    return metrics


def _model_metrics(
    outputs: dict[str, SplitOutputs],
    *,
    teachers: np.ndarray | None,
    original_test_accuracy: float | None,
    num_labels: int,
    seed: int,
    max_test_drop: float,
    chance_floor: float,
) -> dict[str, float]:
    forget, retain, test = outputs["forget"], outputs["retain"], outputs["test"]
    metrics = {
        f"{split}_accuracy": outputs[split].accuracy
        for split in (*REQUIRED_SPLITS, *OPTIONAL_SPLITS)
        if split in outputs
    }
    metrics["knowledge_gap"] = knowledge_gap_from_correct(forget.correct, retain.correct)
    if teachers is not None:
        metrics["zrf"] = zrf_from_log_probs(forget.log_probs, teachers, name="random_teacher_logits")
    attack = membership_attack_from_outputs(forget, retain, test, seed=seed)
    metrics["mia_efficacy"] = attack.efficacy
    metrics["mia_test_nonmember_rate"] = attack.test_nonmember_rate
    metrics["mia_loss_auc"] = loss_attack_auc_from_losses(retain.loss, test.loss)
    metrics["mia_forget_loss_auc"] = loss_attack_auc_from_losses(forget.loss, test.loss)
    if original_test_accuracy is not None:
        metrics["mubench_score"] = mubench_score(
            test_accuracy=metrics["test_accuracy"],
            forget_accuracy=metrics["forget_accuracy"],
            original_test_accuracy=original_test_accuracy,
            num_labels=num_labels,
            max_test_drop=max_test_drop,
            chance_floor=chance_floor,
        )
    return metrics


def _check_split_names(names: Mapping[str, object], argument: str, *, required: tuple[str, ...]) -> None:
    known = (*REQUIRED_SPLITS, *OPTIONAL_SPLITS)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"{argument} has unknown split(s) {unknown}; known splits are {list(known)}")
    missing = [split for split in required if split not in names]
    if missing:
        raise ValueError(f"{argument} lacks the split(s) {missing}; required splits are {list(required)}")


def _validated_outputs(
    logits: Mapping[str, ArrayLike], labels: Mapping[str, ArrayLike], num_labels: int | None
) -> dict[str, SplitOutputs]:
    _check_split_names(logits, "logits", required=REQUIRED_SPLITS)
    missing_labels = [split for split in logits if split not in labels]
    if missing_labels:
        raise ValueError(f"labels lacks the split(s) {missing_labels} that logits has")
    extra_labels = sorted(set(labels) - set(logits))
    if extra_labels:
        raise ValueError(f"labels has split(s) {extra_labels} that logits lacks")
    forget_logits = as_logits(logits["forget"], "logits['forget']")
    k = check_num_labels(num_labels, forget_logits, "logits['forget']")
    outputs: dict[str, SplitOutputs] = {}
    for split in (*REQUIRED_SPLITS, *OPTIONAL_SPLITS):
        if split not in logits:
            continue
        name = f"logits[{split!r}]"
        split_logits = forget_logits if split == "forget" else as_logits(logits[split], name)
        check_same_width(split_logits, name, forget_logits, "logits['forget']")
        outputs[split] = split_outputs(
            split_logits, labels[split], name=name, labels_name=f"labels[{split!r}]", num_labels=k
        )
    return outputs


def _retrain_outputs(
    retrain_logits: Mapping[str, ArrayLike], outputs: dict[str, SplitOutputs]
) -> dict[str, SplitOutputs]:
    _check_split_names(retrain_logits, "retrain_logits", required=REQUIRED_SPLITS)
    without_unlearned = sorted(set(retrain_logits) - set(outputs))
    if without_unlearned:
        raise ValueError(
            f"retrain_logits has split(s) {without_unlearned} that the unlearned model's logits lack; "
            "give both models the same splits"
        )
    retrain: dict[str, SplitOutputs] = {}
    for split, split_logits in retrain_logits.items():
        name = f"retrain_logits[{split!r}]"
        array = as_logits(split_logits, name)
        check_reference_shape(array, name, outputs[split].log_probs.shape, split)
        # Same samples, so the same (already validated) labels.
        retrain[split] = SplitOutputs.from_arrays(array, outputs[split].labels)
    return retrain
