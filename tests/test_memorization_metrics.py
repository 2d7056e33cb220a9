"""open-unlearning's exact_memorization and extraction_strength beside ours, on identical logits (issue 23).

open-unlearning's code (``src/evals/metrics/memorization.py`` of locuslab/open-unlearning: ``exact_memorization``,
``extraction_strength``; the token slicing of ``tokenwise_vocab_logprobs`` in ``src/evals/metrics/utils.py``) is
re-derived below in torch, then compared row by row with what this package computes from the same logits:

* ``exact_memorization`` and ``extraction_strength_open_unlearning`` equal open-unlearning's on every row;
* ``extraction_strength`` (the definition) equals theirs except on rows whose last answer token is wrong, where
  theirs is 1/|y| and ours 0 (their loop never tests the empty suffix).
"""

from __future__ import annotations

from pathlib import Path

import evaluate
import numpy as np
import pytest
import torch

from mubench_hf.metrics.generative import (
    exact_memorization,
    exact_memorizations,
    extraction_strength_open_unlearning,
    extraction_strengths,
    extraction_strengths_open_unlearning,
)
from mubench_hf.resources import list_metrics, metric_path

IGNORE_INDEX = -100
EOS = 1


def _their_token_slices(logits: torch.Tensor, labels: torch.Tensor) -> tuple[list, list]:
    """open-unlearning's ``tokenwise_vocab_logprobs(..., return_labels=True)``: log-softmax without the last
    position, the labelled positions minus the last one (its eos), the log-probs that predict them."""
    log_probs = torch.log_softmax(logits, dim=-1)[:, :-1, :]
    out_lp, out_labels = [], []
    for i in range(logits.shape[0]):
        positions = (labels[i] != IGNORE_INDEX).nonzero(as_tuple=True)[0][:-1]
        if len(positions) == 0:
            out_lp.append(torch.zeros(0, logits.shape[-1]))
            out_labels.append(torch.tensor([]))
            continue
        start, end = positions[0].item(), positions[-1].item()
        out_lp.append(log_probs[i, start - 1 : end])
        out_labels.append(labels[i][positions])
    return out_lp, out_labels


def _their_exact_memorization(logits: torch.Tensor, labels: torch.Tensor) -> list[float | None]:
    scores: list[float | None] = []
    for lp, lab in zip(*_their_token_slices(logits, labels)):
        if len(lab) == 0:
            scores.append(None)
        else:
            scores.append(((torch.argmax(lp, dim=-1) == lab).sum() / len(lab)).item())
    return scores


def _their_extraction_strength(logits: torch.Tensor, labels: torch.Tensor) -> list[float]:
    scores = []
    for lp, lab in zip(*_their_token_slices(logits, labels)):
        n = len(lab)
        preds = torch.argmax(lp, dim=-1)
        k = 0
        for k in range(n):
            if torch.equal(preds[k:], lab[k:]):
                break
        scores.append(0.0 if n == 0 else 1 - k / n)
    return scores


def _our_inputs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[list, list]:
    """What this package's report scores: the argmax at each answer position (teacher-forced: the logits one
    step before it) and the answer's tokens, the final end-of-sequence token left out."""
    predicted, answers = [], []
    for i in range(logits.shape[0]):
        positions = (labels[i] != IGNORE_INDEX).nonzero(as_tuple=True)[0]
        target = labels[i][positions].numpy()
        argmax = logits[i, positions - 1].argmax(-1).numpy()
        if target.size and target[-1] == EOS:
            target, argmax = target[:-1], argmax[:-1]
        predicted.append(argmax)
        answers.append(target)
    return predicted, answers


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Random logits for 40 rows of 12 positions (prompt of 3-5 tokens, answer ending in eos), pushed toward
    the answer on most positions so that rows range from all right to all wrong; rows 0-3 get their last
    answer token (before eos) forced wrong, row 4 is all right."""
    gen = torch.Generator().manual_seed(0)
    rows, length, vocab = 40, 12, 9
    labels = torch.full((rows, length), IGNORE_INDEX)
    logits = torch.randn(rows, length, vocab, generator=gen)
    for i in range(rows):
        prompt = 3 + i % 3
        answer = torch.randint(2, vocab, (length - prompt - 1,), generator=gen)
        labels[i, prompt:-1] = answer
        labels[i, -1] = EOS
        hit = torch.rand(length, generator=gen) < (0.5 + 0.5 * (i % 4 != 1))
        for pos in range(prompt, length):
            if hit[pos] or i == 4:
                logits[i, pos - 1, labels[i, pos]] += 10.0
        if i < 4:  # the last answer token (before eos) is mispredicted
            last = length - 2
            logits[i, last - 1, labels[i, last]] -= 50.0
    return logits, labels


def test_open_unlearning_variants_match_their_code_on_identical_logits(batch):
    logits, labels = batch
    predicted, answers = _our_inputs(logits, labels)
    theirs_es = np.array(_their_extraction_strength(logits, labels))
    theirs_em = np.array(_their_exact_memorization(logits, labels), dtype=float)

    assert extraction_strengths_open_unlearning(predicted, answers) == pytest.approx(theirs_es, abs=1e-12)
    assert exact_memorizations(predicted, answers) == pytest.approx(theirs_em, abs=1e-6)
    assert exact_memorization(predicted, answers) == pytest.approx(theirs_em.mean(), abs=1e-6)
    assert extraction_strength_open_unlearning(predicted, answers) == pytest.approx(theirs_es.mean())

    ours = extraction_strengths(predicted, answers)
    lengths = np.array([len(a) for a in answers])
    last_wrong = np.array([p[-1] != a[-1] for p, a in zip(predicted, answers)])
    assert last_wrong[:4].all() and last_wrong.sum() >= 4  # the forced rows, maybe more by chance
    # ours differs exactly where the last token is wrong: 0 here, 1/|y| there
    assert ours[last_wrong] == pytest.approx(np.zeros(last_wrong.sum()))
    assert theirs_es[last_wrong] == pytest.approx(1 / lengths[last_wrong])
    assert ours[~last_wrong] == pytest.approx(theirs_es[~last_wrong])
    assert ours[4] == 1.0 and theirs_em[4] == 1.0  # the row that is right everywhere
    assert 0 < theirs_em.min() < theirs_em.max() <= 1.0  # the batch spans partial memorisation


def test_by_hand_and_empty_rows():
    # [1,2,3] vs [1,2,9]: 2 of 3 tokens right; the last is wrong -> ours 0, open-unlearning's 1/3
    assert exact_memorizations([[1, 2, 3], [9, 2, 3]], [[1, 2, 9], [1, 2, 3]]) == pytest.approx(
        [2 / 3, 2 / 3]
    )
    assert extraction_strengths_open_unlearning([[1, 2, 3], [9, 2, 3]], [[1, 2, 9], [1, 2, 3]]) == (
        pytest.approx([1 / 3, 2 / 3])
    )
    # a row without answer tokens: left out of exact memorisation's mean (None there), 0 in extraction strength
    assert exact_memorization([[1, 2], []], [[1, 9], []]) == pytest.approx(0.5)
    assert exact_memorization([[]], [[]]) is None
    assert extraction_strengths_open_unlearning([[]], [[]]) == pytest.approx([0.0])
    with pytest.raises(ValueError, match="same number of tokens"):
        exact_memorizations([[1, 2]], [[1]])


def test_evaluate_modules(tmp_path: Path):
    assert "exact_memorization" in list_metrics()
    cache = str(tmp_path / "metrics")
    em = evaluate.load(metric_path("exact_memorization"), cache_dir=cache)
    assert em.compute(predictions=[[5, 7, 9], [1]], references=[[4, 7, 9], [1]]) == {
        "exact_memorization": pytest.approx((2 / 3 + 1) / 2)
    }
    es = evaluate.load(metric_path("extraction_strength"), cache_dir=cache)
    # [5,7,8] vs [5,7,9]: the last token is wrong -> 0 by the definition, 1/3 by open-unlearning's loop
    assert es.compute(predictions=[[5, 7, 8]], references=[[5, 7, 9]]) == {"extraction_strength": 0.0}
    assert es.compute(predictions=[[5, 7, 8]], references=[[5, 7, 9]], variant="open_unlearning") == {
        "extraction_strength_open_unlearning": pytest.approx(1 / 3)
    }
    with pytest.raises(ValueError, match="variant must be"):
        es.compute(predictions=[[1]], references=[[1]], variant="ours")


def test_declared_with_their_names():
    from mubench_hf.metrics.declarations import metric_spec

    variant = metric_spec("extraction_strength_open_unlearning", "generation")
    assert variant is not None and "open-unlearning" in variant.reference and "1/|y|" in variant.reference
    assert "open-unlearning" in metric_spec("exact_memorization", "generation").reference
