"""evaluate module ``mia_min_k_plus_plus_auc``: the Min-k %++ attack's AUC, forget vs holdout (open-unlearning)."""

import evaluate

from mubench_hf.metrics.generative import DEFAULT_K, mia_auc, min_k_plus_plus_scores
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    require,
    token_features,
)

_DESCRIPTION = """\
The Min-k %++ membership attack (Zhang et al. 2025) as open-unlearning computes it: each answer token's
log-probability is standardised by the mean mu and variance sigma2 of log p under the model's next-token
distribution at that step, (log p(y_t) - mu_t) / sqrt(max(sigma2_t, 1e-6)); a sample's score is minus the
mean of its k-fraction lowest standardised values (k = 0.4); the value is roc_auc_score with forget = 0
and holdout = 1. 1 = the forget answers look memorised, 0.5 = indistinguishable.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): each forget sample's answer-token log-probabilities.
    token_means, token_variances (`list` of `list` of `float`, required): mu_t = sum_v p(v) log p(v) and
        sigma2_t = sum_v p(v) log p(v)^2 - mu_t^2 at each of those tokens.
    holdout_token_log_probs, holdout_token_means, holdout_token_variances (required): the same for the
        holdout samples.
    k (`float`): the share of lowest tokens averaged, in (0, 1] (default 0.4).
Returns:
    mia_min_k_plus_plus_auc (`float`): in [0, 1].
"""

_CITATION = (
    MUBENCH_BIBTEX
    + OPEN_UNLEARNING_BIBTEX
    + """\
@inproceedings{zhang2025mink,
  title={Min-K\\%++: Improved Baseline for Detecting Pre-Training Data from Large Language Models},
  author={Zhang, Jingyang and Sun, Jingwei and Yeats, Eric and Ouyang, Yang and Kuo, Martin and Zhang, Jianyi and Yang, Hao Frank and Li, Hai},
  booktitle={International Conference on Learning Representations},
  year={2025}
}
"""
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MiaMinKPlusPlusAuc(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=token_features(),
            reference_urls=[
                "https://github.com/locuslab/open-unlearning",
                "https://arxiv.org/abs/2404.02936",
            ],
        )

    def _compute(
        self,
        predictions,
        token_means=None,
        token_variances=None,
        holdout_token_log_probs=None,
        holdout_token_means=None,
        holdout_token_variances=None,
        k=DEFAULT_K,
    ):
        require(
            "mia_min_k_plus_plus_auc",
            ": the vocabulary means and variances at each token, for the forget and the holdout samples",
            token_means=token_means,
            token_variances=token_variances,
            holdout_token_log_probs=holdout_token_log_probs,
            holdout_token_means=holdout_token_means,
            holdout_token_variances=holdout_token_variances,
        )
        forget = min_k_plus_plus_scores(predictions, token_means, token_variances, k=k)
        holdout = min_k_plus_plus_scores(
            holdout_token_log_probs, holdout_token_means, holdout_token_variances, k=k
        )
        return {"mia_min_k_plus_plus_auc": mia_auc(forget, holdout)}
