"""evaluate module ``split_accuracy``: accuracy of a classifier's logits on one split (Dt, Df, Dr or OOD)."""

import evaluate

from mubench_hf.metrics import split_accuracy
from mubench_hf.metrics.evaluate_support import logits_features

_DESCRIPTION = """\
Split accuracy as used by MU-Bench: the share of samples whose arg-max logit is the true label,
reported separately on the test (Dt), forget (Df), retain (Dr) and out-of-distribution splits.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): logits, one row of length K (classes) per sample.
    references (`list` of `int`): true class ids in [0, K).
    num_labels (`int`, optional): expected K; checked against the logits' width.
Returns:
    accuracy (`float`): in [0, 1].
Examples:
    >>> metric = evaluate.load(metric_path("split_accuracy"))
    >>> metric.compute(predictions=[[2.0, 0.1], [0.3, 1.0]], references=[0, 0])
    {'accuracy': 0.5}
"""

_CITATION = """\
@article{cheng2024mubench,
  title={MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author={Cheng, Jiali and Amiri, Hadi},
  journal={arXiv preprint arXiv:2406.14796},
  year={2024}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SplitAccuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=logits_features(),
            reference_urls=["https://arxiv.org/abs/2406.14796"],
        )

    def _compute(self, predictions, references, num_labels=None):
        return {"accuracy": split_accuracy(predictions, references, num_labels=num_labels)}
