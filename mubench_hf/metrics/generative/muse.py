"""MUSE's memorisation metrics (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way Evaluation for Language
Models", ``swj0419/muse_bench``): VerbMem and KnowMem, both ROUGE-L **F1 without stemming**.

* ``metrics/logger.py`` (``RougeEvalLogger``) scores every generation with Google's ``rouge-score``:
  ``RougeScorer(["rougeL", ...], use_stemmer=False).score(gt, output)["rougeL"].fmeasure`` and averages
  the per-sample values (``mean_rougeL``; ``eval.py`` multiplies by 100, we keep [0, 1] like every other
  ROUGE value of the report). TOFU's and open-unlearning's ROUGE (:mod:`.rouge`) is recall *with*
  stemming: the two are not interchangeable, hence these separate functions.
* VerbMem (``metrics/verbmem.py``): greedy continuation of a prefix of forget text, scored against the
  true continuation cut to the generation budget (``gt`` tokenised, its first ``max_new_tokens`` tokens
  decoded again). The cut needs the model's tokenizer; :func:`verbmem_reference` does it.
* KnowMem (``metrics/knowmem.py``): a few-shot prompt (``"Question: q\\nAnswer: a\\n\\n"`` per in-context
  example, then ``"Question: q\\nAnswer: "``), greedy answer cut before the first ``"\\n\\n"``,
  ``"\\nQuestion"`` or ``"Question:"`` (:func:`knowmem_answer`), scored against the reference answer.

PrivLeak is :func:`mubench_hf.metrics.generative.privleak.privleak` (MUSE's formula, with the retrain AUC
*measured* on the retrain model rather than MUSE's hard-coded ``AUC_RETRAIN`` table in ``constants.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from rouge_score import rouge_scorer

from mubench_hf.errors import MubenchError

from .rouge import checked_texts

#: where MUSE's KnowMem cuts a generated answer (``metrics/knowmem.py``, ``get_prefix_before_words_occur``)
KNOWMEM_STOPWORDS = ("\n\n", "\nQuestion", "Question:")
#: MUSE's generation budgets (``eval.py``): VerbMem 128 new tokens, KnowMem 32
VERBMEM_MAX_NEW_TOKENS = 128
KNOWMEM_MAX_NEW_TOKENS = 32
QA_TEMPLATE = "Question: {question}\nAnswer: "


@lru_cache(maxsize=1)
def _scorer() -> rouge_scorer.RougeScorer:
    # No stemming: MUSE's RougeEvalLogger builds its scorer with use_stemmer=False.
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l_f1s(predictions: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """Per-sample ROUGE-L F1 (no stemming) of each prediction against its reference, in [0, 1]."""
    preds, refs = checked_texts(predictions, "predictions"), checked_texts(references, "references")
    if len(preds) != len(refs):
        raise MubenchError(
            f"predictions has {len(preds)} texts but references has {len(refs)}; give one generation per reference"
        )
    if not preds:
        raise MubenchError("predictions is empty: the probe split has no rows, so ROUGE-L F1 is undefined")
    scorer = _scorer()
    return np.array([scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(preds, refs)])


def knowmem_answer(generation: str) -> str:
    """A generated answer cut before MUSE's stop strings (applied in order, as MUSE does)."""
    for stop in KNOWMEM_STOPWORDS:
        generation = generation.split(stop)[0]
    return generation


def verbmem(predictions: Sequence[str], references: Sequence[str]) -> float:
    """MUSE's VerbMem: mean ROUGE-L F1 of continuations against the (budget-cut) true continuations."""
    return float(rouge_l_f1s(predictions, references).mean())


def knowmem(predictions: Sequence[str], answers: Sequence[str]) -> float:
    """MUSE's KnowMem: mean ROUGE-L F1 of the answers (cut at the stop strings) against the references."""
    return float(
        rouge_l_f1s([knowmem_answer(p) for p in checked_texts(predictions, "predictions")], answers).mean()
    )


def verbmem_reference(tokenizer: Any, continuation: str, max_new_tokens: int) -> str:
    """The true continuation as MUSE scores it: its first ``max_new_tokens`` tokens, decoded again (special
    tokens skipped, tokenisation spaces cleaned up), so a model is not asked for more than it may write.
    As in MUSE's ``verbmem.py`` the ids include the tokenizer's special tokens (Llama's BOS takes one of the
    budget's places)."""
    ids = tokenizer(continuation, add_special_tokens=True)["input_ids"][:max_new_tokens]
    return tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)


def few_shot_prompt(question: str, examples: Sequence[tuple[str, str]]) -> str:
    """MUSE's KnowMem prompt: the in-context (question, answer) pairs, then the question."""
    shots = "".join(QA_TEMPLATE.format(question=q) + f"{a}\n\n" for q, a in examples)
    return shots + QA_TEMPLATE.format(question=question)
