"""evaluate module ``forget_quality``: KS-test p-value between unlearned and retrained per-sample losses on Df."""

import evaluate

from mubench_hf.metrics import forget_quality_test
from mubench_hf.metrics.evaluate_support import logits_features

_DESCRIPTION = """\
Forget quality in the style of TOFU (Maini et al. 2024): the p-value of a two-sided two-sample
Kolmogorov-Smirnov test between the per-sample cross-entropy losses on the forget set Df of the
unlearned model and of the retrained model (trained from scratch without Df). High = the two loss
distributions cannot be told apart; low = the unlearned model still treats Df differently.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the unlearned model's logits on Df, shape (n, K).
    references (`list` of `int`): labels of Df.
    retrain_logits (array-like, required): the retrained model's logits on the same Df samples, shape (n, K).
Returns:
    forget_quality (`float`): the KS p-value in [0, 1].
    ks_statistic (`float`): the KS statistic (largest gap between the two loss CDFs), in [0, 1].
"""

_CITATION = """\
@article{cheng2024mubench,
  title={MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author={Cheng, Jiali and Amiri, Hadi},
  journal={arXiv preprint arXiv:2406.14796},
  year={2024}
}
@inproceedings{maini2024tofu,
  title={TOFU: A Task of Fictitious Unlearning for LLMs},
  author={Maini, Pratyush and Feng, Zhili and Schwarzschild, Avi and Lipton, Zachary C. and Kolter, J. Zico},
  booktitle={Conference on Language Modeling (COLM)},
  year={2024}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ForgetQuality(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=logits_features(),
            reference_urls=["https://arxiv.org/abs/2401.06121", "https://arxiv.org/abs/2406.14796"],
        )

    def _compute(self, predictions, references, retrain_logits=None):
        if retrain_logits is None:
            raise ValueError(
                "forget_quality needs retrain_logits: the retrained model's logits on the same Df samples"
            )
        result = forget_quality_test(predictions, references, retrain_logits)
        return {"forget_quality": result.p_value, "ks_statistic": result.ks_statistic}
