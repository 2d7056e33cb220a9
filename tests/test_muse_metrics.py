"""MUSE's VerbMem, KnowMem and PrivLeak, each re-derived on identical inputs from swj0419/muse_bench's code:
``metrics/logger.py`` (RougeEvalLogger: ROUGE-L F1, use_stemmer=False), ``metrics/knowmem.py`` (few-shot
prompt, stop strings), ``metrics/verbmem.py`` (gt cut to max_new_tokens tokens), ``metrics/privleak.py`` +
``eval.py`` (Min-40 % AUC with sklearn's roc_curve/auc, (auc − auc_retrain) / auc_retrain · 100)."""

from __future__ import annotations

import numpy as np
import pytest
from rouge_score import rouge_scorer
from sklearn.metrics import auc as sk_auc
from sklearn.metrics import roc_curve

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.generative import mia_auc, min_k_scores, privleak
from mubench_hf.metrics.generative.muse import (
    few_shot_prompt,
    knowmem,
    knowmem_answer,
    rouge_l_f1s,
    verbmem,
    verbmem_reference,
)

GTS = ["The cats were running across the gardens", "loop devices", "the numeric group ID.", "data sink"]
OUTPUTS = ["the cat runs across gardens quickly", "loop device", "numeric group identifier", ""]


def _muse_logger_rouge_l(gt: str, output: str) -> float:
    # metrics/logger.py: RougeScorer(rouge_types=["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=False)
    scorer = rouge_scorer.RougeScorer(
        rouge_types=["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=False
    )
    return scorer.score(gt, output)["rougeL"].fmeasure


def _muse_prefix_before(string: str, words: list[str]) -> str:
    # metrics/knowmem.py: get_prefix_before_words_occur
    for word in words:
        string = string.split(word)[0]
    return string


def test_rouge_l_f1_is_museS_logger_without_stemming() -> None:
    ours = rouge_l_f1s(OUTPUTS, GTS)
    theirs = [_muse_logger_rouge_l(g, o) for g, o in zip(GTS, OUTPUTS)]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert verbmem(OUTPUTS, GTS) == pytest.approx(float(np.mean(theirs)))
    # stemming would match "cats"/"cat" and "running"/"runs": MUSE's score (and ours) does not
    stemmed = (
        rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score(GTS[0], OUTPUTS[0])["rougeL"].fmeasure
    )
    assert ours[0] < stemmed


def test_knowmem_cuts_at_museS_stop_strings_then_scores_f1() -> None:
    generations = [
        "loop devices\n\nQuestion: what",
        "the numeric\nQuestion: x",
        "Question: data sink",
        "x\n\ny",
    ]
    answers = ["loop devices", "the numeric group ID.", "data sink", "x"]
    stops = ["\n\n", "\nQuestion", "Question:"]
    cut = [_muse_prefix_before(g, stops) for g in generations]
    assert [knowmem_answer(g) for g in generations] == cut
    expected = np.mean([_muse_logger_rouge_l(a, c) for a, c in zip(answers, cut)])
    assert knowmem(generations, answers) == pytest.approx(expected)


def test_few_shot_prompt_is_museS() -> None:
    icl = [("What is null(4)?", "data sink"), ("What is loop(4)?", "loop devices")]
    general = ""
    for q, a in icl:  # metrics/knowmem.py builds the prompt this way
        general += f"Question: {q}\nAnswer: {a}\n\n"
    assert few_shot_prompt("What is GID?", icl) == general + "Question: What is GID?\nAnswer: "
    assert few_shot_prompt("Q?", []) == "Question: Q?\nAnswer: "


def test_verbmem_reference_cuts_the_truth_to_the_token_budget() -> None:
    from tests.generation_testlib import tiny_tokenizer

    tok = tiny_tokenizer()
    gt = " Alma Torv was born in Riga. Bruno Kell wrote Salt Roads."
    ids = tok(gt, add_special_tokens=True)["input_ids"][:4]  # verbmem.py: input_ids[:, :max_new_tokens]
    assert verbmem_reference(tok, gt, 4) == tok.decode(
        ids, skip_special_tokens=True, clean_up_tokenization_spaces=True
    )
    assert len(verbmem_reference(tok, gt, 4).split()) == 4


def _muse_min_k(all_prob: list[float], ratio: float = 0.4) -> float:
    # metrics/privleak.py inference(): -mean of the int(len * ratio) lowest token log-probs
    k_length = int(len(all_prob) * ratio)
    return float(-np.mean(np.sort(all_prob)[:k_length]))


def _muse_auc(forget: list[float], holdout: list[float]) -> float:
    # metrics/privleak.py eval(): split0 = forget (label 0), split1 = holdout (label 1), sweep(ppl, y)
    ppl = np.array(forget + holdout)
    y = np.array([0] * len(forget) + [1] * len(holdout))
    fpr, tpr, _ = roc_curve(y, -ppl)
    return float(sk_auc(fpr, tpr))


def test_privleak_is_museS_formula_with_a_measured_retrain_auc() -> None:
    rng = np.random.default_rng(0)
    # token log-probs of 12 forget and 12 holdout texts under the unlearned and the retrain model
    make = lambda shift: [list(rng.normal(shift, 1.0, size=rng.integers(5, 30))) for _ in range(12)]  # noqa: E731
    forget, holdout, r_forget, r_holdout = make(-0.5), make(-2.0), make(-1.9), make(-2.0)
    muse = [[_muse_min_k(t) for t in texts] for texts in (forget, holdout, r_forget, r_holdout)]
    ours = [
        min_k_scores([np.array(t) for t in texts], k=0.4) for texts in (forget, holdout, r_forget, r_holdout)
    ]
    for m, o in zip(muse, ours):
        np.testing.assert_allclose(o, m, rtol=0, atol=1e-12)
    auc, retrain_auc = _muse_auc(muse[0], muse[1]), _muse_auc(muse[2], muse[3])
    expected = (auc - retrain_auc) / retrain_auc * 100  # eval.py, with AUC_RETRAIN measured, not a constant
    assert privleak(mia_auc(ours[0], ours[1]), mia_auc(ours[2], ours[3])) == pytest.approx(expected)
    assert expected < -20  # the forget texts still look like members: under-unlearning


def test_bad_inputs_are_named() -> None:
    with pytest.raises(MubenchError, match="one generation per reference"):
        rouge_l_f1s(["a"], ["a", "b"])
    with pytest.raises(MubenchError, match="no rows"):
        verbmem([], [])
    with pytest.raises(MubenchError, match="single string"):
        knowmem("abc", ["abc"])


def test_the_evaluate_modules_give_museS_values(hf_cache) -> None:
    import evaluate

    from mubench_hf.resources import metric_path

    def load(name: str):
        return evaluate.load(metric_path(name), cache_dir=str(hf_cache / "metrics"))

    theirs = np.mean([_muse_logger_rouge_l(g, o) for g, o in zip(GTS, OUTPUTS)])
    assert load("verbmem").compute(predictions=OUTPUTS, references=GTS) == {"verbmem": pytest.approx(theirs)}
    generations = ["loop devices\n\nQuestion: what", "the numeric\nQuestion: x", "Question: data sink", "y"]
    stops = ["\n\n", "\nQuestion", "Question:"]
    expected = np.mean(
        [_muse_logger_rouge_l(a, _muse_prefix_before(g, stops)) for a, g in zip(GTS, generations)]
    )
    assert load("knowmem").compute(predictions=generations, references=GTS) == {
        "knowmem": pytest.approx(expected)
    }
    # the cards' examples
    assert load("verbmem").compute(predictions=["loop device"], references=["loop devices"]) == {
        "verbmem": pytest.approx(0.5)
    }
    assert load("knowmem").compute(predictions=["data sink\n\nQuestion: what"], references=["data sink"]) == {
        "knowmem": pytest.approx(1.0)
    }
