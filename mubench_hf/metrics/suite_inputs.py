"""Input checks of the suite: split names, labels and the retrained model's logits, validated once.

Every split of a model is scored by the same classifier head, and the retrained model's splits must
hold the same samples as the unlearned model's; the messages name the split and the argument.
"""

from __future__ import annotations

from collections.abc import Mapping

from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError
from mubench_hf.metrics._validate import as_logits, check_num_labels, check_reference_shape, check_same_width
from mubench_hf.metrics.outputs import SplitOutputs, split_outputs

REQUIRED_SPLITS: tuple[str, ...] = ("forget", "retain", "test")
OPTIONAL_SPLITS: tuple[str, ...] = ("validation", "ood")


def check_split_names(names: Mapping[str, object], argument: str, *, required: tuple[str, ...]) -> None:
    """Only known split names, and every required one."""
    known = (*REQUIRED_SPLITS, *OPTIONAL_SPLITS)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise MubenchError(f"{argument} has unknown split(s) {unknown}; known splits are {list(known)}")
    missing = [split for split in required if split not in names]
    if missing:
        raise MubenchError(f"{argument} lacks the split(s) {missing}; required splits are {list(required)}")


def validated_outputs(
    logits: Mapping[str, ArrayLike], labels: Mapping[str, ArrayLike], num_labels: int | None
) -> dict[str, SplitOutputs]:
    """The unlearned model's split outputs, every split checked against the forget split's head."""
    check_split_names(logits, "logits", required=REQUIRED_SPLITS)
    missing_labels = [split for split in logits if split not in labels]
    if missing_labels:
        raise MubenchError(f"labels lacks the split(s) {missing_labels} that logits has")
    extra_labels = sorted(set(labels) - set(logits))
    if extra_labels:
        raise MubenchError(f"labels has split(s) {extra_labels} that logits lacks")
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


def retrain_outputs(
    retrain_logits: Mapping[str, ArrayLike], outputs: dict[str, SplitOutputs]
) -> dict[str, SplitOutputs]:
    """The retrained model's split outputs on the unlearned model's samples (and labels)."""
    check_split_names(retrain_logits, "retrain_logits", required=REQUIRED_SPLITS)
    without_unlearned = sorted(set(retrain_logits) - set(outputs))
    if without_unlearned:
        raise MubenchError(
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
