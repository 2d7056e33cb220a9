"""evaluate module ``truth_ratio``: TOFU's truth ratio from the true and the perturbed answers' losses."""

import evaluate

from mubench_hf.metrics.generative import truth_ratio
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    TOFU_BIBTEX,
    loss_features,
    require,
)

_DESCRIPTION = """\
TOFU's truth ratio. Per sample R = p(false) / p(true), with p(true) the length-normalised probability of
the paraphrased answer (forget, retain) or of the answer itself (real authors, world facts) and p(false)
exp(-mean loss) over the perturbed (wrong) answers. Aggregated as open-unlearning does:
closer_to_1_better = mean(min(R, 1/R)) on the forget set (1 = true and false answers equally likely, as for
a model that never learned them), true_better = mean(max(0, 1 - R)) on the other splits (1 = the true
answer is much preferred).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `float`): each sample's average answer-token loss of the true (paraphrased) answer.
    perturbed_losses (`list` of `list` of `float`, required): each sample's perturbed answers' average losses.
    aggregator (`str`): "closer_to_1_better" (forget set, default) or "true_better" (other splits).
Returns:
    truth_ratio (`float`): in [0, 1].
"""

_CITATION = MUBENCH_BIBTEX + TOFU_BIBTEX + OPEN_UNLEARNING_BIBTEX


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class TruthRatio(evaluate.Metric):
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

    def _compute(self, predictions, perturbed_losses=None, aggregator="closer_to_1_better"):
        require(
            "truth_ratio",
            ": the average losses of each sample's perturbed answers",
            perturbed_losses=perturbed_losses,
        )
        return {"truth_ratio": truth_ratio(predictions, perturbed_losses, aggregator)}
