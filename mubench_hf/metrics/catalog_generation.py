"""The declarations of the generation report's metrics (``generation_report``): one ``_metric`` call each.

TOFU's axes come first (forget quality, model utility), then ROUGE-L, the truth ratio and PrivLeak: the
headline columns the leaderboards add after the classification ones. ``mia_loss_auc`` and
``forget_quality`` share their names with classification metrics but not their inputs, so they are
declared again here for this kind.
"""

from __future__ import annotations

from .declarations import MetricSpec, declare

KIND = "generation"
TOFU = "TOFU (Maini et al., arXiv:2401.06121)"
OPEN_UNLEARNING = "open-unlearning (Dorna et al., arXiv:2506.12618)"
ROUGE = f"{TOFU}: ROUGE-L recall of greedy generations, as {OPEN_UNLEARNING}"
PROB = f"{TOFU}: probability of the answer given the question"
TRUTH = f"{TOFU}: truth ratio of perturbed vs paraphrased answers"
SEQUENCE_MIA = f"{OPEN_UNLEARNING}'s sequence membership attacks, forget vs holdout"
UTILITY_SPLITS = ("retain", "real_authors", "world_facts")


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
_metric("forget_quality", "forget", "Forget quality", True,
        f"{TOFU}: KS-test p-value of forget truth ratios vs the retrained model's",
        reads=("forget",), module="tofu_forget_quality", column="forget quality ↑")  # fmt: skip
_metric("model_utility", None, "Model utility", True,
        f"{TOFU}: harmonic mean of answer probability, ROUGE-L and truth ratio on retain, real authors, world facts",
        reads=UTILITY_SPLITS, module="model_utility", column="model utility ↑")  # fmt: skip
# Forget ROUGE-L and the forget truth ratio should come to the retrained model's, not to 0.
_metric(
    "forget_rouge_l",
    "forget",
    "Forget ROUGE-L recall",
    None,
    ROUGE,
    module="rouge_l",
    column="forget ROUGE-L",
)
_metric("retain_rouge_l", "retain", "Retain ROUGE-L recall", True, ROUGE, module="rouge_l",
        column="retain ROUGE-L")  # fmt: skip
_metric(
    "truth_ratio", "forget", "Truth ratio (forget)", None, TRUTH, module="truth_ratio", column="truth ratio"
)
_metric("privleak", "forget", "PrivLeak (%, relative to retrain)", None,
        "MUSE (Shi et al., arXiv:2407.06460): min-k % AUC relative to the retrained model's, in %",
        reads=("forget", "test"), module="privleak", column="PrivLeak")  # fmt: skip

# ------------------------------------------------------------------ the rest of the report
for _split, _name in (("real_authors", "Real-authors"), ("world_facts", "World-facts"), ("test", "Test"),
                      ("validation", "Validation")):  # fmt: skip
    _metric(f"{_split}_rouge_l", _split, f"{_name} ROUGE-L recall", True, ROUGE, module="rouge_l")
_metric("forget_answer_prob", "forget", "Forget answer probability", None, PROB, module="answer_prob")
_metric("retain_answer_prob", "retain", "Retain answer probability", True, PROB, module="answer_prob")
_metric("real_authors_answer_prob", "real_authors", "Real-authors answer probability (normalised)", True,
        PROB, module="answer_prob")  # fmt: skip
_metric("world_facts_answer_prob", "world_facts", "World-facts answer probability (normalised)", True,
        PROB, module="answer_prob")  # fmt: skip
_metric(
    "validation_answer_prob", "validation", "Validation answer probability", True, PROB, module="answer_prob"
)
_metric("retain_truth_ratio", "retain", "Retain truth ratio", True, TRUTH, module="truth_ratio")
_metric("validation_truth_ratio", "validation", "Validation truth ratio", True, TRUTH, module="truth_ratio")
_metric(
    "real_authors_truth_ratio", "real_authors", "Real-authors truth ratio", True, TRUTH, module="truth_ratio"
)
_metric(
    "world_facts_truth_ratio", "world_facts", "World-facts truth ratio", True, TRUTH, module="truth_ratio"
)
_metric("mia_loss_auc", "forget", "LOSS-attack AUC, forget vs holdout", None, SEQUENCE_MIA,
        reads=("forget", "test"), module="mia_loss_auc")  # fmt: skip
_metric("mia_zlib_auc", "forget", "zlib-attack AUC, forget vs holdout", None, SEQUENCE_MIA,
        reads=("forget", "test"), module="mia_zlib_auc")  # fmt: skip
_metric("mia_min_k_auc", "forget", "Min-k % attack AUC, forget vs holdout", None, SEQUENCE_MIA,
        reads=("forget", "test"), module="mia_min_k_auc")  # fmt: skip
_metric("mia_min_k_plus_plus_auc", "forget", "Min-k %++ attack AUC, forget vs holdout", None, SEQUENCE_MIA,
        reads=("forget", "test"), module="mia_min_k_plus_plus_auc")  # fmt: skip
_metric("extraction_strength", "forget", "Extraction strength", None,
        f"{OPEN_UNLEARNING}'s extraction_strength: longest answer suffix predicted exactly, after Carlini et al. 2021",
        module="extraction_strength")  # fmt: skip
_metric("extraction_strength_open_unlearning", "forget", "Extraction strength (open-unlearning's loop)", None,
        f"{OPEN_UNLEARNING}'s extraction_strength exactly: its loop never tests the empty suffix, so a row whose "
        "last answer token is wrong scores 1/|y| there (0 in extraction_strength, which follows the definition)",
        module="extraction_strength")  # fmt: skip
_metric("exact_memorization", "forget", "Exact memorization", None,
        f"{OPEN_UNLEARNING}'s exact_memorization: share of answer tokens the teacher-forced argmax predicts",
        module="exact_memorization")  # fmt: skip
_metric("truncated_prompts", None, "Prompts cut to fit the context", None,
        "a diagnostic of this package: rows whose prompt lost its beginning to the context length")  # fmt: skip

# ------------------------------------------------------------------ sequential requests (mubench run --requests)
SEQUENTIAL = (
    "this package's request chains: the forget set Df_≤i split by request (mubench_hf.sweeps.step_cell)"
)
_metric(
    "new_forget_rouge_l", "forget", "Forget ROUGE-L on the latest request's rows (Df_i)", None, SEQUENTIAL
)
_metric("earlier_forget_rouge_l", "forget", "Forget ROUGE-L on the earlier requests' rows (Df_<i)", None,
        SEQUENTIAL)  # fmt: skip
