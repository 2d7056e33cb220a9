"""MIA efficacy exactly as SalUn and "Model Sparsity Can Simplify Machine Unlearning" compute it.

Source of the definition: Jia et al. 2023 ("Model Sparsity Can Simplify Machine Unlearning", code
``OPTML-Group/Unlearn-Sparse``, ``evaluation/SVC_MIA.py``) and Fan et al. 2024 (SalUn, code
``OPTML-Group/Unlearn-Saliency``), whose tables report the ``"confidence"`` entry of ``SVC_MIA``
called with ``shadow_train`` = the first ``len(Dt)`` samples of Dr, ``shadow_test`` = Dt,
``target_train=None`` and ``target_test`` = Df:

* feature per sample: the softmax probability of the true class (one column, not scaled);
* attacker: ``sklearn.svm.SVC(C=3, gamma="auto", kernel="rbf")`` trained with members (the Dr rows,
  label 1) against non-members (all of Dt, label 0);
* MIA efficacy = ``1 - mean(prediction on Df)``: the share of Df the attacker calls non-member.

Higher = Df looks more like data the model never saw. When Dr has fewer rows than Dt (SalUn's
``Subset`` would fail there) all of Dr is used. The attacker is deterministic (no seed).

``test_nonmember_rate`` (the share of Dt itself called non-member, in-sample) is reported next to it:
a Df that looks exactly like unseen data gets about that value, not necessarily 1. The earlier
logistic-regression attack of this package lives in :mod:`mubench_hf.metrics.mia_lr`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.svm import SVC

from mubench_hf.metrics._validate import check_same_width
from mubench_hf.metrics.outputs import SplitOutputs, split_outputs

# SalUn / Unlearn-Sparse's attacker settings (evaluation/SVC_MIA.py, SVC_fit_predict).
SALUN_SVC_PARAMS: dict[str, object] = {"C": 3, "gamma": "auto", "kernel": "rbf"}


@dataclass(frozen=True)
class MembershipAttackResult:
    """Outcome of a membership-inference attack applied to the forget set.

    Attributes:
        efficacy: share of Df predicted non-member (the reported MIA efficacy).
        test_nonmember_rate: share of Dt predicted non-member: what a Df that looks like unseen data gets.
        member_samples, nonmember_samples: how many members (Dr rows) and non-members (Dt rows) the
            attacker was trained on.
        forget_samples: the size of Df, the denominator of ``efficacy`` (its bootstrap needs it).
    """

    efficacy: float
    test_nonmember_rate: float
    member_samples: int
    nonmember_samples: int
    forget_samples: int


def salun_attacker(retain: SplitOutputs, test: SplitOutputs) -> SVC:
    """SalUn's fitted attacker: SVC on true-class confidence, first ``len(Dt)`` rows of Dr vs all of Dt."""
    members = retain.true_class_probability[: test.num_samples]
    nonmembers = test.true_class_probability
    features = np.concatenate([members, nonmembers]).reshape(-1, 1)
    targets = np.concatenate([np.ones(members.size), np.zeros(nonmembers.size)])
    return SVC(**SALUN_SVC_PARAMS).fit(features, targets)


# Queries per block of the vectorised decision function: block × support vectors float64 stays ~100 MB.
_BLOCK = 512
# A verdict whose decision value lies this close to 0 (relative to the sum of |coefficients|) is left to
# libsvm itself: the two sums add the same terms in another order, so only there could they disagree.
_TIE_TOLERANCE = 1e-9


def predict_members(attacker: SVC, confidence: np.ndarray) -> np.ndarray:
    """The attacker's 0/1 verdicts, equal to ``attacker.predict`` (tested), about 10x faster.

    libsvm scores each query against every support vector one at a time; with one feature the RBF
    decision function ``sum_j c_j exp(-gamma (x - s_j)^2) + b`` vectorises over blocks of queries in
    NumPy. Each distinct confidence is scored once (saturated models repeat p = 1.0), and any query whose
    decision value is within rounding of 0 is sent to libsvm, so the verdicts are libsvm's."""
    unique, inverse = np.unique(np.asarray(confidence, dtype=np.float64).ravel(), return_inverse=True)
    support = attacker.support_vectors_[:, 0]
    coefficients = attacker.dual_coef_[0]
    intercept = float(attacker.intercept_[0])
    gamma = float(attacker._gamma)
    decision = np.empty(unique.size)
    for start in range(0, unique.size, _BLOCK):
        block = unique[start : start + _BLOCK, None]
        decision[start : start + _BLOCK] = np.exp(-gamma * (block - support) ** 2) @ coefficients + intercept
    # sklearn's binary convention: decision > 0 is classes_[1]
    verdicts = np.where(decision > 0, attacker.classes_[1], attacker.classes_[0])
    close = np.abs(decision) <= _TIE_TOLERANCE * (np.abs(coefficients).sum() + abs(intercept))
    if close.any():
        verdicts[close] = attacker.predict(unique[close].reshape(-1, 1))
    return verdicts[inverse.ravel()]


# The retrain reference is attacked in every cell of a sweep with the same outputs: its fitted attack
# is kept (keyed by the bytes of its confidences), so each reference pays for the SVC fit once.
_ATTACK_CACHE: OrderedDict[str, MembershipAttackResult] = OrderedDict()
_ATTACK_CACHE_SIZE = 8


def _attack_key(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        data = np.ascontiguousarray(array, dtype=np.float64)
        digest.update(str(data.shape).encode())
        digest.update(data.tobytes())
    return digest.hexdigest()


def membership_attack_from_outputs(
    forget: SplitOutputs, retain: SplitOutputs, test: SplitOutputs
) -> MembershipAttackResult:
    """SalUn's attack on already validated split outputs (see the module docstring)."""
    key = _attack_key(
        forget.true_class_probability,
        retain.true_class_probability[: test.num_samples],
        test.true_class_probability,
    )
    cached = _ATTACK_CACHE.get(key)
    if cached is not None:
        _ATTACK_CACHE.move_to_end(key)
        return cached
    attacker = salun_attacker(retain, test)
    # Df and Dt are predicted in one call so the shared distinct values are scored once.
    both = np.concatenate([forget.true_class_probability, test.true_class_probability])
    verdicts = predict_members(attacker, both)
    result = MembershipAttackResult(
        efficacy=float(1.0 - verdicts[: forget.num_samples].mean()),
        test_nonmember_rate=float(1.0 - verdicts[forget.num_samples :].mean()),
        member_samples=min(retain.num_samples, test.num_samples),
        nonmember_samples=test.num_samples,
        forget_samples=forget.num_samples,
    )
    _ATTACK_CACHE[key] = result
    if len(_ATTACK_CACHE) > _ATTACK_CACHE_SIZE:
        _ATTACK_CACHE.popitem(last=False)
    return result


def attack_splits(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
    test_logits: ArrayLike,
    test_labels: ArrayLike,
) -> tuple[SplitOutputs, SplitOutputs, SplitOutputs]:
    """Validated Df, Dr, Dt outputs from one classifier head (shared by every attack's entry point)."""
    forget = split_outputs(forget_logits, forget_labels, name="forget_logits", labels_name="forget_labels")
    retain = split_outputs(retain_logits, retain_labels, name="retain_logits", labels_name="retain_labels")
    test = split_outputs(test_logits, test_labels, name="test_logits", labels_name="test_labels")
    check_same_width(retain.log_probs, "retain_logits", forget.log_probs, "forget_logits")
    check_same_width(test.log_probs, "test_logits", forget.log_probs, "forget_logits")
    return forget, retain, test


def membership_attack(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
    test_logits: ArrayLike,
    test_labels: ArrayLike,
) -> MembershipAttackResult:
    """Run SalUn's MIA-efficacy attack; returns the efficacy with the attacker's rate on Dt.

    Args:
        forget_logits, forget_labels: the model's logits (samples, classes) and the labels on Df.
        retain_logits, retain_labels: the same on Dr; its first ``len(Dt)`` rows are the members.
        test_logits, test_labels: the same on Dt, the non-members.
    """
    splits = attack_splits(
        forget_logits, forget_labels, retain_logits, retain_labels, test_logits, test_labels
    )
    return membership_attack_from_outputs(*splits)


def mia_efficacy(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
    test_logits: ArrayLike,
    test_labels: ArrayLike,
) -> float:
    """SalUn's MIA efficacy: the share of Df that the SVC attacker (Dr members vs Dt) calls non-member.

    Returns:
        A rate in [0, 1]; higher = Df looks more like unseen data. Compare it with the retrained
        model's value (the gap to retrain does) rather than with 1.
    """
    return membership_attack(
        forget_logits, forget_labels, retain_logits, retain_labels, test_logits, test_labels
    ).efficacy
