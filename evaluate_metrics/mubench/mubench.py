"""evaluate module ``mubench``: every mubench-hf unlearning metric in one call (a flat dict of floats)."""

import evaluate

from mubench_hf.errors import MubenchError
from mubench_hf.metrics import compute_unlearning_metrics
from mubench_hf.metrics.evaluate_support import logits_features, require_arguments

_DESCRIPTION = """\
The full MU-Bench report for an unlearned classifier: accuracy on the forget (Df), retain (Dr), test (Dt)
and optional validation / OOD splits with seeded 95 % bootstrap intervals, knowledge gap, ZRF (the paper's
random-network teacher, or MU-Bench's uniform-noise teachers), SalUn's MIA efficacy (with its interval), a
logistic MIA variant and loss-attack AUCs, MU-Bench's overall score with MU-Bench's zeroing rules (with the
original model's test accuracy and the method) and, given the retrained model's logits, forget quality, the
gap to retrain and the retrained model's own values (prefix retrain_). Every metric is computed once from
shared per-split softmax outputs.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the unlearned model's logits on the forget set Df, shape (n, K).
    references (`list` of `int`): labels of Df.
    retain_logits, retain_labels (array-like, required): the retain split Dr.
    test_logits, test_labels (array-like, required): the test split Dt.
    validation_logits, validation_labels (array-like, optional): a validation split.
    ood_logits, ood_labels (array-like, optional): an out-of-distribution split.
    num_labels (`int`, optional): K; defaults to the logits' width.
    original_test_accuracy (`float`, optional): the original model's test accuracy; enables mubench_score.
    method (`str`, optional): the unlearning method; "grad_ascent" / "neggrad" get MU-Bench's 40 % allowance.
    random_teacher_logits (array-like, optional): random teachers' logits on Df, shape (n, K) or
        (teachers, n, K); enables zrf with zrf_teacher="random_network".
    retrain_logits (`dict`, optional): the retrained model's logits per split (at least "forget", "retain",
        "test"); enables forget_quality, gap_to_retrain, gap_* and retrain_*.
    seed (`int`): seeds the logistic MIA attacker, the bootstrap and the noise teachers (default 0).
    zrf_teacher (`str`): "random_network" (default) or "uniform_noise" (MU-Bench; needs no teacher logits).
    zrf_base (`float`): 2 (default, bits) or math.e (nats, MU-Bench).
    zrf_noise_draws (`int`): the number of uniform-noise teachers (default 500).
    bootstrap_resamples (`int`): resamples per interval (default 1000; 0 = no intervals).
Returns:
    A flat dict of floats: see the metric card for every key.
"""

_CITATION = """\
@article{cheng2024mubench,
  title={MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author={Cheng, Jiali and Amiri, Hadi},
  journal={arXiv preprint arXiv:2406.14796},
  year={2024}
}
@inproceedings{fan2024salun,
  title={SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency in Both Image Classification and Generation},
  author={Fan, Chongyu and Liu, Jiancheng and Zhang, Yihua and Wong, Eric and Wei, Dennis and Liu, Sijia},
  booktitle={International Conference on Learning Representations},
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
class Mubench(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=logits_features(),
            reference_urls=["https://arxiv.org/abs/2406.14796"],
        )

    def _compute(
        self,
        predictions,
        references,
        retain_logits=None,
        retain_labels=None,
        test_logits=None,
        test_labels=None,
        validation_logits=None,
        validation_labels=None,
        ood_logits=None,
        ood_labels=None,
        num_labels=None,
        original_test_accuracy=None,
        method=None,
        random_teacher_logits=None,
        retrain_logits=None,
        seed=0,
        zrf_teacher="random_network",
        zrf_base=2,
        zrf_noise_draws=500,
        bootstrap_resamples=1000,
    ):
        required = {
            "retain_logits": retain_logits,
            "retain_labels": retain_labels,
            "test_logits": test_logits,
            "test_labels": test_labels,
        }
        require_arguments("mubench", required, " besides the forget split (predictions, references)")
        logits = {"forget": predictions, "retain": retain_logits, "test": test_logits}
        labels = {"forget": references, "retain": retain_labels, "test": test_labels}
        for split, split_logits, split_labels in (
            ("validation", validation_logits, validation_labels),
            ("ood", ood_logits, ood_labels),
        ):
            if (split_logits is None) != (split_labels is None):
                raise MubenchError(f"give both {split}_logits and {split}_labels, or neither")
            if split_logits is not None:
                logits[split], labels[split] = split_logits, split_labels
        return compute_unlearning_metrics(
            logits,
            labels,
            num_labels=num_labels,
            original_test_accuracy=original_test_accuracy,
            method=method,
            random_teacher_logits=random_teacher_logits,
            retrain_logits=retrain_logits,
            seed=seed,
            zrf_teacher=zrf_teacher,
            zrf_base=zrf_base,
            zrf_noise_draws=zrf_noise_draws,
            bootstrap_resamples=bootstrap_resamples,
        )
