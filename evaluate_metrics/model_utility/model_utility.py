"""evaluate module ``model_utility``: TOFU's model utility, the harmonic mean of its components."""

import evaluate

from mubench_hf.metrics.generative import model_utility
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    TOFU_BIBTEX,
    loss_features,
)

_DESCRIPTION = """\
TOFU's model utility: the harmonic mean of the answer probability (plain on retain, normalised against the
perturbed answers on real authors and world facts), the ROUGE-L recall and the true_better truth ratio on
each of the retain, real authors and world facts splits (nine numbers when all three are present). The
harmonic mean drops to 0 when any one component does, so a model has to keep all of them.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `float`): the component values, each in [0, 1] (e.g. from the answer_prob,
        rouge_l and truth_ratio modules on each utility split).
Returns:
    model_utility (`float`): in [0, 1].
"""

_CITATION = MUBENCH_BIBTEX + TOFU_BIBTEX + OPEN_UNLEARNING_BIBTEX


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ModelUtility(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=loss_features(),
            reference_urls=["https://arxiv.org/abs/2401.06121", "https://github.com/locuslab/tofu"],
        )

    def _compute(self, predictions):
        return {"model_utility": model_utility(list(predictions))}
