"""evaluate module ``rouge_l``: ROUGE-L recall of generations against reference answers (TOFU's ROUGE)."""

import evaluate

from mubench_hf.metrics.generative import rouge_l_recall
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    TOFU_BIBTEX,
    text_features,
)

_DESCRIPTION = """\
ROUGE-L recall as TOFU (Maini et al. 2024) and open-unlearning report it for unlearning: the longest common
subsequence of a greedy generation and the reference answer, over the reference's length, computed with
Google's rouge-score package (RougeScorer(["rougeL"], use_stemmer=True)), averaged over the samples. On the
forget set (forget_rouge_l) lower = more forgotten; on retain and other splits higher = knowledge kept.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): the model's generations, one per sample.
    references (`list` of `str`): the reference answers, same order.
Returns:
    rouge_l (`float`): mean ROUGE-L recall in [0, 1].
"""

_CITATION = (
    MUBENCH_BIBTEX
    + TOFU_BIBTEX
    + OPEN_UNLEARNING_BIBTEX
    + """\
@inproceedings{lin2004rouge,
  title={ROUGE: A Package for Automatic Evaluation of Summaries},
  author={Lin, Chin-Yew},
  booktitle={Text Summarization Branches Out},
  year={2004}
}
"""
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RougeL(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=text_features(),
            reference_urls=["https://arxiv.org/abs/2401.06121", "https://pypi.org/project/rouge-score/"],
        )

    def _compute(self, predictions, references):
        return {"rouge_l": rouge_l_recall(predictions, references)}
