"""evaluate module ``epsilon_score``: the NeurIPS 2023 unlearning challenge's score (per-example epsilon)."""

import datasets
import evaluate
import numpy as np

from mubench_hf.metrics.epsilon_score import DEFAULT_STATISTIC, PROTOCOLS, epsilon_score, output_statistic

_DESCRIPTION = """\
The score of the NeurIPS 2023 machine-unlearning challenge, as the organisers' released scoring code
defines it (github.com/google-deepmind/unlearning_evaluation, metric.py and main.py; Triantafillou et al.
2024, arXiv:2406.09073). For each forget example, decision rules (a grid of single thresholds and of
intervals around the peakier sample) try to tell N unlearned models from N retrained ones by the
logit-scaled confidence of the true class; their false-positive/false-negative rates give an epsilon
(delta = 1e-5, capped at 50, and 50 when one sample's range is under 1 % of the other's), scored 1, 1/2,
1/4, ... per 0.5-wide bucket up to ceil(log(N - 1)); the mean over Df is the forget score F, and the
score is F x (retain accuracy ratio) x (test accuracy ratio) of unlearned over retrained models.
protocol="kaggle_copy" gives the earlier definition from a participant's copy of the Kaggle scorer.
"""

_KWARGS_DESCRIPTION = """
Args:
    unlearned_logits (`list` of N x C `float`): per forget example, the logits of the N unlearned models.
    retrained_logits (`list` of N x C `float`): per forget example, the logits of the N retrained models.
    references (`list` of `int`): the example's true label (the official statistic needs it).
    retain_accuracy_unlearned, retain_accuracy_retrained, test_accuracy_unlearned, test_accuracy_retrained
        (`list` of N `float`, required): each model's retain / test accuracy.
    protocol (`str`, default "official"): "official" (the organisers' scorer) or "kaggle_copy".
    statistic (`str`, default: the protocol's): "logit_confidence" (official), "predicted_ce"
        (kaggle_copy) or "loss".
    attacks (`list` of `str`, kaggle_copy only, default ["threshold", "logistic"]): logistic needs N >= 10.
    delta (`float`, default: the protocol's, 1e-5 official, 0.01 kaggle_copy).
Returns:
    epsilon_score (`float`), epsilon_forgetting_quality (`float`) in [0, 1], epsilon_retain_ratio,
    epsilon_test_ratio (`float`), epsilon_median (`float`; official: at most 50; kaggle_copy: may be inf).
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
            reference_urls=[
                "https://github.com/google-deepmind/unlearning_evaluation/blob/main/metric.py",
                "https://arxiv.org/abs/2406.09073",
            ],
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
        protocol="official",
        statistic=None,
        attacks=None,
        delta=None,
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
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {list(PROTOCOLS)}, not {protocol!r}")
        statistic = statistic or DEFAULT_STATISTIC[protocol]
        labels = np.asarray(references, dtype=np.int64)
        # rows are examples; the statistic is per (model, example)
        unlearned = np.asarray(unlearned_logits, dtype=np.float64).transpose(1, 0, 2)
        retrained = np.asarray(retrained_logits, dtype=np.float64).transpose(1, 0, 2)
        result = epsilon_score(
            output_statistic(unlearned, labels, statistic),
            output_statistic(retrained, labels, statistic),
            protocol=protocol,
            attacks=None if attacks is None else list(attacks),
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
