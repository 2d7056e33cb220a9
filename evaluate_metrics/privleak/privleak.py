"""evaluate module ``privleak``: MUSE's PrivLeak, the min-k % AUC relative to the retrain model's."""

import evaluate

from mubench_hf.metrics.generative import DEFAULT_K, mia_auc, min_k_scores, privleak
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    MUSE_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    require,
    token_features,
)

_DESCRIPTION = """\
MUSE's PrivLeak (Shi et al. 2025) as open-unlearning computes it: the Min-k % Prob membership AUC (k = 0.4,
forget vs holdout) of the unlearned model, auc, and of the retrain model, retrain_auc, in MUSE's orientation
(1 - AUC), compared relatively: ((1 - auc) - (1 - retrain_auc)) / (1 - retrain_auc) * 100, in percent.
0 = leaks as much membership as the retrain model; large negative = the forget set still looks like
training data (under-unlearning); large positive = over-unlearning.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the unlearned model's answer-token log-probabilities on
        each forget sample.
    holdout_token_log_probs (required): the unlearned model's on each holdout sample.
    retrain_token_log_probs, retrain_holdout_token_log_probs (required): the retrain model's on the same
        forget and holdout samples.
    k (`float`): the min-k % share (default 0.4).
Returns:
    privleak (`float`): in percent, in [-100, +inf) (bounded by 100 * retrain_auc / (1 - retrain_auc) above).
    mia_min_k_auc, retrain_mia_min_k_auc (`float`): the two AUCs, in [0, 1].
"""

_CITATION = MUBENCH_BIBTEX + MUSE_BIBTEX + OPEN_UNLEARNING_BIBTEX


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Privleak(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=token_features(),
            reference_urls=[
                "https://arxiv.org/abs/2407.06460",
                "https://github.com/locuslab/open-unlearning",
            ],
        )

    def _compute(
        self,
        predictions,
        holdout_token_log_probs=None,
        retrain_token_log_probs=None,
        retrain_holdout_token_log_probs=None,
        k=DEFAULT_K,
    ):
        require(
            "privleak",
            ": the holdout samples and the retrain model's forget and holdout token log-probabilities",
            holdout_token_log_probs=holdout_token_log_probs,
            retrain_token_log_probs=retrain_token_log_probs,
            retrain_holdout_token_log_probs=retrain_holdout_token_log_probs,
        )
        auc = mia_auc(min_k_scores(predictions, k=k), min_k_scores(holdout_token_log_probs, k=k))
        retrain_auc = mia_auc(
            min_k_scores(retrain_token_log_probs, k=k), min_k_scores(retrain_holdout_token_log_probs, k=k)
        )
        return {
            "privleak": privleak(auc, retrain_auc),
            "mia_min_k_auc": auc,
            "retrain_mia_min_k_auc": retrain_auc,
        }
