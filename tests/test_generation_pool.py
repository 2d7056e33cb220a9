"""The generation report generates on all its splits in one pooled pass per model (prompts of every split
sorted by length together), on tiny GPT-2s built from configs: each split gets the generations and
truncation counts its own pass gives, the pool takes fewer batches than the splits apart, and a reference
model's cached split is keyed by the pool it was generated in."""

from __future__ import annotations

import pytest
import torch

from mubench_hf.kinds.generation.report import generation_report
from mubench_hf.kinds.generation.score import generate_pooled, score_split
from mubench_hf.modalities.prompt_encoding import PromptEncoder
from tests.test_generation_report import NAMES, make_tokenizer, qa_rows, tiny_gpt2

pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_reference_cache")

CACHE_KIND = "generation_scores"


@pytest.fixture(scope="module")
def splits():
    # sizes 6, 2 and 4 with batches of 4: apart 2 + 1 + 1 batches, pooled 3; some prompts longer than the
    # context (cut from the left and counted)
    return {
        "forget": qa_rows(NAMES[:3], 0, long_prompts=2),
        "retain": qa_rows(NAMES[3:4], 100),
        "holdout": qa_rows(NAMES[8:], 200),
    }


@pytest.fixture(scope="module")
def tokenizer(splits):
    return make_tokenizer(splits)


def counting_generate(model) -> list[int]:
    """Wrap ``model.generate`` to record each batch's size."""
    sizes: list[int] = []
    real = model.generate

    def generate(*args, **kwargs):
        sizes.append(int(kwargs["input_ids"].shape[0]))
        return real(*args, **kwargs)

    model.generate = generate
    return sizes


def test_pooled_generations_are_each_splits_own(tokenizer, splits):
    model = tiny_gpt2(len(tokenizer), positions=24)
    encoder = PromptEncoder(tokenizer, seq2seq=False, chat=False, context=24)
    sizes = counting_generate(model)
    settings = dict(max_new_tokens=6, batch_size=4)
    with torch.inference_mode():
        pooled = generate_pooled(model, tokenizer, encoder, splits, **settings)
        assert sizes == [4, 4, 4]  # 12 prompts in 3 batches
        for name, split in splits.items():
            own = score_split(model, tokenizer, encoder, split, generate=True, alternatives=False, score=False,
                              progress=False, name=name, **settings)  # fmt: skip
            assert pooled[name] == (own.predictions, own.truncated_rows), name
    assert sizes[3:] == [4, 2, 2, 4]  # apart: 4 batches
    assert pooled["forget"][1] == {0, 1}  # the long prompts were cut, and counted on their own split
    assert sum(bool(p) for texts, _ in pooled.values() for p in texts) > 6  # the model says something


def test_the_report_generates_once_per_model_in_one_pool(tokenizer, splits):
    model, original = tiny_gpt2(len(tokenizer), seed=0), tiny_gpt2(len(tokenizer), seed=1)
    sizes, original_sizes = counting_generate(model), counting_generate(original)
    generation_report(model, tokenizer, splits, original_model=original, batch_size=4, max_new_tokens=4,
                      progress=False)  # fmt: skip
    assert sizes == original_sizes == [4, 4]  # forget and retain (8 rows) pooled; never the holdout


def test_a_reference_split_is_cached_under_its_pool(tokenizer, splits, fresh_reference_cache):
    model, original = tiny_gpt2(len(tokenizer), seed=0), tiny_gpt2(len(tokenizer), seed=1)

    def report(generate_splits):
        return generation_report(model, tokenizer, splits, original_model=original, batch_size=4,
                                 max_new_tokens=4, progress=False, generate_splits=generate_splits)  # fmt: skip

    first = report(["forget", "retain"])
    assert fresh_reference_cache.computed[CACHE_KIND] == 3
    # forget generated in another pool (alone): its entry is not the one generated beside retain (retain,
    # not generated now, is another entry too; the holdout's is served)
    report(["forget"])
    assert fresh_reference_cache.computed[CACHE_KIND] == 5 and fresh_reference_cache.hits[CACHE_KIND] == 1
    # the first pool again: every entry served, the same values
    assert report(["forget", "retain"]) == first
    assert fresh_reference_cache.computed[CACHE_KIND] == 5 and fresh_reference_cache.hits[CACHE_KIND] == 4
