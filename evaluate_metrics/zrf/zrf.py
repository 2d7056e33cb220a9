"""evaluate module ``zrf``: ZRF score (1 - mean Jensen-Shannon divergence to a random teacher) on the forget set."""

import evaluate

from mubench_hf.metrics import zrf
from mubench_hf.metrics.evaluate_support import logits_features

_DESCRIPTION = """\
ZRF (zero retrain forgetting, Chundawat et al. 2023): 1 - mean over forget samples of the Jensen-Shannon
divergence (log base 2, so in [0, 1]) between the model's softmax output and that of an incompetent,
randomly initialised teacher. 1 = the model answers Df like a random model; lower = it still carries
information about Df. Several random teachers can be averaged (a stack of teacher logits).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the unlearned model's logits on the forget set Df, shape (n, K).
    teacher_logits (array-like, required): a randomly initialised model's logits on the same samples,
        shape (n, K), or a stack from several random teachers, shape (teachers, n, K).
Returns:
    zrf (`float`): in [0, 1].
Examples:
    >>> metric = evaluate.load(metric_path("zrf"))
    >>> metric.compute(predictions=[[1.0, 2.0]], teacher_logits=[[1.0, 2.0]])
    {'zrf': 1.0}
"""

_CITATION = """\
@article{cheng2024mubench,
  title={MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author={Cheng, Jiali and Amiri, Hadi},
  journal={arXiv preprint arXiv:2406.14796},
  year={2024}
}
@inproceedings{chundawat2023badteaching,
  title={Can Bad Teaching Induce Forgetting? Unlearning in Deep Networks Using an Incompetent Teacher},
  author={Chundawat, Vikram S. and Tarun, Ayush K. and Mandal, Murari and Kankanhalli, Mohan},
  booktitle={Proceedings of the AAAI Conference on Artificial Intelligence},
  year={2023}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Zrf(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=logits_features(with_references=False),
            reference_urls=["https://arxiv.org/abs/2205.08096", "https://arxiv.org/abs/2406.14796"],
        )

    def _compute(self, predictions, teacher_logits=None):
        if teacher_logits is None:
            raise ValueError(
                "zrf needs teacher_logits: a randomly initialised model's logits on the forget set"
            )
        return {"zrf": zrf(predictions, teacher_logits)}
