"""evaluate module ``mia_loss_auc``: the LOSS membership attack's AUC, forget vs holdout (open-unlearning)."""

import evaluate

from mubench_hf.metrics.generative import loss_scores, mia_auc
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    require,
    token_features,
)

_DESCRIPTION = """\
The LOSS membership attack (Yeom et al. 2018) on a language model, as open-unlearning computes it: each
sample's score is its average answer-token loss; the value is roc_auc_score with the forget samples
labelled 0 and the holdout samples (never trained on) labelled 1. 1 = the forget answers have much lower
loss than unseen ones (still memorised), 0.5 = indistinguishable.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): each forget sample's answer-token log-probabilities
        (end-of-sequence included).
    holdout_token_log_probs (`list` of `list` of `float`, required): the same for the holdout samples.
Returns:
    mia_loss_auc (`float`): in [0, 1].
"""

_CITATION = (
    MUBENCH_BIBTEX
    + OPEN_UNLEARNING_BIBTEX
    + """\
@inproceedings{yeom2018privacy,
  title={Privacy Risk in Machine Learning: Analyzing the Connection to Overfitting},
  author={Yeom, Samuel and Giacomelli, Irene and Fredrikson, Matt and Jha, Somesh},
  booktitle={IEEE 31st Computer Security Foundations Symposium (CSF)},
  year={2018}
}
"""
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MiaLossAuc(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=token_features(),
            reference_urls=[
                "https://github.com/locuslab/open-unlearning",
                "https://arxiv.org/abs/1709.01604",
            ],
        )

    def _compute(self, predictions, holdout_token_log_probs=None):
        require(
            "mia_loss_auc",
            ": the holdout (non-member) samples",
            holdout_token_log_probs=holdout_token_log_probs,
        )
        return {"mia_loss_auc": mia_auc(loss_scores(predictions), loss_scores(holdout_token_log_probs))}
