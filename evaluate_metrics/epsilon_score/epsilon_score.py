"""evaluate module ``epsilon_score``: the NeurIPS 2023 unlearning challenge's score (per-example epsilon)."""

import datasets
import evaluate
import numpy as np

from mubench_hf.metrics.epsilon_score import ATTACKS, COMPETITION_DELTA, epsilon_score, output_statistic

_DESCRIPTION = """\
The score of the NeurIPS 2023 machine-unlearning challenge (Triantafillou et al. 2024, arXiv:2406.09073).
For each forget example, attacks (every single threshold, and a cross-validated logistic regression)
try to tell N unlearned models from N retrained ones by the model's cross-entropy against its own
prediction; their false-positive/false-negative rates give an epsilon (delta = 0.01), binned into
2 / 2**bin (bins of width 0.5); the mean over Df is the forgetting quality F, and the score is
F x (retain accuracy ratio) x (test accuracy ratio) of unlearned over retrained models.
"""

_KWARGS_DESCRIPTION = """
Args:
    unlearned_logits (`list` of N x C `float`): per forget example, the logits of the N unlearned models.
    retrained_logits (`list` of N x C `float`): per forget example, the logits of the N retrained models.
    references (`list` of `int`): the example's label (used with statistic="loss" only).
    retain_accuracy_unlearned, retain_accuracy_retrained, test_accuracy_unlearned, test_accuracy_retrained
        (`list` of N `float`, required): each model's retain / test accuracy.
    statistic (`str`, default "predicted_ce"): "predicted_ce" (the challenge's) or "loss" (true label).
    attacks (`list` of `str`, default ["threshold", "logistic"]): logistic needs N >= 10 (else left out).
    delta (`float`, default 0.01).
Returns:
    epsilon_score (`float`), epsilon_forgetting_quality (`float`) in [0, 1], epsilon_retain_ratio,
    epsilon_test_ratio (`float`), epsilon_median (`float`, may be inf).
"""

_CITATION = """\
@article{triantafillou2024progress,
  title={Are we making progress in unlearning? Findings from the first NeurIPS unlearning competition},
  author={Triantafillou, Eleni and Kairouz, Peter and Pedregosa, Fabian and Hayes, Jamie and Kurmanji, Meghdad
          and Zhao, Kairan and Dumoulin, Vincent and Junior, Julio Jacques and Mitliagkas, Ioannis and Wan, Jun
          and Hosoya, Lisheng Sun and Escalera, Sergio and Dziugaite, Gintare Karolina and Triantafillou, Peter
          and Guyon, Isabelle},
  journal={arXiv preprint arXiv:2406.09073},
  year={2024}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class EpsilonScore(evaluate.Metric):
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
            reference_urls=["https://arxiv.org/abs/2406.09073"],
        )

    def _compute(
        self,
        unlearned_logits,
        retrained_logits,
        references,
        retain_accuracy_unlearned=None,
        retain_accuracy_retrained=None,
        test_accuracy_unlearned=None,
        test_accuracy_retrained=None,
        statistic="predicted_ce",
        attacks=ATTACKS,
        delta=COMPETITION_DELTA,
        seed=0,
    ):
        accuracies = {
            "retain_accuracy_unlearned": retain_accuracy_unlearned,
            "retain_accuracy_retrained": retain_accuracy_retrained,
            "test_accuracy_unlearned": test_accuracy_unlearned,
            "test_accuracy_retrained": test_accuracy_retrained,
        }
        missing = [name for name, value in accuracies.items() if value is None]
        if missing:
            raise ValueError(f"epsilon_score needs {missing}: one accuracy per model (the utility ratios)")
        labels = np.asarray(references, dtype=np.int64)
        # rows are examples; the statistic is per (model, example)
        unlearned = np.asarray(unlearned_logits, dtype=np.float64).transpose(1, 0, 2)
        retrained = np.asarray(retrained_logits, dtype=np.float64).transpose(1, 0, 2)
        result = epsilon_score(
            output_statistic(unlearned, labels, statistic),
            output_statistic(retrained, labels, statistic),
            attacks=list(attacks),
            delta=delta,
            seed=seed,
            **accuracies,
        )
        return {
            "epsilon_score": result.score,
            "epsilon_forgetting_quality": result.forgetting_quality,
            "epsilon_retain_ratio": result.retain_ratio,
            "epsilon_test_ratio": result.test_ratio,
            "epsilon_median": float(np.median(result.epsilons)),
        }
