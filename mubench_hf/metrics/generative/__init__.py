"""Generative unlearning metrics (LLM QA, summarisation) as plain, vectorised NumPy functions.

One file per family: :mod:`.rouge` (ROUGE-L recall of generations), :mod:`.probability` (answer
probability, truth ratio), :mod:`.tofu` (forget quality, model utility), :mod:`.sequence_mia` (LOSS,
zlib, min-k %, min-k %++ attacks and their AUC), :mod:`.privleak` (MUSE), :mod:`.extraction`
(extraction strength). Definitions follow TOFU (``locuslab/tofu``), open-unlearning
(``locuslab/open-unlearning``) and MUSE; each module says which code it matches and where it differs.
:func:`mubench_hf.kinds.generation.report.generation_report` computes all of them from a model.
"""

from mubench_hf.metrics.generative.extraction import (
    exact_memorization,
    exact_memorizations,
    extraction_strength,
    extraction_strength_open_unlearning,
    extraction_strengths,
    extraction_strengths_open_unlearning,
)
from mubench_hf.metrics.generative.privleak import privleak
from mubench_hf.metrics.generative.probability import (
    TRUTH_RATIO_AGGREGATORS,
    aggregate_truth_ratio,
    answer_probabilities,
    answer_probability,
    normalised_answer_probability,
    truth_ratio,
    truth_ratios,
)
from mubench_hf.metrics.generative.rouge import rouge_l_recall, rouge_l_recalls
from mubench_hf.metrics.generative.sequence_mia import (
    DEFAULT_K,
    loss_scores,
    mia_auc,
    min_k_plus_plus_scores,
    min_k_scores,
    zlib_entropy,
    zlib_scores,
)
from mubench_hf.metrics.generative.tofu import (
    UTILITY_SPLITS,
    harmonic_mean,
    model_utility,
    truth_ratio_forget_quality,
    truth_ratio_forget_quality_test,
)

__all__ = [
    "DEFAULT_K",
    "TRUTH_RATIO_AGGREGATORS",
    "UTILITY_SPLITS",
    "aggregate_truth_ratio",
    "answer_probabilities",
    "answer_probability",
    "exact_memorization",
    "exact_memorizations",
    "extraction_strength",
    "extraction_strength_open_unlearning",
    "extraction_strengths",
    "extraction_strengths_open_unlearning",
    "harmonic_mean",
    "loss_scores",
    "mia_auc",
    "min_k_plus_plus_scores",
    "min_k_scores",
    "model_utility",
    "normalised_answer_probability",
    "privleak",
    "rouge_l_recall",
    "rouge_l_recalls",
    "truth_ratio",
    "truth_ratio_forget_quality",
    "truth_ratio_forget_quality_test",
    "truth_ratios",
    "zlib_entropy",
    "zlib_scores",
]
