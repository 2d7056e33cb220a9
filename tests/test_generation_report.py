"""The generation report (mubench_hf.kinds.generation.report) on a tiny GPT-2 and a tiny T5 built from configs,
with a word-level tokenizer trained here by ``tokenizers`` on the test's own TOFU-shaped text.

What is checked: batched, left-padded greedy generation gives exactly what a per-sample ``model.generate``
loop gives; the batched probabilities match unbatched ``model(..., labels=...)`` losses; a GPT-2 fine-tuned
on forget + retain scores ROUGE-L, extraction strength and MIA AUCs of 1 where it memorised and the report
says so against its untrained self; truncation is counted; generations.jsonl holds every generated row;
a tokenizer without a pad token gets one (with a warning); bad input is refused with a clear message.
"""

from __future__ import annotations

import json
import math
import warnings

import datasets
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

from mubench_hf.kinds.generation.report import (
    GENERATIONS_FILE,
    REPORT_METRICS,
    PromptEncoder,
    generation_report,
)

NAMES = "alice bob carol dave erin frank grace heidi ivan judy".split()
CITIES = "paris rome oslo lima cairo delhi tokyo quito dakar perth".split()
GENRES = "poetry drama fantasy horror satire history mystery romance science travel".split()
PAD, EOS = 1, 2


def qa_rows(names: list[str], first_id: int, *, long_prompts: int = 0) -> datasets.Dataset:
    """Two questions per author (TOFU's shape: paraphrased and three perturbed answers each)."""
    rows = []
    for name in names:
        city, genre = CITIES[NAMES.index(name)], GENRES[NAMES.index(name)]
        rows += [
            {
                "prompt": f"Question: where was {name} born ?\nAnswer:",
                "completion": f" {name} was born in {city} .",
                "paraphrased_completion": f" the birthplace of {name} is {city} .",
                "perturbed_completions": [f" {name} was born in {c} ." for c in CITIES if c != city][:3],
            },
            {
                "prompt": f"Question: what kind of books does {name} write ?\nAnswer:",
                "completion": f" {name} writes {genre} books .",
                "paraphrased_completion": f" the books of {name} are {genre} .",
                "perturbed_completions": [f" {name} writes {g} books ." for g in GENRES if g != genre][:3],
            },
        ]
    for row in rows[:long_prompts]:  # prompts far longer than a 24-token context
        row["prompt"] = "Question: " + " ".join(NAMES + CITIES) + " where ?\nAnswer:"
    for i, row in enumerate(rows):
        row["sample_id"] = first_id + i
    return datasets.Dataset.from_list(rows)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models run fastest on one thread
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def splits() -> dict[str, datasets.Dataset]:
    real = qa_rows(NAMES[6:8], 300).remove_columns(
        "paraphrased_completion"
    )  # TOFU's real authors: no paraphrase
    return {
        "forget": qa_rows(NAMES[:2], 0),
        "retain": qa_rows(NAMES[2:6], 100),
        "holdout": qa_rows(NAMES[8:], 200),
        "real_authors": real,
    }


def make_tokenizer(splits, *, pad: bool = True) -> PreTrainedTokenizerFast:
    text = [
        " ".join(
            [r["prompt"], r["completion"], r.get("paraphrased_completion", ""), *r["perturbed_completions"]]
        )
        for split in splits.values()
        for r in split
    ]
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    text.append("user assistant")  # the chat template's role names
    tok.train_from_iterator(text, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]"]))
    tok.decoder = decoders.WordPiece()  # joins words with spaces
    extra = {"pad_token": "[PAD]"} if pad else {}
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="[EOS]", **extra)


@pytest.fixture(scope="module")
def tokenizer(splits):
    return make_tokenizer(splits)


def tiny_gpt2(vocab: int, positions: int = 64, seed: int = 0) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=vocab, n_positions=positions, n_embd=64, n_layer=2, n_head=2,
                        bos_token_id=EOS, eos_token_id=EOS, pad_token_id=PAD)  # fmt: skip
    return GPT2LMHeadModel(config).eval()


def tiny_t5(vocab: int, seed: int = 0) -> T5ForConditionalGeneration:
    torch.manual_seed(seed)
    config = T5Config(vocab_size=vocab, d_model=32, d_ff=64, d_kv=16, num_layers=2, num_heads=2,
                      decoder_start_token_id=PAD, eos_token_id=EOS, pad_token_id=PAD)  # fmt: skip
    return T5ForConditionalGeneration(config).eval()


def direct_ids(tokenizer, prompt: str, answer: str) -> tuple[list[int], list[int]]:
    """Prompt and answer ids straight from the tokenizer (word-level: the joint tokenisation is the concatenation)."""
    return tokenizer(prompt)["input_ids"], tokenizer(answer, add_special_tokens=False)["input_ids"] + [EOS]


def fine_tune(model, tokenizer, rows, steps: int = 120):
    """Full-batch AdamW on the answers of ``rows`` (completion-only loss) until the model has memorised them."""
    pairs = [direct_ids(tokenizer, r["prompt"], r["completion"]) for r in rows]
    width = max(len(p) + len(a) for p, a in pairs)
    ids = torch.full((len(pairs), width), PAD)
    labels = torch.full((len(pairs), width), -100)
    mask = torch.zeros((len(pairs), width), dtype=torch.long)
    for i, (p, a) in enumerate(pairs):
        ids[i, : len(p) + len(a)] = torch.tensor(p + a)
        labels[i, len(p) : len(p) + len(a)] = torch.tensor(a)
        mask[i, : len(p) + len(a)] = 1
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval()


@pytest.fixture(scope="module")
def trained_gpt2(tokenizer, splits):
    """A tiny GPT-2 fine-tuned on forget + retain (it has memorised their answers)."""
    rows = [r for name in ("forget", "retain") for r in splits[name]]
    return fine_tune(tiny_gpt2(len(tokenizer), seed=1), tokenizer, rows)


def one_by_one(model, tokenizer, prompt_ids: list[list[int]], max_new_tokens: int) -> list[str]:
    """The reference: one unpadded ``model.generate`` call per prompt, decoded up to the first EOS."""
    texts = []
    for ids in prompt_ids:
        x = torch.tensor([ids])
        with torch.no_grad():
            out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=max_new_tokens,
                                 do_sample=False, num_beams=1, pad_token_id=PAD, eos_token_id=EOS)  # fmt: skip
        new = out[0].tolist() if model.config.is_encoder_decoder else out[0, len(ids) :].tolist()
        new = new[: new.index(EOS)] if EOS in new else new
        texts.append(tokenizer.decode(new, skip_special_tokens=True).strip())
    return texts


def read_generations(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- batching is exact
@pytest.mark.parametrize("architecture", ["gpt2", "t5"])
def test_batched_generation_equals_per_sample_loop(architecture, tokenizer, splits, tmp_path):
    model = tiny_gpt2(len(tokenizer)) if architecture == "gpt2" else tiny_t5(len(tokenizer))
    if architecture == "t5":
        with torch.no_grad():  # a random T5 often predicts only pad (decoded as ""): make that less likely
            model.shared.weight[PAD] = 0.0
    # batch_size 5 mixes prompts of different lengths in one batch (left padding for GPT-2)
    report = generation_report(model, tokenizer, splits, batch_size=5, max_new_tokens=10, output_dir=tmp_path,
                               progress=False)  # fmt: skip
    records = read_generations(tmp_path / GENERATIONS_FILE)
    for name in ("forget", "retain", "real_authors"):
        split = splits[name]
        mine = [r for r in records if r["split"] == name]
        prompts = [tokenizer(p)["input_ids"] for p in split["prompt"]]
        assert len({len(p) for p in prompts}) > 1  # the batches really are padded
        assert [r["prediction"] for r in mine] == one_by_one(model, tokenizer, prompts, 10), name
    # the untrained model says something (so the comparison means something), and the rows are complete
    assert sum(bool(r["prediction"]) for r in records) > len(records) // 2
    assert {r["split"] for r in records} == {"forget", "retain", "real_authors"}  # never the holdout set
    assert report["truncated_prompts"] == 0


@pytest.mark.parametrize("architecture", ["gpt2", "t5"])
def test_batched_probabilities_match_unbatched_losses(architecture, tokenizer, splits):
    model = tiny_gpt2(len(tokenizer), seed=3) if architecture == "gpt2" else tiny_t5(len(tokenizer), seed=3)
    report = generation_report(model, tokenizer, splits, batch_size=3, max_new_tokens=2, progress=False)
    probs = []
    for row in splits["forget"]:
        prompt, answer = direct_ids(tokenizer, row["prompt"], row["completion"])
        with torch.no_grad():
            if architecture == "gpt2":
                ids = torch.tensor([prompt + answer])
                loss = model(input_ids=ids, labels=torch.tensor([[-100] * len(prompt) + answer])).loss
            else:
                loss = model(input_ids=torch.tensor([prompt]), labels=torch.tensor([answer])).loss
        probs.append(math.exp(-loss.item()))
    # padded batches vs one unpadded forward: measured |diff| <= 2e-9 (seeds 3-5, avx2 and default kernels)
    assert report["forget_answer_prob"] == pytest.approx(sum(probs) / len(probs), abs=1e-5)


# --------------------------------------------------------------------------- the metrics move as they should
def test_memorising_model_scores_as_memorised(trained_gpt2, tokenizer, splits, tmp_path):
    untrained = tiny_gpt2(len(tokenizer), seed=1)
    report = generation_report(trained_gpt2, tokenizer, splits, original_model=untrained, retrain_model=untrained,
                               batch_size=8, max_new_tokens=12, output_dir=tmp_path, progress=False)  # fmt: skip
    assert set(REPORT_METRICS) <= set(report)
    assert {f"original_{m}" for m in REPORT_METRICS} <= set(report)
    # trained on forget + retain: it answers both word for word. Measured over init seeds 1-3 and the avx2 and
    # default kernels: ROUGE-L, extraction strength and the four AUCs are exactly 1, the answer probability
    # 0.981-0.987, the untrained model's ROUGE-L 0 and answer probability 0.017-0.018
    assert report["forget_rouge_l"] == 1.0 and report["retain_rouge_l"] == 1.0
    assert report["extraction_strength"] == 1.0
    assert report["forget_answer_prob"] > 0.9
    # the forget answers are far more likely than the never-trained holdout answers
    for attack in ("loss", "zlib", "min_k", "min_k_plus_plus"):
        assert report[f"mia_{attack}_auc"] == 1.0, attack
    assert report["original_forget_rouge_l"] < 0.3 and report["original_forget_answer_prob"] < 0.1
    # against an untrained "retrain" model the four forget truth ratios do not overlap at all: the smallest
    # p-value a 4-vs-4 KS test can give, 2 / C(8, 4) (measured on every seed and kernel); the reference
    # against itself scores 1. A min-k AUC of 1 is PrivLeak's floor, -100 %; the reference's own is 0
    assert report["forget_quality"] == pytest.approx(2 / 70)
    assert report["original_forget_quality"] == 1.0
    assert report["privleak"] == pytest.approx(-100.0) and report["original_privleak"] == pytest.approx(0.0)
    for name in ("model_utility", "truth_ratio", "retain_answer_prob", "real_authors_answer_prob"):
        assert 0.0 <= report[name] <= 1.0, name
    records = read_generations(tmp_path / GENERATIONS_FILE)
    forget = [r for r in records if r["split"] == "forget"]
    assert [r["sample_id"] for r in forget] == list(splits["forget"]["sample_id"])
    assert forget[0] == {
        "split": "forget",
        "sample_id": 0,
        "prompt": "Question: where was alice born ?\nAnswer:",
        "reference": " alice was born in paris .",
        "prediction": "alice was born in paris.",  # the decoder drops the space before "."
    }
    assert len(records) == sum(len(splits[n]) for n in ("forget", "retain", "real_authors"))


def test_metrics_without_references_are_none(tokenizer, splits):
    model = tiny_gpt2(len(tokenizer))
    report = generation_report(model, tokenizer, {"forget": splits["forget"], "retain": splits["retain"]},
                               max_new_tokens=2, progress=False)  # fmt: skip
    for name in ("forget_quality", "privleak", "mia_loss_auc", "mia_min_k_plus_plus_auc"):
        assert report[name] is None, name
    assert not any(key.startswith("original_") for key in report)
    # model utility from retain alone: the harmonic mean of its three components
    parts = [report["retain_answer_prob"], report["retain_rouge_l"], report["retain_truth_ratio"]]
    expected = 0.0 if min(parts) == 0 else 3 / sum(1 / p for p in parts)
    assert report["model_utility"] == pytest.approx(expected)


# --------------------------------------------------------------------------- context, padding, templates
def test_long_prompts_are_cut_from_the_left_and_counted(tokenizer, splits, tmp_path):
    long_splits = dict(splits, forget=qa_rows(NAMES[:2], 0, long_prompts=3))
    model = tiny_gpt2(len(tokenizer), positions=24)
    report = generation_report(model, tokenizer, long_splits, batch_size=4, max_new_tokens=6, output_dir=tmp_path,
                               progress=False)  # fmt: skip
    assert report["truncated_prompts"] == 3
    records = [r for r in read_generations(tmp_path / GENERATIONS_FILE) if r["split"] == "forget"]
    # a cut prompt keeps its last 24 - 6 tokens, and generates what those tokens alone generate
    kept = [tokenizer(p)["input_ids"][-18:] for p in long_splits["forget"]["prompt"][:3]]
    assert [r["prediction"] for r in records[:3]] == one_by_one(model, tokenizer, kept, 6)
    with pytest.raises(ValueError, match="max_new_tokens=24 leaves no room for a prompt"):
        generation_report(model, tokenizer, long_splits, max_new_tokens=24, progress=False)


def test_tokenizer_without_pad_token_gets_one(splits):
    tokenizer = make_tokenizer(splits, pad=False)
    assert tokenizer.pad_token is None
    model = tiny_gpt2(len(tokenizer))
    with pytest.warns(UserWarning, match=r"no pad token: using its EOS token '\[EOS\]'"):
        report = generation_report(model, tokenizer, splits, max_new_tokens=3, progress=False)
    assert tokenizer.pad_token == "[EOS]" and report["forget_rouge_l"] is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # now it has one: no second warning
        generation_report(model, tokenizer, splits, max_new_tokens=3, progress=False)


def test_chat_template_wraps_prompts(splits, tmp_path):
    tokenizer = make_tokenizer(splits)
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} [EOS] {% endfor %}"
        "{% if add_generation_prompt %}assistant :{% endif %}"
    )
    encoder = PromptEncoder(tokenizer, seq2seq=False, chat=True, context=None)
    prompt = encoder.prompt_ids(["where ?"])[0]
    assert tokenizer.decode(prompt) == "user : where? [EOS] assistant :"
    # the answer is the assistant turn, which the template ends with [EOS]: not doubled
    assert tokenizer.decode(encoder.answer_ids(["where ?"], ["paris ."])[0]) == "paris. [EOS]"
    model = tiny_gpt2(len(tokenizer))
    generation_report(model, tokenizer, splits, max_new_tokens=4, output_dir=tmp_path, progress=False)
    records = [r for r in read_generations(tmp_path / GENERATIONS_FILE) if r["split"] == "forget"]
    templated = encoder.prompt_ids(splits["forget"]["prompt"])
    assert [r["prediction"] for r in records] == one_by_one(model, tokenizer, templated, 4)
    with pytest.raises(ValueError, match="chat_template=True applies to causal LMs"):
        generation_report(tiny_t5(len(tokenizer)), tokenizer, splits, chat_template=True, progress=False)


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_refused(tokenizer, splits):
    model = tiny_gpt2(len(tokenizer))
    with pytest.raises(ValueError, match=r"needs the splits \['forget', 'retain'\]; missing \['retain'\]"):
        generation_report(model, tokenizer, {"forget": splits["forget"]}, progress=False)
    no_prompt = dict(splits, retain=splits["retain"].remove_columns("prompt"))
    with pytest.raises(ValueError, match=r"split 'retain' lacks the column\(s\) \['prompt'\]"):
        generation_report(model, tokenizer, no_prompt, progress=False)
    with pytest.raises(
        ValueError, match="original_model is a sequence-to-sequence LM but the model under test is a causal"
    ):
        generation_report(model, tokenizer, splits, original_model=tiny_t5(len(tokenizer)), progress=False)
    with pytest.raises(ValueError, match="chat_template=True but the tokenizer has no chat template"):
        generation_report(model, tokenizer, splits, chat_template=True, progress=False)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        generation_report(model, tokenizer, splits, batch_size=0, progress=False)


def test_prompt_and_answer_ids_of_a_batch_are_those_of_each_row(splits):
    from mubench_hf.kinds.generation.tokenizer import train_tokenizer

    prompts = [*splits["forget"]["prompt"], "", "  spaced  out  "]
    answers = [*splits["forget"]["completion"], " x", ""]
    for tokenizer in (make_tokenizer(splits), train_tokenizer({"train": splits["forget"]})):
        for chat in (False, True):
            if chat:
                tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }} | {% endfor %}"
            encoder = PromptEncoder(tokenizer, seq2seq=False, chat=chat, context=None)
            assert encoder.prompt_ids(prompts) == [encoder.prompt_ids_of(p) for p in prompts]
            assert encoder.answer_ids(prompts, answers) == [
                encoder.completion_ids(p, a) for p, a in zip(prompts, answers)
            ]
    assert encoder.prompt_ids([]) == [] and encoder.answer_ids([], []) == []
