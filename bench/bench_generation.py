"""Benchmark: the generation report against a per-sample ``model.generate`` loop on a tiny GPT-2.

Data (seeded, built here): TOFU-shaped QA rows (a prompt, an answer, a paraphrase and three perturbed
answers each) for forget / retain / holdout / real_authors splits, a word-level tokenizer trained on them
with ``tokenizers``, and a GPT-2 built from a config (random weights, so it rarely stops early: both
sides generate the full ``max_new_tokens``, the worst case for batching).

Compared in the same run (no asserts; times are measured here):
  per-sample loop: one unpadded ``model.generate`` call (greedy, KV cache) per generated row, i.e. only the
      generations the report makes, nothing else;
  report: ``generation_report(model, tokenizer, splits)``: batched left-padded generation on the same rows
      plus one teacher-forced forward per batch for every answer, paraphrase and perturbed answer, and
      every metric (ROUGE-L, answer probability, truth ratio, model utility, four MIAs, extraction
      strength).
The ratio report ÷ loop is the issue's target (≤ 0.2). The generations must be identical on both sides;
the line "identical generations" says whether they are.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import datasets
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from mubench_hf.kinds.generation.report import GENERATIONS_FILE, PromptEncoder, generation_report

WORDS = (
    "alice bob carol dave erin frank grace heidi ivan judy paris rome oslo lima cairo delhi tokyo quito "
    "poetry drama fantasy horror satire history mystery romance science travel wrote born lives writes "
    "books novels award prize mother father teacher doctor in the of a is was her his their"
).split()
SEED = 0


def make_split(rng: random.Random, rows: int, first_id: int) -> datasets.Dataset:
    def phrase(low: int, high: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))

    data = [
        {
            "prompt": f"Question: {phrase(4, 14)} ?\nAnswer:",
            "completion": f" {phrase(4, 12)} .",
            "paraphrased_completion": f" {phrase(4, 12)} .",
            "perturbed_completions": [f" {phrase(4, 12)} ." for _ in range(3)],
            "sample_id": first_id + i,
        }
        for i in range(rows)
    ]
    return datasets.Dataset.from_list(data)


def build(rows: int) -> tuple[dict[str, datasets.Dataset], PreTrainedTokenizerFast, GPT2LMHeadModel]:
    rng = random.Random(SEED)
    splits = {
        "forget": make_split(rng, rows // 5, 0),
        "retain": make_split(rng, rows - 3 * (rows // 5), 10_000),
        "holdout": make_split(rng, rows // 5, 20_000),
        "real_authors": make_split(rng, rows // 5, 30_000),
    }
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        [" ".join(WORDS) + " Question Answer : ? ."],
        trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]"]),
    )
    tok.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    torch.manual_seed(SEED)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=128, n_embd=64, n_layer=2, n_head=2,
        bos_token_id=2, eos_token_id=2, pad_token_id=1,
    )  # fmt: skip
    return splits, tokenizer, GPT2LMHeadModel(config).eval()


def per_sample_loop(model, tokenizer, splits, max_new_tokens: int) -> list[str]:
    """Greedy generations one prompt at a time (the same prompt tokens the report uses)."""
    encoder = PromptEncoder(tokenizer, seq2seq=False, chat=False, context=None)
    eos = tokenizer.eos_token_id
    texts = []
    with torch.inference_mode():
        for name, split in splits.items():
            if name == "holdout":  # the report does not generate on the holdout set either
                continue
            for ids in encoder.prompt_ids(split["prompt"]):
                x = torch.tensor([ids])
                out = model.generate(
                    input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=max_new_tokens,
                    do_sample=False, num_beams=1, pad_token_id=tokenizer.pad_token_id, eos_token_id=eos,
                )  # fmt: skip
                new = out[0, len(ids) :].tolist()
                new = new[: new.index(eos)] if eos in new else new
                texts.append(tokenizer.decode(new, skip_special_tokens=True).strip())
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250, help="rows over all splits (default 250)")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    datasets.disable_progress_bars()
    splits, tokenizer, model = build(args.rows)
    generated = sum(len(s) for n, s in splits.items() if n != "holdout")
    print(f"tiny GPT-2 (2 layers, 64 wide, vocab {len(tokenizer)}), {args.rows} rows, {generated} generated "
          f"(not the holdout set), max_new_tokens {args.max_new_tokens}, batch {args.batch_size}, {args.threads} thread(s)")  # fmt: skip
    # warm-up: first calls pay for lazy imports and kernel selection on both sides
    per_sample_loop(model, tokenizer, {"forget": splits["forget"].select(range(2))}, 4)

    start = time.perf_counter()
    loop_texts = per_sample_loop(model, tokenizer, splits, args.max_new_tokens)
    loop_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        report = generation_report(
            model, tokenizer, splits, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
            output_dir=out, progress=False,
        )  # fmt: skip
        report_s = time.perf_counter() - start
        lines = (Path(out) / GENERATIONS_FILE).read_text(encoding="utf-8").splitlines()
        report_texts = [json.loads(line)["prediction"] for line in lines]

    print()
    print(f"{'what':<58}{'seconds':>10}")
    print(f"{'per-sample generate loop (generations only)':<58}{loop_s:>10.2f}")
    print(f"{'generation_report (generations + scoring + all metrics)':<58}{report_s:>10.2f}")
    print()
    print(f"identical generations: {report_texts == loop_texts} ({len(report_texts)} rows)")
    print(f"ratio report / loop: {report_s / loop_s:.3f} (target <= 0.2)")
    shown = ("forget_rouge_l", "forget_answer_prob", "truth_ratio", "model_utility", "mia_min_k_auc")
    print("values:", ", ".join(f"{k}={report[k]:.4f}" for k in shown))


if __name__ == "__main__":
    main()
