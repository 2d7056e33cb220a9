"""Benchmark of the image_text data path (CPU, tiny two-image ViLT on digit pairs). Prints ratios against a
baseline measured in the same run; asserts nothing.

For each method (grad_ascent: forget rows; grad_diff: paired forget + retain rows), samples per second of
``UnlearnTrainer.train()`` through the product's data path (``pipeline.prepare``: the image_text modality's
``prepare_split`` decodes both PNGs, runs the ViLT processor and tokenises once per split, and training reads
the kept tensors by position; the padding collator) ÷ the same trainer on the same rows held in a list in
advance. Target ≥ 0.8: preparing the data must not dominate a step. The two runs alternate, ``ROUNDS``
times, and the medians are compared (this shared machine's speed drifts within seconds). Also printed: the
one-off decode + transform of the forget and retain splits against what the lazy path (``with_transform``)
pays in every epoch, and what reading the prepared rows costs an epoch.

Measured on the shared 2-core VM under load 12-15, the old and the new code run alternately, twice each.
Before (PNG decode + ViLT processor in every epoch): grad_ascent 0.75 / 0.76, grad_diff 0.59 / 0.51. After
(decoded once a split, rows kept in memory): grad_ascent 0.85 / 0.98, grad_diff 0.86 / 1.03; decoding the
1,280 forget + retain rows once took 0.74-0.79 s against 2.30-2.33 s in every epoch lazily, and reading an
epoch of the prepared rows 0.23-0.27 s.

Run: ``python bench/bench_image_text.py`` (about a minute on two quiet cores).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import torch  # noqa: E402
from torch.utils.data import Dataset  # noqa: E402
from transformers import PrinterCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from mubench_hf import build_splits  # noqa: E402
from mubench_hf.kinds.classification import task_transform  # noqa: E402
from mubench_hf.pipeline import prepare  # noqa: E402
from mubench_hf.tasks import TASKS, get_task  # noqa: E402
from mubench_hf.tasks.digit_pairs import load_digit_pairs_splits  # noqa: E402
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer  # noqa: E402

ROWS = {"train": 1280, "validation": 32, "test": 32}
BATCH, STEPS, ROUNDS = 32, 30, 3
METHODS = ("grad_ascent", "grad_diff")


class PreparedRows(Dataset):
    """Rows transformed once, in advance: what a step costs when data preparation is free."""

    def __init__(self, split) -> None:
        self.rows = [split[i] for i in range(len(split))]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict:
        return self.rows[index]


def _samples_per_second(prepared, splits, method: str, out: str) -> float:
    model = prepared.model
    state = {k: v.clone() for k, v in model.state_dict().items()}
    args = UnlearnConfig(
        output_dir=out, method=method, max_steps=STEPS, learning_rate=1e-4, per_device_train_batch_size=BATCH,
        use_cpu=True, report_to="none", disable_tqdm=True, save_strategy="no", logging_strategy="no",
        dataloader_num_workers=0, seed=0,
    )  # fmt: skip
    trainer = UnlearnTrainer(model=model, args=args, splits=splits, data_collator=prepared.collator)
    trainer.remove_callback(PrinterCallback)
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    model.load_state_dict(state)  # every run starts from the same weights
    rows_per_step = BATCH * (2 if method == "grad_diff" else 1)
    return STEPS * rows_per_step / elapsed


def main() -> None:
    hf_logging.set_verbosity_error()
    torch.set_num_threads(1)
    task = dataclasses.replace(
        get_task("digit_pairs"),
        name="digit_pairs_bench",
        loader=functools.partial(load_digit_pairs_splits, ROWS),
    )
    TASKS[task.name] = task
    with tempfile.TemporaryDirectory() as tmp:
        build_splits(task, f"{tmp}/repo", ratios=(100,), forget_classes=[1], show_progress=False)
        prepared = prepare(f"{tmp}/repo", "digit_pairs_bench_class1", "tiny:vilt", cache_dir=f"{tmp}/cache")
        product = {"forget": prepared.splits["forget"], "retain": prepared.splits["retain"]}
        tensors = {name: PreparedRows(split) for name, split in product.items()}
        rows = sum(len(split) for split in product.values())
        print(f"digit pairs: {len(product['forget'])} forget + {len(product['retain'])} retain rows, tiny ViLT "
              f"({sum(p.numel() for p in prepared.model.parameters()):,} weights), batch {BATCH}, {STEPS} steps")  # fmt: skip
        # decoding: once per split (prepare_split, a fresh transform) against the lazy path read for one epoch
        transform = task_transform(task, prepared.model, prepared.processor)
        start = time.perf_counter()
        for name in product:  # the first read of a prepared split decodes all of it
            task.modality_spec.prepare_split(prepared.raw[name], transform)[0]
        once = time.perf_counter() - start
        start = time.perf_counter()
        for name in product:
            lazy = prepared.raw[name].with_transform(transform)
            for i in range(len(lazy)):
                lazy[i]
        decode_epoch = time.perf_counter() - start
        start = time.perf_counter()
        for split in product.values():
            for i in range(len(split)):
                split[i]
        read_epoch = time.perf_counter() - start
        print(f"decode + transform once: {once:.2f} s ({once / rows * BATCH * 1000:.1f} ms per {BATCH} rows); "
              f"lazily, in every epoch: {decode_epoch:.2f} s; reading the prepared rows: {read_epoch:.3f} s an epoch")  # fmt: skip
        print(f"\n{'method':<12} {'product rows/s':>15} {'tensors rows/s':>15} {'ratio':>7}  (target >= 0.8)")
        for method in METHODS:
            through, ahead = [], []
            for r in range(ROUNDS):
                through.append(_samples_per_second(prepared, product, method, f"{tmp}/p{r}"))
                ahead.append(_samples_per_second(prepared, tensors, method, f"{tmp}/t{r}"))
            p, t = statistics.median(through), statistics.median(ahead)
            print(f"{method:<12} {p:>15.0f} {t:>15.0f} {p / t:>7.2f}")


if __name__ == "__main__":
    main()
