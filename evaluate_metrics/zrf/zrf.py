"""evaluate module ``zrf``: ZRF score (1 - mean Jensen-Shannon divergence to a random teacher) on the forget set."""

import evaluate

from mubench_hf.metrics import zrf
from mubench_hf.metrics.evaluate_support import logits_features

_DESCRIPTION = """\
ZRF (zero retrain forgetting, Chundawat et al. 2023): 1 - mean over forget samples of the Jensen-Shannon
divergence between the model's softmax output and a teacher's. teacher="random_network" (default, the
paper's definition): the teacher is an incompetent, randomly initialised model whose logits are passed
(several can be stacked). teacher="uniform_noise" (MU-Bench, get_zero_retrain_forgetting_score in
CLU-UML/MU-Bench): num_draws teachers, each softmax of logits drawn uniformly from [0, 1), seeded.
base=2 (bits, ZRF in [0, 1]) or base=math.e (nats, as MU-Bench; ZRF in [1 - ln 2, 1]).
1 = the model answers Df like the teacher; lower = it still carries information about Df.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the unlearned model's logits on the forget set Df, shape (n, K).
    teacher_logits (array-like): with teacher="random_network" (required there), a randomly initialised
        model's logits on the same samples, shape (n, K), or a stack from several, shape (teachers, n, K).
    teacher (`str`): "random_network" (default) or "uniform_noise".
    base (`float`): 2 (default) or math.e.
    num_draws (`int`): uniform-noise teachers (default 500, MU-Bench's count).
    seed (`int`): seed of the uniform-noise teachers (default 0).
Returns:
    zrf (`float`).
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
            reference_urls=[
                "https://arxiv.org/abs/2205.08096",
                "https://arxiv.org/abs/2406.14796",
                "https://github.com/CLU-UML/MU-Bench",
            ],
        )

    def _compute(
        self, predictions, teacher_logits=None, teacher="random_network", base=2, num_draws=500, seed=0
    ):
        value = zrf(predictions, teacher_logits, teacher=teacher, base=base, num_draws=num_draws, seed=seed)
        return {"zrf": value}
