"""evaluate module ``knowmem``: MUSE's KnowMem, ROUGE-L F1 (no stemming) of answers cut at MUSE's stop strings."""

import evaluate

from mubench_hf.metrics.generative.evaluate_support import MUBENCH_BIBTEX, MUSE_BIBTEX, text_features
from mubench_hf.metrics.generative.muse import knowmem

_DESCRIPTION = """\
MUSE's KnowMem (Shi et al. 2025): the model answers a question about a document in MUSE's few-shot format;
each generated answer is cut before MUSE's stop strings (the next "Question:" and the like, in MUSE's order)
and scored against the reference answer by ROUGE-L F1 without stemming (as MUSE's metrics/logger.py), and
KnowMem is the mean. On questions about the forget documents lower = more forgotten; on questions about the
retain documents (MUSE's utility preservation) higher = knowledge kept.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): the model's generations after each question prompt.
    references (`list` of `str`): the reference answers, same order.
Returns:
    knowmem (`float`): mean ROUGE-L F1 in [0, 1].
"""

_CITATION = MUBENCH_BIBTEX + MUSE_BIBTEX


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Knowmem(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=text_features(),
            reference_urls=["https://arxiv.org/abs/2407.06460", "https://github.com/swj0419/muse_bench"],
        )

    def _compute(self, predictions, references):
        return {"knowmem": knowmem(predictions, references)}
