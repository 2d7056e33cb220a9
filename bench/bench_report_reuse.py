"""Benchmark: three cells' generation reports with and without the report's reuse, in the same process.

Data and models (seeded, built here, as in ``bench_generation.py``): TOFU-shaped QA rows over forget /
retain / holdout / real_authors, a word-level tokenizer, tiny GPT-2s built from configs: three "unlearned"
models (the cells) and one original and one retrain model that every cell is scored against, as in a sweep.

Compared (no asserts; times are measured here):
  without reuse: each cell's report computes the original model's generations and answer statistics on every
      split and the retrain model's on forget and holdout, and tokenises the prompts for each model (the
      reference cache is emptied before every cell and the per-report prompt reuse is switched off);
  with reuse: the reference values are computed in the first cell and served to the other two
      (``mubench_hf.kinds.reference_cache``), and each report tokenises its prompts once.
The ratio with ÷ without is the saving; "identical reports" says whether both give the same numbers.
"""

from __future__ import annotations

import argparse
import time

import datasets
import torch
from bench_generation import build
from transformers import GPT2LMHeadModel

from mubench_hf.kinds.generation import report as report_module
from mubench_hf.kinds.generation.report import PromptEncoder, generation_report
from mubench_hf.kinds.reference_cache import REFERENCE_CACHE


def variant(model: GPT2LMHeadModel, seed: int) -> GPT2LMHeadModel:
    """A model of the same architecture with other (seeded) weights."""
    torch.manual_seed(seed)
    return GPT2LMHeadModel(model.config).eval()


def three_cells(cells, original, retrain, tokenizer, splits, args, *, reuse: bool) -> tuple[float, list]:
    reused_encoder = report_module.ReusedPromptEncoder
    if not reuse:
        report_module.ReusedPromptEncoder = PromptEncoder  # the report as it was: every model tokenises
    reports = []
    try:
        REFERENCE_CACHE.clear()
        start = time.perf_counter()
        for cell in cells:
            if not reuse:
                REFERENCE_CACHE.clear()
            reports.append(
                generation_report(
                    cell,
                    tokenizer,
                    splits,
                    original_model=original,
                    retrain_model=retrain,
                    holdout_split="holdout",
                    batch_size=args.batch_size,
                    max_new_tokens=args.max_new_tokens,
                    progress=False,
                )  # fmt: skip
            )
        return time.perf_counter() - start, reports
    finally:
        report_module.ReusedPromptEncoder = reused_encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200, help="rows over all splits (default 200)")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    datasets.disable_progress_bars()
    splits, tokenizer, model = build(args.rows)
    cells = [variant(model, seed) for seed in (1, 2, 3)]
    original, retrain = variant(model, 10), variant(model, 11)
    print(f"3 cells, tiny GPT-2s (2 layers, 64 wide), {args.rows} rows, max_new_tokens {args.max_new_tokens}, "
          f"batch {args.batch_size}, {args.threads} thread(s)")  # fmt: skip
    # warm-up: lazy imports and kernel selection
    three_cells(cells[:1], original, retrain, tokenizer, {n: s.select(range(2)) for n, s in splits.items()},
                args, reuse=False)  # fmt: skip

    without_s, without = three_cells(cells, original, retrain, tokenizer, splits, args, reuse=False)
    with_s, with_ = three_cells(cells, original, retrain, tokenizer, splits, args, reuse=True)
    REFERENCE_CACHE.clear()

    print()
    print(f"{'what':<52}{'seconds':>10}")
    print(f"{'3 reports without reuse':<52}{without_s:>10.2f}")
    print(f"{'3 reports with reuse (references once, prompts once)':<52}{with_s:>10.2f}")
    print(f"ratio with / without: {with_s / without_s:.2f}")
    print(f"identical reports: {with_ == without}")


if __name__ == "__main__":
    main()
