"""Batched generation shares a prompt beginning every prompt of a batch has (few-shot examples, as MUSE's
KnowMem probes have) and scoring computes the head at the answer positions only, on tiny GPT-2s built from
configs: the generations equal one unpadded ``model.generate`` per prompt, the shared beginning is encoded
once per batch group, and the answer statistics equal those read from every position's logits."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from mubench_hf.kinds.generation import decode
from mubench_hf.kinds.generation.decode import generate_batched, shared_prefix_length
from mubench_hf.kinds.generation.score import score_answers
from tests.test_generation_report import (
    NAMES,
    PAD,
    direct_ids,
    make_tokenizer,
    one_by_one,
    qa_rows,
    tiny_gpt2,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tokenizer():
    return make_tokenizer({"all": qa_rows(NAMES, 0)})


def few_shot_prompts(tokenizer) -> list[list[int]]:
    """Ten probes behind the same three answered examples (about 40 shared tokens), as MUSE's KnowMem builds
    them, of unequal lengths (the batches are padded)."""
    rows = qa_rows(NAMES, 0)
    examples = "".join(f"{r['prompt']}{r['completion']}\n\n" for r in rows.select(range(3)))
    return [tokenizer(examples + p)["input_ids"] for p in rows.select(range(6, 16))["prompt"]]


def test_the_shared_beginning_is_counted_and_leaves_a_token_to_read():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 5]]) == 2
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3]]) == 2  # identical rows: the last token is read
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2]]) == 1  # the shorter row keeps a token
    assert shared_prefix_length([[7, 2], [1, 2]]) == 0
    assert shared_prefix_length([[5]]) == 0


def test_generations_behind_a_shared_beginning_equal_one_prompt_at_a_time(tokenizer, monkeypatch):
    model = tiny_gpt2(len(tokenizer), positions=128)
    prompts = few_shot_prompts(tokenizer)
    assert shared_prefix_length(prompts) >= decode.MIN_SHARED_PREFIX
    assert len({len(p) for p in prompts}) > 1  # padded batches
    beginnings = []
    real = model.forward

    @functools.wraps(real)  # the signature stays the model's (it names the cache argument)
    def forward(*args, **kwargs):
        ids = kwargs.get("input_ids")
        if ids is not None and ids.shape[0] == 1 and kwargs.get("use_cache"):
            beginnings.append(ids.shape[1])  # a shared beginning encoded on its own
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "forward", forward)
    shared = generate_batched(model, tokenizer, prompts, max_new_tokens=8, batch_size=4)
    # 10 probes in 3 batches: each batch's beginning encoded once (the same beginning is not encoded twice)
    assert 1 <= len(beginnings) <= 3 and min(beginnings) >= decode.MIN_SHARED_PREFIX
    monkeypatch.setattr(model, "forward", real)
    assert shared == one_by_one(model, tokenizer, prompts, 8)
    monkeypatch.setattr(decode, "MIN_SHARED_PREFIX", 10**6)  # sharing off: the plain left-padded batches
    assert shared == generate_batched(model, tokenizer, prompts, max_new_tokens=8, batch_size=4)
    assert sum(bool(t) for t in shared) > len(shared) // 2  # the model says something


def test_a_row_behind_the_shared_beginning_reads_as_it_does_alone(tokenizer):
    """What generation reads: each row's next-token logits at every step, after the shared beginning's cache
    and the padded rest, equal those of the row generated alone (the padding between them is masked, the
    positions unshifted)."""
    model = tiny_gpt2(len(tokenizer), positions=128)
    prompts = few_shot_prompts(tokenizer)[3:7]  # lengths 59, 56, 59, 56: two rows padded
    shared = shared_prefix_length(prompts)
    caches = decode._PrefixCaches(model, model.generation_config)
    ids, mask = decode._prefixed_left_pad(prompts, shared, PAD, torch.device("cpu"))
    assert (mask == 0).any()  # padding really sits between the beginning and the rest
    settings = dict(max_new_tokens=4, do_sample=False, pad_token_id=PAD, output_scores=True,
                    return_dict_in_generate=True)  # fmt: skip
    with torch.no_grad():  # generate as generate_batched calls it: the cache of the beginning, then the rows
        cache = caches.for_batch(prompts[0][:shared], len(prompts))
        out = model.generate(input_ids=ids, attention_mask=mask, **{caches.argument: cache}, **settings)
        batched = torch.stack(out.scores, dim=1)  # rows x steps x vocabulary
        alone = torch.cat([torch.stack(model.generate(input_ids=torch.tensor([p]), **settings).scores, dim=1)
                           for p in prompts])  # fmt: skip
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(alone[0, 0], alone[1, 0], atol=1e-3)  # the rows really differ


def test_alike_prompts_fill_whole_batches_of_their_own(tokenizer):
    alike = few_shot_prompts(tokenizer)  # 10 alike
    short = [[5, 6, 7], [5, 6], [8, 9, 10, 11]]
    prompts = [short[0], *alike[:5], short[1], *alike[5:], short[2]]
    alike_rows = {i for i, p in enumerate(prompts) if len(p) > 10}
    batches = [set(map(int, b)) for b in decode._batches(prompts, batch_size=4, seq2seq=False)]
    assert sorted(i for b in batches for i in b) == list(range(len(prompts)))  # each prompt once
    # two whole batches of alike prompts; the 2 left join the 3 others: 4 batches, as by length alone
    assert [len(b) for b in batches] == [4, 4, 4, 1]
    assert batches[0] <= alike_rows and batches[1] <= alike_rows
    assert len(alike_rows - batches[0] - batches[1]) == 2
    # fewer alike prompts than a batch: batched by length with the others
    assert [len(b) for b in decode._batches(prompts[:3], batch_size=4, seq2seq=False)] == [3]
    # a seq2seq model is never grouped: batches by length alone
    by_length = decode._batches(prompts, batch_size=4, seq2seq=True)
    assert [len(b) for b in by_length] == [4, 4, 4, 1]
    assert [len(prompts[int(i)]) for b in by_length for i in b] == sorted(len(p) for p in prompts)


class WithoutLogitsToKeep(torch.nn.Module):
    """A causal LM that refuses ``logits_to_keep`` (older transformers) or ignores it (returns every position)."""

    def __init__(self, model, refuse: bool):
        super().__init__()
        self.model, self.refuse, self.config = model, refuse, model.config

    def get_output_embeddings(self):
        return self.model.get_output_embeddings()

    def forward(self, input_ids, attention_mask, **kwargs):
        if "logits_to_keep" in kwargs and self.refuse:
            raise TypeError("forward() got an unexpected keyword argument 'logits_to_keep'")
        return self.model(input_ids=input_ids, attention_mask=attention_mask)


@pytest.mark.parametrize("refuse", [True, False])
def test_answer_statistics_are_those_of_every_positions_logits(tokenizer, refuse):
    model = tiny_gpt2(len(tokenizer))
    rows = qa_rows(NAMES[:5], 0)
    pairs = [direct_ids(tokenizer, r["prompt"], r["completion"]) for r in rows]
    with torch.no_grad():
        kept = score_answers(model, pairs, pad_token_id=PAD, batch_size=4)
        every = score_answers(WithoutLogitsToKeep(model, refuse), pairs, pad_token_id=PAD, batch_size=4)
    assert len(kept) == len(every) == len(pairs)
    for a, b in zip(kept, every):
        assert a.keys() == b.keys() == {"log_probs", "mean", "var", "argmax", "target"}
        np.testing.assert_array_equal(a["argmax"], b["argmax"])
        np.testing.assert_array_equal(a["target"], b["target"])
        for name in ("log_probs", "mean", "var"):  # the head on fewer rows: float32 rounding only
            np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6)
