"""evaluate module ``answer_prob``: TOFU's answer probability from per-sample average answer-token losses."""

import evaluate

from mubench_hf.metrics.generative import answer_probability, normalised_answer_probability
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    TOFU_BIBTEX,
    loss_features,
)

_DESCRIPTION = """\
TOFU's answer probability ("Prob."): per sample the length-normalised probability of the reference answer
given the prompt, exp(-average answer-token loss), averaged over the samples. With perturbed_losses (the
losses of wrong answers to the same prompt) it is normalised as TOFU does on real authors and world facts:
p(true) / (p(true) + sum_j p(false_j)). On the forget set (forget_answer_prob) lower = more forgotten.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `float`): each sample's average answer-token loss (mean NLL over the answer's
        tokens, end-of-sequence included).
    perturbed_losses (`list` of `list` of `float`, optional): each sample's perturbed answers' average
        losses; gives the normalised probability.
Returns:
    answer_prob (`float`): in [0, 1].
"""

_CITATION = MUBENCH_BIBTEX + TOFU_BIBTEX + OPEN_UNLEARNING_BIBTEX


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class AnswerProb(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=loss_features(),
            reference_urls=[
                "https://arxiv.org/abs/2401.06121",
                "https://github.com/locuslab/open-unlearning",
            ],
        )

    def _compute(self, predictions, perturbed_losses=None):
        if perturbed_losses is None:
            return {"answer_prob": answer_probability(predictions)}
        return {"answer_prob": normalised_answer_probability(predictions, perturbed_losses)}
