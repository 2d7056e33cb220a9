"""evaluate module ``mubench``: every mubench-hf unlearning metric in one call (a flat dict of floats)."""

import evaluate

from mubench_hf.metrics import compute_unlearning_metrics
from mubench_hf.metrics.evaluate_support import logits_features, require_arguments

_DESCRIPTION = """\
The full MU-Bench report for an unlearned classifier: accuracy on the forget (Df), retain (Dr), test (Dt)
and optional validation / OOD splits, knowledge gap, ZRF (with random-teacher logits), MIA efficacy and
loss-attack AUCs, MU-Bench's overall score (with the original model's test accuracy) and, given the
retrained model's logits, forget quality, the gap to retrain and the retrained model's own values
(prefix retrain_). Every metric is computed once from shared per-split softmax outputs.
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
    random_teacher_logits (array-like, optional): random teachers' logits on Df, shape (n, K) or
        (teachers, n, K); enables zrf.
    retrain_logits (`dict`, optional): the retrained model's logits per split (at least "forget", "retain",
        "test"); enables forget_quality, gap_to_retrain, gap_* and retrain_*.
    seed (`int`): seeds the MIA attacker (default 0).
    max_test_drop, chance_floor (`float`): the zeroing rules of mubench_score (defaults 0.2 and 0.5).
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
        random_teacher_logits=None,
        retrain_logits=None,
        seed=0,
        max_test_drop=0.2,
        chance_floor=0.5,
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
                raise ValueError(f"give both {split}_logits and {split}_labels, or neither")
            if split_logits is not None:
                logits[split], labels[split] = split_logits, split_labels
        return compute_unlearning_metrics(
            logits,
            labels,
            num_labels=num_labels,
            original_test_accuracy=original_test_accuracy,
            random_teacher_logits=random_teacher_logits,
            retrain_logits=retrain_logits,
            seed=seed,
            max_test_drop=max_test_drop,
            chance_floor=chance_floor,
        )
