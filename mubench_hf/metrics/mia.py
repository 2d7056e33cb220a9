"""Membership-inference attacks (MIA) on the unlearned model.

Two attacks, both black-box on the model's outputs:

1. **MIA efficacy** (Jia et al. 2023, "Model Sparsity Can Simplify Machine Unlearning", the metric
   SalUn also reports): an attacker learns to tell members from non-members on data whose status is
   known — the retain set Dr (members, label 1) against the test set Dt (non-members, label 0) — and
   is then applied to the forget set Df. MIA efficacy is the share of Df the attacker calls
   *non-member*: higher = Df looks more like data the model never saw.

   Choices made here (documented because papers differ):

   * features per sample: the probability of the true class and the normalised entropy of the
     prediction (:class:`~mubench_hf.metrics.outputs.SplitOutputs`), both bounded in [0, 1], so no
     feature has heavy tails;
   * attacker: ``StandardScaler`` + ``sklearn.linear_model.LogisticRegression`` (a monotone,
     low-capacity model: it cannot memorise individual samples, so its verdict reflects the model's
     confidence pattern rather than the attacker's own over-fitting);
   * the larger of Dr / Dt is subsampled without replacement to the size of the smaller one with
     ``np.random.default_rng(seed)``, so the attacker's prior is 50/50.

   Reference point: a Df that looks exactly like unseen data gets the efficacy the attacker gives the
   test set itself (:attr:`MembershipAttackResult.test_nonmember_rate`), not necessarily 1.

2. **Loss-threshold attack** (Yeom et al. 2018, "Privacy Risk in Machine Learning: Analyzing the
   Connection to Overfitting"): a sample is called a member when its loss is low. Its strength over
   all thresholds is the ROC-AUC of the score ``-loss`` with members as the positive class: 0.5 = no
   leakage, 1 = members perfectly separable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mubench_hf.metrics._validate import check_same_width
from mubench_hf.metrics.outputs import SplitOutputs, split_outputs

MEMBERSHIP_FEATURES: tuple[str, ...] = ("true_class_probability", "normalised_entropy")


@dataclass(frozen=True)
class MembershipAttackResult:
    """Outcome of the MIA-efficacy attack.

    Attributes:
        efficacy: share of Df predicted non-member (the reported MIA efficacy).
        test_nonmember_rate: share of Dt predicted non-member, i.e. the efficacy a forget set that
            looks like unseen data would get.
        retain_member_rate: share of Dr predicted member (how well the attacker recognises members).
        samples_per_class: number of member and of non-member samples the attacker was trained on.
    """

    efficacy: float
    test_nonmember_rate: float
    retain_member_rate: float
    samples_per_class: int


def membership_features(outputs: SplitOutputs) -> np.ndarray:
    """The attacker's input, shape (samples, 2): see :data:`MEMBERSHIP_FEATURES`."""
    return np.column_stack([outputs.true_class_probability, outputs.normalised_entropy])


def membership_attack_from_outputs(
    forget: SplitOutputs, retain: SplitOutputs, test: SplitOutputs, *, seed: int = 0
) -> MembershipAttackResult:
    """Train the attacker on Dr (members) vs Dt (non-members), apply it to Df. Inputs already validated."""
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
        retain_member_rate=float((attacker.predict(membership_features(retain)) == 1).mean()),
        samples_per_class=per_class,
    )


def membership_attack(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
    test_logits: ArrayLike,
    test_labels: ArrayLike,
    *,
    seed: int = 0,
) -> MembershipAttackResult:
    """Run the MIA-efficacy attack and return the efficacy with the attacker's reference rates."""
    forget = split_outputs(forget_logits, forget_labels, name="forget_logits", labels_name="forget_labels")
    retain = split_outputs(retain_logits, retain_labels, name="retain_logits", labels_name="retain_labels")
    test = split_outputs(test_logits, test_labels, name="test_logits", labels_name="test_labels")
    check_same_width(retain.log_probs, "retain_logits", forget.log_probs, "forget_logits")
    check_same_width(test.log_probs, "test_logits", forget.log_probs, "forget_logits")
    return membership_attack_from_outputs(forget, retain, test, seed=seed)


def mia_efficacy(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
    test_logits: ArrayLike,
    test_labels: ArrayLike,
    *,
    seed: int = 0,
) -> float:
    """Share of Df that an attacker trained on Dr (members) vs Dt (non-members) calls non-member.

    Returns:
        A rate in [0, 1]; higher = Df looks more like unseen data. Compare it with the retrained
        model's value (the gap-to-retrain metric does) rather than with 1.
    """
    return membership_attack(
        forget_logits, forget_labels, retain_logits, retain_labels, test_logits, test_labels, seed=seed
    ).efficacy


def loss_attack_auc_from_losses(member_losses: ArrayLike, nonmember_losses: ArrayLike) -> float:
    """ROC-AUC of ``-loss`` with members as the positive class (Yeom et al. 2018); 0.5 = no leakage."""
    members = np.asarray(member_losses, dtype=np.float64).ravel()
    nonmembers = np.asarray(nonmember_losses, dtype=np.float64).ravel()
    if members.size == 0 or nonmembers.size == 0:
        raise ValueError("member_losses and nonmember_losses must both be non-empty")
    membership = np.concatenate([np.ones(members.size), np.zeros(nonmembers.size)])
    return float(roc_auc_score(membership, -np.concatenate([members, nonmembers])))


def loss_attack_auc(
    member_logits: ArrayLike,
    member_labels: ArrayLike,
    nonmember_logits: ArrayLike,
    nonmember_labels: ArrayLike,
) -> float:
    """Loss-threshold attack AUC between a member split (e.g. Dr or Df) and a non-member split (Dt).

    Returns:
        AUC in [0, 1]; 0.5 = the loss does not reveal membership, > 0.5 = members have lower loss.
    """
    members = split_outputs(member_logits, member_labels, name="member_logits", labels_name="member_labels")
    nonmembers = split_outputs(
        nonmember_logits, nonmember_labels, name="nonmember_logits", labels_name="nonmember_labels"
    )
    check_same_width(nonmembers.log_probs, "nonmember_logits", members.log_probs, "member_logits")
    return loss_attack_auc_from_losses(members.loss, nonmembers.loss)


def _subsample(rng: np.random.Generator, size: int, keep: int) -> np.ndarray:
    if keep >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=keep, replace=False))
