"""evaluate module ``verbmem``: MUSE's VerbMem, ROUGE-L F1 (no stemming) of continuations of forget-text prefixes."""

import evaluate

from mubench_hf.metrics.generative.evaluate_support import MUBENCH_BIBTEX, MUSE_BIBTEX, text_features
from mubench_hf.metrics.generative.muse import verbmem

_DESCRIPTION = """\
MUSE's VerbMem (Shi et al. 2025): the model is given the first tokens of a forget-corpus passage and
continues it greedily; each continuation is scored against the passage's true continuation, cut to the
generation budget, by ROUGE-L F1 without stemming (rouge-score's RougeScorer(["rougeL"]), as MUSE's
metrics/logger.py scores it), and VerbMem is the mean. Higher = more of the text reproduced verbatim.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): the model's continuations, one per prefix.
    references (`list` of `str`): the true continuations, cut to the same token budget, same order.
Returns:
    verbmem (`float`): mean ROUGE-L F1 in [0, 1].
"""

_CITATION = MUBENCH_BIBTEX + MUSE_BIBTEX


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Verbmem(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=text_features(),
            reference_urls=["https://arxiv.org/abs/2407.06460", "https://github.com/swj0419/muse_bench"],
        )

    def _compute(self, predictions, references):
        return {"verbmem": verbmem(predictions, references)}
