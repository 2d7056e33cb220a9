"""evaluate module ``mia_zlib_auc``: the zlib membership attack's AUC, forget vs holdout (open-unlearning)."""

import evaluate

from mubench_hf.metrics.generative import loss_scores, mia_auc, zlib_scores
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    require,
    token_features,
)

_DESCRIPTION = """\
The zlib membership attack (Carlini et al. 2021) as open-unlearning computes it: each sample's score is its
average answer-token loss divided by the zlib-compressed length in bytes of its answer text (UTF-8,
zlib.compress at the default level); the value is roc_auc_score with forget = 0 and holdout = 1.
1 = the forget answers look memorised, 0.5 = indistinguishable from unseen ones.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): each forget sample's answer-token log-probabilities.
    references (`list` of `str`): each forget sample's answer text.
    holdout_token_log_probs (`list` of `list` of `float`, required): the holdout samples' token log-probabilities.
    holdout_texts (`list` of `str`, required): the holdout samples' answer texts.
Returns:
    mia_zlib_auc (`float`): in [0, 1].
"""

_CITATION = (
    MUBENCH_BIBTEX
    + OPEN_UNLEARNING_BIBTEX
    + """\
@inproceedings{carlini2021extracting,
  title={Extracting Training Data from Large Language Models},
  author={Carlini, Nicholas and Tram{\\`e}r, Florian and Wallace, Eric and Jagielski, Matthew and Herbert-Voss, Ariel and Lee, Katherine and Roberts, Adam and Brown, Tom and Song, Dawn and Erlingsson, {\\'U}lfar and Oprea, Alina and Raffel, Colin},
  booktitle={30th USENIX Security Symposium},
  year={2021}
}
"""
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MiaZlibAuc(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=token_features(with_texts=True),
            reference_urls=[
                "https://github.com/locuslab/open-unlearning",
                "https://arxiv.org/abs/2012.07805",
            ],
        )

    def _compute(self, predictions, references, holdout_token_log_probs=None, holdout_texts=None):
        require(
            "mia_zlib_auc",
            ": the holdout (non-member) samples' token log-probabilities and answer texts",
            holdout_token_log_probs=holdout_token_log_probs,
            holdout_texts=holdout_texts,
        )
        forget = zlib_scores(loss_scores(predictions), references)
        holdout = zlib_scores(loss_scores(holdout_token_log_probs), holdout_texts)
        return {"mia_zlib_auc": mia_auc(forget, holdout)}
