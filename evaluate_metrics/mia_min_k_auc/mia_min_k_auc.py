"""evaluate module ``mia_min_k_auc``: the Min-k % Prob attack's AUC, forget vs holdout (open-unlearning)."""

import evaluate

from mubench_hf.metrics.generative import DEFAULT_K, mia_auc, min_k_scores
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    require,
    token_features,
)

_DESCRIPTION = """\
The Min-k % Prob membership attack (Shi et al. 2024) as open-unlearning computes it: each sample's score is
minus the mean of its k-fraction lowest answer-token log-probabilities (at least one token; k = 0.4 as in
open-unlearning's TOFU and MUSE configurations); the value is roc_auc_score with forget = 0 and holdout = 1.
1 = the forget answers look memorised, 0.5 = indistinguishable from unseen ones.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): each forget sample's answer-token log-probabilities
        (open-unlearning leaves out the final end-of-sequence token).
    holdout_token_log_probs (`list` of `list` of `float`, required): the same for the holdout samples.
    k (`float`): the share of lowest tokens averaged, in (0, 1] (default 0.4).
Returns:
    mia_min_k_auc (`float`): in [0, 1].
"""

_CITATION = (
    MUBENCH_BIBTEX
    + OPEN_UNLEARNING_BIBTEX
    + """\
@inproceedings{shi2024detecting,
  title={Detecting Pretraining Data from Large Language Models},
  author={Shi, Weijia and Ajith, Anirudh and Xia, Mengzhou and Huang, Yangsibo and Liu, Daogao and Blevins, Terra and Chen, Danqi and Zettlemoyer, Luke},
  booktitle={International Conference on Learning Representations},
  year={2024}
}
"""
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MiaMinKAuc(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=token_features(),
            reference_urls=[
                "https://github.com/locuslab/open-unlearning",
                "https://arxiv.org/abs/2310.16789",
            ],
        )

    def _compute(self, predictions, holdout_token_log_probs=None, k=DEFAULT_K):
        require(
            "mia_min_k_auc",
            ": the holdout (non-member) samples",
            holdout_token_log_probs=holdout_token_log_probs,
        )
        return {
            "mia_min_k_auc": mia_auc(
                min_k_scores(predictions, k=k), min_k_scores(holdout_token_log_probs, k=k)
            )
        }
