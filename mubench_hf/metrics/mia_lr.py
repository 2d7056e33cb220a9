"""This package's own MIA attack (``mia_efficacy_lr``): logistic regression on two bounded features.

Kept under an explicit name beside SalUn's published definition (:mod:`mubench_hf.metrics.mia`),
because its numbers are not comparable with published MIA-efficacy tables:

* features per sample: the probability of the true class and the normalised entropy of the
  prediction (:class:`~mubench_hf.metrics.outputs.SplitOutputs`), both in [0, 1];
* attacker: ``StandardScaler`` + ``sklearn.linear_model.LogisticRegression`` (monotone and
  low-capacity: its verdict reflects the model's confidence pattern, not the attacker memorising
  individual samples);
* the larger of Dr / Dt is subsampled without replacement to the size of the smaller one with
  ``np.random.default_rng(seed)``, so the attacker's prior is 50/50.

The value is the share of Df the attacker calls non-member, as in SalUn's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mubench_hf.metrics.mia import MembershipAttackResult, attack_splits
from mubench_hf.metrics.outputs import SplitOutputs

MEMBERSHIP_FEATURES: tuple[str, ...] = ("true_class_probability", "normalised_entropy")


def membership_features(outputs: SplitOutputs) -> np.ndarray:
    """The logistic attacker's input, shape (samples, 2): see :data:`MEMBERSHIP_FEATURES`."""
    return np.column_stack([outputs.true_class_probability, outputs.normalised_entropy])


def membership_attack_lr_from_outputs(
    forget: SplitOutputs, retain: SplitOutputs, test: SplitOutputs, *, seed: int = 0
) -> MembershipAttackResult:
    """Train the logistic attacker on balanced Dr (members) vs Dt (non-members), apply it to Df."""
    rng = np.random.default_rng(seed)
    per_class = min(retain.num_samples, test.num_samples)
    members = membership_features(retain)[_subsample(rng, retain.num_samples, per_class)]
    nonmembers = membership_features(test)[_subsample(rng, test.num_samples, per_class)]
    attacker = make_pipeline(StandardScaler(), LogisticRegression(random_state=seed))
    attacker.fit(
        np.concatenate([members, nonmembers]),
        np.concatenate([np.ones(per_class, dtype=np.int64), np.zeros(per_class, dtype=np.int64)]),
    )
    return MembershipAttackResult(
        efficacy=float((attacker.predict(membership_features(forget)) == 0).mean()),
        test_nonmember_rate=float((attacker.predict(membership_features(test)) == 0).mean()),
        member_samples=per_class,
        nonmember_samples=per_class,
        forget_samples=forget.num_samples,
    )


def membership_attack_lr(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
    test_logits: ArrayLike,
    test_labels: ArrayLike,
    *,
    seed: int = 0,
) -> MembershipAttackResult:
    """Run the logistic attack; ``seed`` drives the class-balancing subsample."""
    splits = attack_splits(
        forget_logits, forget_labels, retain_logits, retain_labels, test_logits, test_labels
    )
    return membership_attack_lr_from_outputs(*splits, seed=seed)


def mia_efficacy_lr(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
    test_logits: ArrayLike,
    test_labels: ArrayLike,
    *,
    seed: int = 0,
) -> float:
    """Share of Df that the logistic attacker (balanced Dr vs Dt) calls non-member; in [0, 1]."""
    return membership_attack_lr(
        forget_logits, forget_labels, retain_logits, retain_labels, test_logits, test_labels, seed=seed
    ).efficacy


def _subsample(rng: np.random.Generator, size: int, keep: int) -> np.ndarray:
    if keep >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=keep, replace=False))
