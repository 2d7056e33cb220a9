"""evaluate module ``tofu_forget_quality``: TOFU's forget quality, a KS test of truth ratios against retrain."""

import evaluate

from mubench_hf.metrics.generative import truth_ratio_forget_quality_test, truth_ratios
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    TOFU_BIBTEX,
    loss_features,
    require,
)

_DESCRIPTION = """\
TOFU's forget quality for language models: the p-value of a two-sided two-sample Kolmogorov-Smirnov test
(scipy.stats.ks_2samp) between the per-sample truth-ratio statistics on the forget set of the unlearned
model and of the retrain model (fine-tuned without the forget set). High = the unlearned model cannot be
told apart from one that never saw the forget set. (The classification analogue, a KS test on per-sample
losses, is the forget_quality module.)
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `float`): the unlearned model's average loss of each forget sample's paraphrased answer.
    perturbed_losses (`list` of `list` of `float`, required): its average losses of the perturbed answers.
    retrain_losses, retrain_perturbed_losses (required): the same from the retrain model (same samples or
        not: the KS test compares distributions).
Returns:
    forget_quality (`float`): the KS p-value in [0, 1].
    ks_statistic (`float`): the largest gap between the two truth-ratio CDFs, in [0, 1].
"""

_CITATION = MUBENCH_BIBTEX + TOFU_BIBTEX + OPEN_UNLEARNING_BIBTEX


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class TofuForgetQuality(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=loss_features(),
            reference_urls=["https://arxiv.org/abs/2401.06121", "https://github.com/locuslab/tofu"],
        )

    def _compute(
        self, predictions, perturbed_losses=None, retrain_losses=None, retrain_perturbed_losses=None
    ):
        require(
            "tofu_forget_quality",
            ": the unlearned and the retrain model's perturbed-answer losses and the retrain model's answer losses",
            perturbed_losses=perturbed_losses,
            retrain_losses=retrain_losses,
            retrain_perturbed_losses=retrain_perturbed_losses,
        )
        result = truth_ratio_forget_quality_test(
            truth_ratios(predictions, perturbed_losses),
            truth_ratios(retrain_losses, retrain_perturbed_losses),
        )
        return {"forget_quality": result.p_value, "ks_statistic": result.ks_statistic}
