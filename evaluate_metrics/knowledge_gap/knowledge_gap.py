"""evaluate module ``knowledge_gap``: mean ROC-AUC separating the forget set from equal-size retain draws."""

import evaluate

from mubench_hf.metrics import knowledge_gap, knowledge_gap_monte_carlo
from mubench_hf.metrics.evaluate_support import logits_features

_DESCRIPTION = """\
Knowledge gap (MU-Bench, after Wang et al. 2023, KGA): the mean over random equal-size subsamples of the
retain set Dr of the ROC-AUC that per-sample correctness (1 if argmax == label) achieves in separating
Dr (positive) from the forget set Df (negative). 0.5 = Df and Dr are indistinguishable; above 0.5 = the
model errs more on Df. The default computes the exact expectation over draws, 1/2 + (acc(Dr) - acc(Df))/2,
without sampling; method="monte_carlo" runs the literal resampling procedure.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the model's logits on the forget set Df, shape (n_forget, K).
    references (`list` of `int`): labels of Df.
    retain_logits (array-like, required): the model's logits on the retain set Dr, shape (n_retain, K).
    retain_labels (array-like, required): labels of Dr.
    method (`str`): "exact" (default) or "monte_carlo".
    n_draws (`int`): number of Dr draws for method="monte_carlo" (default 500).
    seed (`int`): seed of the draws for method="monte_carlo" (default 0).
Returns:
    knowledge_gap (`float`): expected AUC in [0, 1].
Examples:
    >>> metric = evaluate.load(metric_path("knowledge_gap"))
    >>> metric.compute(predictions=[[0.0, 1.0], [0.0, 1.0]], references=[0, 0],
    ...                retain_logits=[[1.0, 0.0], [1.0, 0.0]], retain_labels=[0, 0])
    {'knowledge_gap': 1.0}
"""

_CITATION = """\
@article{cheng2024mubench,
  title={MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author={Cheng, Jiali and Amiri, Hadi},
  journal={arXiv preprint arXiv:2406.14796},
  year={2024}
}
@inproceedings{wang2023kga,
  title={KGA: A General Machine Unlearning Framework Based on Knowledge Gap Alignment},
  author={Wang, Lingzhi and Chen, Tong and Yuan, Wei and Zeng, Xingshan and Wong, Kam-Fai and Yin, Hongzhi},
  booktitle={Proceedings of the 61st Annual Meeting of the Association for Computational Linguistics},
  year={2023}
}
"""

_METHODS = ("exact", "monte_carlo")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class KnowledgeGap(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=logits_features(),
            reference_urls=["https://arxiv.org/abs/2406.14796", "https://arxiv.org/abs/2305.06535"],
        )

    def _compute(
        self,
        predictions,
        references,
        retain_logits=None,
        retain_labels=None,
        method="exact",
        n_draws=500,
        seed=0,
    ):
        if retain_logits is None or retain_labels is None:
            raise ValueError("knowledge_gap needs retain_logits and retain_labels (the retain split Dr)")
        if method == "exact":
            value = knowledge_gap(predictions, references, retain_logits, retain_labels)
        elif method == "monte_carlo":
            value = knowledge_gap_monte_carlo(
                predictions, references, retain_logits, retain_labels, n_draws=n_draws, seed=seed
            )
        else:
            raise ValueError(f"method must be one of {list(_METHODS)}; got {method!r}")
        return {"knowledge_gap": value}
