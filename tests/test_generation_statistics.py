"""The generation report computes only the per-token statistics its metrics read (min-k %++'s vocabulary
mean and variance, the argmax), on tiny GPT-2s built from configs: each statistic has the same value
whichever others were computed, the report's numbers are the same as with every statistic computed, and a
reference-cache entry scored without a statistic is never served to a caller that needs it (in memory or
from a cache folder)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mubench_hf.errors import MubenchError
from mubench_hf.kinds.generation import report as report_module
from mubench_hf.kinds.generation.metrics import needed_statistics
from mubench_hf.kinds.generation.reference_scores import ReusedPromptEncoder, reference_scores
from mubench_hf.kinds.generation.report import generation_report
from mubench_hf.kinds.generation.score import OPTIONAL_STATISTICS, score_answers
from mubench_hf.kinds.reference_cache import REFERENCE_CACHE, directory
from tests.test_generation_report import EOS, NAMES, PAD, make_tokenizer, qa_rows, tiny_gpt2

pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_reference_cache")

CACHE_KIND = "generation_scores"


@pytest.fixture(scope="module")
def splits():
    return {
        "forget": qa_rows(NAMES[:2], 0),
        "retain": qa_rows(NAMES[2:6], 100),
        "holdout": qa_rows(NAMES[8:], 200),
    }


@pytest.fixture(scope="module")
def tokenizer(splits):
    return make_tokenizer(splits)


def test_each_statistic_is_the_same_whichever_others_are_computed(tokenizer):
    model = tiny_gpt2(len(tokenizer))
    rng = np.random.default_rng(0)
    pairs = [
        (
            rng.integers(3, len(tokenizer), 1 + i % 4).tolist(),
            [*rng.integers(3, len(tokenizer), 2 + i % 5), EOS],
        )
        for i in range(9)
    ]
    with torch.inference_mode():  # as the report runs it
        full = score_answers(model, pairs, pad_token_id=PAD, batch_size=4)
    assert all(set(s) == {"log_probs", "target", *OPTIONAL_STATISTICS} for s in full)
    for wanted in ((), ("argmax",), ("mean", "var"), ("var",)):
        with torch.inference_mode():
            part = score_answers(model, pairs, pad_token_id=PAD, batch_size=4, statistics=wanted)
        for got, ref in zip(part, full, strict=True):
            assert set(got) == {"log_probs", "target", *wanted}
            for name, value in got.items():
                assert value.dtype == ref[name].dtype
                np.testing.assert_array_equal(value, ref[name])  # bit for bit


def test_unknown_statistic_is_refused(tokenizer):
    with pytest.raises(MubenchError, match="statistics must name some of"):
        score_answers(tiny_gpt2(len(tokenizer)), [([3], [4, EOS])], pad_token_id=PAD, batch_size=1,
                      statistics=("entropy",))  # fmt: skip


def test_needed_statistics_follow_the_metrics():
    assert needed_statistics("forget", holdout="holdout", retrain=False) == ("mean", "var", "argmax")
    assert needed_statistics("holdout", holdout="holdout", retrain=False) == ("mean", "var")
    assert needed_statistics("retain", holdout="holdout", retrain=False) == ()
    assert needed_statistics("forget", holdout=None, retrain=False) == ("argmax",)
    assert needed_statistics("forget", holdout="holdout", retrain=True) == ()


def test_report_values_are_those_with_every_statistic(tokenizer, splits, monkeypatch):
    model, original, retrain = (tiny_gpt2(len(tokenizer), seed=s) for s in range(3))

    def report():
        return generation_report(model, tokenizer, splits, original_model=original, retrain_model=retrain,
                                 holdout_split="holdout", batch_size=4, max_new_tokens=4, progress=False)  # fmt: skip

    lean = report()
    REFERENCE_CACHE.clear()
    # as when a plugin metric is registered: every statistic of every split
    monkeypatch.setattr(report_module, "plugin_specs", lambda kind: ["a plugin"])
    full = report()
    assert lean == full
    assert lean["mia_min_k_plus_plus_auc"] is not None and lean["original_extraction_strength"] is not None


def _scores(model, tokenizer, split, statistics):
    encoder = ReusedPromptEncoder(tokenizer, seq2seq=False, chat=False, context=64)
    with torch.inference_mode():
        return reference_scores(model, tokenizer, encoder, split, generate=False, alternatives=True,
                                max_new_tokens=4, batch_size=4, progress=False, name="forget",
                                statistics=statistics)  # fmt: skip


@pytest.mark.parametrize("on_disk", [False, True])
def test_an_entry_without_a_statistic_is_not_served_to_a_caller_that_needs_it(
    tokenizer, splits, tmp_path, on_disk, fresh_reference_cache
):
    model, split = tiny_gpt2(len(tokenizer)), splits["forget"]
    with directory(tmp_path if on_disk else None):
        lean = _scores(model, tokenizer, split, ())
        assert "mean" not in lean.answer[0]
        if on_disk:
            fresh_reference_cache.clear()  # as a new process would start: only the folder knows the entry
        full = _scores(model, tokenizer, split, ("mean", "var", "argmax"))
        assert fresh_reference_cache.computed[CACHE_KIND] == (1 if on_disk else 2)
        assert fresh_reference_cache.hits[CACHE_KIND] == 0
        assert all({"mean", "var", "argmax"} <= set(s) for s in full.answer + full.paraphrase)
        # each entry is served to a caller that asks for what it holds
        again = _scores(model, tokenizer, split, ())
        assert fresh_reference_cache.hits[CACHE_KIND] == 1
    assert set(again.answer[0]) == {"log_probs", "target"}
    np.testing.assert_array_equal(again.answer[0]["log_probs"], full.answer[0]["log_probs"])
    if on_disk:
        assert len(list(tmp_path.glob(f"{CACHE_KIND}-*.npz"))) == 2
