"""evaluate module ``exact_memorization``: the share of each answer's tokens the model predicts, teacher-forced."""

import evaluate

from mubench_hf.metrics.generative import exact_memorization
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    token_id_features,
)

_DESCRIPTION = """\
Exact memorization, open-unlearning's `exact_memorization`: teacher-forced on the prompt and the answer y,
the share of answer positions where the model's argmax is the answer's token, averaged over the samples
(samples without answer tokens are left out). 1 = every answer token predicted; on the forget set lower =
more forgotten.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): the model's argmax token id at each answer position.
    references (`list` of `list` of `int`): the answer's token ids, same lengths.
Returns:
    exact_memorization (`float` or `None`): in [0, 1]; None when no sample has answer tokens.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ExactMemorization(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=MUBENCH_BIBTEX + OPEN_UNLEARNING_BIBTEX,
            inputs_description=_KWARGS_DESCRIPTION,
            features=token_id_features(),
            reference_urls=["https://github.com/locuslab/open-unlearning"],
        )

    def _compute(self, predictions, references):
        return {"exact_memorization": exact_memorization(predictions, references)}
