"""Input features and citations shared by the generative ``evaluate_metrics/<name>`` modules.

Kept apart from the arithmetic so that :mod:`mubench_hf.metrics.generative` imports without ``datasets``.
"""

from __future__ import annotations

import datasets

from mubench_hf.errors import MubenchError


def loss_features() -> datasets.Features:
    """``predictions``: one average completion-token loss per sample (TOFU's ``avg_gt_loss``)."""
    return datasets.Features({"predictions": datasets.Value("float64")})


def token_features(with_texts: bool = False) -> datasets.Features:
    """``predictions``: each sample's answer-token log-probabilities; ``references``: its answer text."""
    columns = {"predictions": datasets.List(datasets.Value("float64"))}
    if with_texts:
        columns["references"] = datasets.Value("string")
    return datasets.Features(columns)


def text_features() -> datasets.Features:
    """``predictions``: generated texts; ``references``: reference answers."""
    return datasets.Features(
        {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
    )


def token_id_features() -> datasets.Features:
    """``predictions``: the model's argmax id at each answer position; ``references``: the answer's ids."""
    return datasets.Features(
        {
            "predictions": datasets.List(datasets.Value("int64")),
            "references": datasets.List(datasets.Value("int64")),
        }
    )


def require(metric: str, why: str = "", **given: object) -> None:
    """Raise a ``ValueError`` naming every keyword argument that is ``None``."""
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise MubenchError(f"{metric} needs {missing}{why}")


MUBENCH_BIBTEX = """\
@article{cheng2024mubench,
  title={MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author={Cheng, Jiali and Amiri, Hadi},
  journal={arXiv preprint arXiv:2406.14796},
  year={2024}
}
"""
TOFU_BIBTEX = """\
@inproceedings{maini2024tofu,
  title={TOFU: A Task of Fictitious Unlearning for LLMs},
  author={Maini, Pratyush and Feng, Zhili and Schwarzschild, Avi and Lipton, Zachary C. and Kolter, J. Zico},
  booktitle={Conference on Language Modeling (COLM)},
  year={2024}
}
"""
OPEN_UNLEARNING_BIBTEX = """\
@article{dorna2025openunlearning,
  title={OpenUnlearning: Accelerating LLM Unlearning via Unified Benchmarking of Methods and Metrics},
  author={Dorna, Vineeth and Mekala, Anmol and Zhao, Wenlong and McCallum, Andrew and Lipton, Zachary C. and Kolter, J. Zico and Maini, Pratyush},
  journal={arXiv preprint arXiv:2506.12618},
  year={2025}
}
"""
MUSE_BIBTEX = """\
@inproceedings{shi2025muse,
  title={MUSE: Machine Unlearning Six-Way Evaluation for Language Models},
  author={Shi, Weijia and Lee, Jaechan and Huang, Yangsibo and Malladi, Sadhika and Zhao, Jieyu and Holtzman, Ari and Liu, Daogao and Zettlemoyer, Luke and Smith, Noah A. and Zhang, Chiyuan},
  booktitle={International Conference on Learning Representations},
  year={2025}
}
"""
