"""ROUGE-L recall of generated text against the reference answer, as TOFU and open-unlearning report it.

TOFU (Maini et al. 2024, ``locuslab/tofu``) and open-unlearning (``src/evals/metrics/utils.py``,
``eval_text_similarity``) score greedy generations with Google's ``rouge-score`` package:
``RougeScorer(["rougeL"], use_stemmer=True).score(target=reference, prediction=generation)`` and keep the
``recall`` of ``rougeL`` (the longest common subsequence over the reference's length): the share of the
reference answer that the model reproduced, in order. This module uses that maintained PyPI package
(never a Hub-hosted metric), with the same scorer settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from rouge_score import rouge_scorer

from mubench_hf.errors import MubenchError


@lru_cache(maxsize=1)
def _scorer() -> rouge_scorer.RougeScorer:
    # Stemming as TOFU and open-unlearning use it: "sat"/"sits" style variants count as matches.
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def checked_texts(values: Sequence[str], name: str) -> list[str]:
    """``values`` as a list of strings, one per sample (a single string or a non-string entry is refused)."""
    if isinstance(values, str):
        raise MubenchError(f"{name} must be a list of strings (one per sample), not a single string")
    texts = list(values)
    bad = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if bad:
        raise MubenchError(f"{name} must hold strings; entry {bad[0]} is {type(texts[bad[0]]).__name__}")
    return texts


def rouge_l_recalls(predictions: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """Per-sample ROUGE-L recall in [0, 1] of each prediction against its reference.

    Args:
        predictions: generated texts, one per sample.
        references: reference answers, same order.

    Returns:
        float64 array of shape (samples,); an empty prediction or reference scores 0.
    """
    preds, refs = checked_texts(predictions, "predictions"), checked_texts(references, "references")
    if len(preds) != len(refs):
        raise MubenchError(
            f"predictions has {len(preds)} texts but references has {len(refs)}; give one generation per reference"
        )
    if not preds:
        raise MubenchError(
            "predictions is empty: the split has no samples, so ROUGE-L cannot be computed on it"
        )
    scorer = _scorer()
    return np.array(
        [scorer.score(ref, pred)["rougeL"].recall for pred, ref in zip(preds, refs)], dtype=np.float64
    )


def rouge_l_recall(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean ROUGE-L recall over the samples (TOFU's ``rougeL_recall`` aggregate)."""
    return float(rouge_l_recalls(predictions, references).mean())
