"""evaluate module ``ulira``: U-LiRA's accuracy/AUC at telling unlearned from retrained models on Df."""

import datasets
import evaluate
import numpy as np

from mubench_hf.metrics.ulira import ulira_from_logits

_DESCRIPTION = """\
U-LiRA (Hayes et al. 2024, "Inexact Unlearning Needs More Careful Evaluations to Avoid a False Sense of
Privacy"): a per-example likelihood-ratio attack. For each forget example, Gaussians are fitted to
LiRA's logit-scaled true-class confidence over K unlearned shadow models and K retrained ones
(leave-one-out), and each held-out model is called "unlearned" when the likelihood ratio exceeds 1.
0.5 accuracy / AUC = unlearning indistinguishable from retraining; 1 = always told apart.
"""

_KWARGS_DESCRIPTION = """
Args:
    unlearned_logits (`list` of K x C `float`): per forget example, the logits of the K unlearned models.
    retrained_logits (`list` of K x C `float`): per forget example, the logits of the K retrained models.
    references (`list` of `int`): the example's label.
    per_example_variance (`bool`, default False): one Gaussian variance per example instead of one per
        side shared by all examples (LiRA's advice with few shadows is the shared one).
Returns:
    ulira_accuracy (`float`): share of right verdicts over 2K held-out models x examples, in [0, 1].
    ulira_auc (`float`): ROC AUC of the log likelihood ratio, in [0, 1].
    ulira_worst_example_accuracy (`float`): the accuracy on the most exposed example.
"""

_CITATION = """\
@article{hayes2024inexact,
  title={Inexact Unlearning Needs More Careful Evaluations to Avoid a False Sense of Privacy},
  author={Hayes, Jamie and Shumailov, Ilia and Triantafillou, Eleni and Khalifa, Amr and Papernot, Nicolas},
  journal={arXiv preprint arXiv:2403.01218},
  year={2024}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ULiRA(evaluate.Metric):
    def _info(self):
        per_model = datasets.List(datasets.List(datasets.Value("float64")))
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "unlearned_logits": per_model,
                    "retrained_logits": per_model,
                    "references": datasets.Value("int64"),
                }
            ),
            reference_urls=["https://arxiv.org/abs/2403.01218"],
        )

    def _compute(self, unlearned_logits, retrained_logits, references, per_example_variance=False):
        # rows are examples; the attack wants (models, examples, classes)
        unlearned = np.asarray(unlearned_logits, dtype=np.float64).transpose(1, 0, 2)
        retrained = np.asarray(retrained_logits, dtype=np.float64).transpose(1, 0, 2)
        result = ulira_from_logits(
            unlearned,
            retrained,
            np.asarray(references, dtype=np.int64),
            fixed_variance=not per_example_variance,
        )
        return {
            "ulira_accuracy": result.accuracy,
            "ulira_auc": result.auc,
            "ulira_worst_example_accuracy": float(result.per_example_accuracy.max()),
        }
