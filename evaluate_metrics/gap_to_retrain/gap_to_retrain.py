"""evaluate module ``gap_to_retrain``: SalUn's average gap between the unlearned and the retrained model."""

import evaluate

from mubench_hf.metrics import GAP_COMPONENTS, compute_unlearning_metrics
from mubench_hf.metrics.evaluate_support import logits_features, require_arguments

_DESCRIPTION = """\
Gap to retrain (SalUn's "avg. gap", Fan et al. 2024): the mean absolute difference between the unlearned
and the retrained model (trained from scratch on the retain set) over forget accuracy, retain accuracy,
test accuracy and MIA efficacy, with each component's gap. 0 = indistinguishable from retraining on these
four numbers. Values are fractions in [0, 1] (SalUn prints percentages).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the unlearned model's logits on the forget set Df, shape (n, K).
    references (`list` of `int`): labels of Df.
    retain_logits, retain_labels (array-like, required): the unlearned model's logits and the labels on Dr.
    test_logits, test_labels (array-like, required): the same on Dt.
    retrain_logits (`dict`, required): the retrained model's logits per split, keys "forget", "retain" and
        "test", on the same samples as the unlearned model's.
    seed (`int`): kept for compatibility (default 0); mia_efficacy is SalUn's deterministic SVC attack, so
        the gap does not depend on it.
Returns:
    gap_to_retrain (`float`), gap_forget_accuracy, gap_retain_accuracy, gap_test_accuracy,
    gap_mia_efficacy (`float`): each in [0, 1], lower is better.
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
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class GapToRetrain(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=logits_features(),
            reference_urls=["https://arxiv.org/abs/2310.12508", "https://arxiv.org/abs/2406.14796"],
        )

    def _compute(
        self,
        predictions,
        references,
        retain_logits=None,
        retain_labels=None,
        test_logits=None,
        test_labels=None,
        retrain_logits=None,
        seed=0,
    ):
        given = {
            "retain_logits": retain_logits,
            "retain_labels": retain_labels,
            "test_logits": test_logits,
            "test_labels": test_labels,
            "retrain_logits": retrain_logits,
        }
        require_arguments("gap_to_retrain", given)
        metrics = compute_unlearning_metrics(
            {"forget": predictions, "retain": retain_logits, "test": test_logits},
            {"forget": references, "retain": retain_labels, "test": test_labels},
            retrain_logits=retrain_logits,
            seed=seed,
            bootstrap_resamples=0,  # the gaps need no intervals
        )
        return {key: metrics[key] for key in ("gap_to_retrain", *(f"gap_{name}" for name in GAP_COMPONENTS))}
