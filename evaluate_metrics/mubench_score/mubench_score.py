"""evaluate module ``mubench_score``: MU-Bench's overall score from forget and test accuracy."""

import evaluate

from mubench_hf.metrics import mubench_score, split_outputs
from mubench_hf.metrics.evaluate_support import logits_features

_DESCRIPTION = """\
MU-Bench overall score (Cheng & Amiri 2024), with MU-Bench's own rules (Evaluator.compute in
mubench/evaluation.py of CLU-UML/MU-Bench): the harmonic mean of (1 - |Acc_Dt - Acc_Dt^orig|) and
(1 - |Acc_Df - 1/K|), set to 0 when test accuracy moved in either direction by more than 20 % of the
original (40 % for method "grad_ascent" or "neggrad") or forget accuracy is below chance by more than 20 %
of chance. 1 = test accuracy kept and Df at chance. For random deletion the retrained model is not at
chance on Df, so report the gap to retrain next to this score.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the unlearned model's logits on the forget set Df, shape (n, K).
    references (`list` of `int`): labels of Df.
    test_logits, test_labels (array-like, required): the unlearned model's logits and the labels on Dt.
    original_test_accuracy (`float`, required): the original (pre-unlearning) model's test accuracy.
    num_labels (`int`, optional): K; defaults to the logits' width.
    method (`str`, optional): the unlearning method; "grad_ascent" and "neggrad" get a 40 % allowance.
    max_test_change (`float`, optional): overrides the relative test-accuracy change that method selects.
    max_below_chance (`float`): how far Acc_Df may fall below chance, relative to chance (default 0.2).
Returns:
    mubench_score (`float`) in [0, 1], with the forget_accuracy and test_accuracy it was computed from.
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
class MubenchScore(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=logits_features(),
            reference_urls=["https://arxiv.org/abs/2406.14796", "https://github.com/CLU-UML/MU-Bench"],
        )

    def _compute(
        self,
        predictions,
        references,
        test_logits=None,
        test_labels=None,
        original_test_accuracy=None,
        num_labels=None,
        method=None,
        max_test_change=None,
        max_below_chance=0.2,
    ):
        if test_logits is None or test_labels is None:
            raise ValueError("mubench_score needs test_logits and test_labels (the test split Dt)")
        if original_test_accuracy is None:
            raise ValueError(
                "mubench_score needs original_test_accuracy: the original model's accuracy on Dt"
            )
        forget = split_outputs(
            predictions, references, name="forget_logits", labels_name="forget_labels", num_labels=num_labels
        )
        test = split_outputs(
            test_logits,
            test_labels,
            name="test_logits",
            labels_name="test_labels",
            num_labels=forget.num_labels,
        )
        score = mubench_score(
            test_accuracy=test.accuracy,
            forget_accuracy=forget.accuracy,
            original_test_accuracy=original_test_accuracy,
            num_labels=forget.num_labels,
            method=method,
            max_test_change=max_test_change,
            max_below_chance=max_below_chance,
        )
        return {"mubench_score": score, "forget_accuracy": forget.accuracy, "test_accuracy": test.accuracy}
