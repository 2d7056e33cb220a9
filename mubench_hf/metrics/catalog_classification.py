"""The declarations of the classification report's metrics (``compute_unlearning_metrics``, the report's
own keys, the relearn time and the shadow-model evidence): one ``_metric`` call each.

The first ones declared with a ``column`` are the leaderboards' headline columns, in this order (the
generation catalogue adds its own after them). Direction ``None`` marks values that unlearning should
bring to the retrained model's, not push up or down: forget accuracy, the membership attacks, ZRF.
"""

from __future__ import annotations

from .declarations import MetricSpec, declare

KIND = "classification"
MUBENCH = "MU-Bench (Cheng & Amiri, arXiv:2406.14796)"
SALUN = "SalUn (Fan et al., ICLR 2024, arXiv:2310.12508)"
SALUN_MIA = f"{SALUN}: SVC(C=3, gamma='auto') on true-class confidence, members = first |Dt| rows of Dr"
LOSS_ATTACK = "loss-threshold attack of Yeom et al. 2018 (CSF), as open-unlearning's LOSSAttack"
ULIRA = "U-LiRA of Hayes et al. 2024 (arXiv:2403.01218), from shadow models"
EPSILON = "NeurIPS'23 unlearning challenge score (Triantafillou et al., arXiv:2406.09073)"
RELEARN = "relearn time: fine-tuning steps on Df until the original forget accuracy is back (mubench_hf.evidence.relearn)"


def _metric(
    name: str,
    split: str | None,
    label: str,
    higher_is_better: bool | None,
    reference: str,
    *,
    reads: tuple[str, ...] = (),
    module: str | None = None,
    column: str | None = None,
) -> None:
    declare(
        MetricSpec(
            name=name, kind=KIND, split=split, label=label, higher_is_better=higher_is_better,
            reference=reference, reads=reads, module=module, column=column,
        )
    )  # fmt: skip


# ------------------------------------------------------------------ headline (leaderboard columns)
_metric("mubench_score", None, "MU-Bench score", True,
        f"{MUBENCH}: harmonic mean with Evaluator.compute's zeroing rules",
        reads=("test", "forget"), module="mubench_score", column="MU-Bench score ↑")  # fmt: skip
_metric("gap_to_retrain", None, "Gap to retrain", False, f"{SALUN}: the average gap",
        reads=("forget", "retain", "test"), module="gap_to_retrain", column="gap to retrain ↓")  # fmt: skip
_metric("forget_accuracy", "forget", "Forget accuracy", None, MUBENCH,
        module="split_accuracy", column="forget acc")  # fmt: skip
_metric("retain_accuracy", "retain", "Retain accuracy", True, MUBENCH,
        module="split_accuracy", column="retain acc")  # fmt: skip
_metric("test_accuracy", "test", "Test accuracy", True, MUBENCH, module="split_accuracy", column="test acc")
_metric("mia_efficacy", "forget", "MIA efficacy", None, SALUN_MIA,
        reads=("forget", "retain", "test"), module="mia", column="MIA efficacy")  # fmt: skip
_metric("knowledge_gap", "forget", "Knowledge gap", None,
        f"{MUBENCH}: mean AUC separating Df from a Dr sample by correctness (computed exactly)",
        reads=("forget", "retain"), module="knowledge_gap", column="knowledge gap")  # fmt: skip
_metric("zrf", "forget", "ZRF", None,
        "ZRF of Chundawat et al. 2023 (AAAI, arXiv:2205.08096): 1 - mean JS divergence to a random network",
        module="zrf", column="ZRF")  # fmt: skip
_metric("forget_quality", "forget", "Forget quality", True,
        "TOFU (Maini et al., arXiv:2401.06121): KS-test p-value of Df losses vs the retrained model's",
        reads=("forget",), module="forget_quality", column="forget quality ↑")  # fmt: skip

# ------------------------------------------------------------------ the rest of the report
_metric("validation_accuracy", "validation", "Validation accuracy", True, MUBENCH, module="split_accuracy")
_metric("ood_accuracy", "ood", "OOD accuracy", True, MUBENCH, module="split_accuracy")
_metric("mia_efficacy_lr", "forget", "MIA efficacy (logistic-regression attack)", None,
        "this package's logistic-regression attack (StandardScaler + LogisticRegression), a variant",
        reads=("forget", "retain", "test"), module="mia")  # fmt: skip
_metric("mia_test_nonmember_rate", "test", "Test samples the MIA judges non-member", None, SALUN_MIA,
        reads=("test", "retain"), module="mia")  # fmt: skip
_metric("mia_loss_auc", "retain", "Loss-attack AUC, retain vs test", None, LOSS_ATTACK,
        reads=("retain", "test"), module="mia_loss_auc")  # fmt: skip
_metric("mia_forget_loss_auc", "forget", "Loss-attack AUC, forget vs test", None, LOSS_ATTACK,
        reads=("forget", "test"), module="mia_loss_auc")  # fmt: skip
_metric("forget_quality_ks_statistic", "forget", "KS statistic of forget quality", False,
        "the Kolmogorov-Smirnov statistic behind TOFU's forget quality (Maini et al., arXiv:2401.06121)",
        module="forget_quality")  # fmt: skip
_metric(
    "unlearn_time_s", None, "Unlearning time (s)", False, "wall time of Trainer.train()", column="time (s)"
)
_metric("unlearn_time_fraction_of_retrain", None, "Unlearning time / retraining time", False,
        "wall time of Trainer.train() over the retrain model's train_runtime")  # fmt: skip

# ------------------------------------------------------------------ relearn time (opt-in)
# compared with the retrain model's count: more steps is not better beyond it
_metric("relearn_steps", "forget", "Relearn steps to the original forget accuracy (capped)", None, RELEARN)
_metric("relearn_reached", None,
        "Relearning reached the original forget accuracy (1 = yes, 0 = stopped at the cap)", None, RELEARN)  # fmt: skip
_metric("relearn_cap", None, "Relearn step cap", None, RELEARN)
_metric("relearn_target_accuracy", None, "Relearn target forget accuracy", None, RELEARN)
_metric("relearn_final_forget_accuracy", "forget", "Forget accuracy when relearning stopped", None, RELEARN)

# ------------------------------------------------------------------ shadow-model evidence (mubench ulira)
_metric("ulira_accuracy", "forget", "U-LiRA accuracy, unlearned vs retrained (0.5 = indistinguishable)",
        False, ULIRA, module="ulira")  # fmt: skip
_metric("ulira_auc", "forget", "U-LiRA AUC, unlearned vs retrained", False, ULIRA, module="ulira")
_metric("ulira_worst_example_accuracy", "forget", "U-LiRA accuracy on the most exposed forget example",
        False, ULIRA, module="ulira")  # fmt: skip
_metric("epsilon_score", None, "NeurIPS'23 challenge score (forgetting quality x utility ratios)", True,
        EPSILON, module="epsilon_score")  # fmt: skip
_metric("epsilon_forgetting_quality", "forget", "NeurIPS'23 forgetting quality F", True, EPSILON,
        module="epsilon_score")  # fmt: skip
_metric("epsilon_retain_ratio", None, "Retain accuracy, unlearned / retrained (NeurIPS'23)", True, EPSILON,
        module="epsilon_score")  # fmt: skip
_metric("epsilon_test_ratio", None, "Test accuracy, unlearned / retrained (NeurIPS'23)", True, EPSILON,
        module="epsilon_score")  # fmt: skip
_metric("epsilon_median", "forget", "Median per-example epsilon (NeurIPS'23)", False, EPSILON,
        module="epsilon_score")  # fmt: skip

# ------------------------------------------------------------------ sequential requests (mubench run --requests)
SEQUENTIAL = (
    "this package's request chains: the forget set Df_≤i split by request (mubench_hf.sweeps.step_cell)"
)
_metric(
    "new_forget_accuracy", "forget", "Forget accuracy on the latest request's rows (Df_i)", None, SEQUENTIAL
)
_metric("earlier_forget_accuracy", "forget", "Forget accuracy on the earlier requests' rows (Df_<i)", None,
        SEQUENTIAL)  # fmt: skip
