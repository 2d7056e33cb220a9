"""Loss-threshold membership attack (Yeom et al. 2018, "Privacy Risk in Machine Learning: Analyzing
the Connection to Overfitting").

A sample is called a member when its loss is low. The attack's strength over all thresholds is the
ROC-AUC of the score ``-loss`` with members as the positive class: 0.5 = no leakage, 1 = members
perfectly separable.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from mubench_hf.errors import MubenchError
from mubench_hf.metrics._validate import check_same_width
from mubench_hf.metrics.outputs import split_outputs


def loss_attack_auc_from_losses(member_losses: ArrayLike, nonmember_losses: ArrayLike) -> float:
    """ROC-AUC of ``-loss`` with members as the positive class (Yeom et al. 2018); 0.5 = no leakage."""
    members = np.asarray(member_losses, dtype=np.float64).ravel()
    nonmembers = np.asarray(nonmember_losses, dtype=np.float64).ravel()
    if members.size == 0 or nonmembers.size == 0:
        raise MubenchError("member_losses and nonmember_losses must both be non-empty")
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
