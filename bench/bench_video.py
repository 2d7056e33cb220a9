"""Benchmark of the video data path on moving_digits (CPU, tiny VideoMAE). Prints ratios; asserts nothing.

1. Samples per second of one unlearning step (``finetune`` on the retain set, 32 clips per step) through
   the product's data path (the stored ``datasets.Video`` column, the video transform with its decode
   cache, the video collator) ÷ the same step on tensors prepared in advance (the same clips decoded,
   resampled and scaled before training, handed over as ready ``pixel_values``). The two trainers step in
   lockstep in two threads (``bench_trainers.Lockstep``), so the machine's drift cancels. The first epoch
   of the product's path decodes every clip once; it is reported apart, and the ratio is taken over the
   later steps. Target ≥ 0.8: preparing the data must not dominate a training step.
2. Decoding the train split once (what the transform's cache does) against decoding it on every epoch
   (the cache switched off, ``cache_bytes=0``), for the epochs of the task's base recipe.

Run: ``python bench/bench_video.py`` (about a minute on two quiet cores).
"""

from __future__ import annotations

import copy
import gc
import math
import os
import statistics
import sys
import tempfile
import threading
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch starts: also for the timing threads
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datasets  # noqa: E402
import torch  # noqa: E402
from bench_trainers import Lockstep, StepClock, quiet  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from mubench_hf import build_splits  # noqa: E402
from mubench_hf.kinds.classification import (  # noqa: E402
    data_collator_for,
    prepare_splits,
    resolve_model,  # noqa: E402
)
from mubench_hf.modalities.video import VideoTransform  # noqa: E402
from mubench_hf.tasks import get_task  # noqa: E402
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer  # noqa: E402

ROWS_PER_STEP = 32
TIMED_STEPS = 80


class PreparedRows(torch.utils.data.Dataset):
    """Rows whose ``pixel_values`` were computed before training: the baseline's data path."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict:
        return self.rows[index]


def prepared_in_advance(split) -> PreparedRows:
    rows = [split[i] for i in range(len(split))]
    return PreparedRows([{"pixel_values": r["pixel_values"], "labels": r["labels"]} for r in rows])


def step_ratio(model, product_splits, tensor_splits, work: str) -> tuple[float, float, float]:
    """(samples/s product ÷ samples/s prepared tensors after the first epoch, seconds per step of the
    prepared path, extra seconds the product's first epoch spent decoding)."""
    first_epoch = math.ceil(len(product_splits["retain"]) / ROWS_PER_STEP)
    steps = first_epoch + TIMED_STEPS
    lockstep = Lockstep()
    clocks = StepClock(lockstep, 0), StepClock(lockstep, 1)
    trainers = [
        UnlearnTrainer(
            model=copy.deepcopy(model),
            args=UnlearnConfig(
                method="finetune",
                **quiet(f"{work}/{name}", per_device_train_batch_size=ROWS_PER_STEP, max_steps=steps),
            ),
            splits=splits,
            data_collator=data_collator_for("moving_digits"),
            callbacks=[clock],
        )
        for name, splits, clock in (
            ("tensors", tensor_splits, clocks[0]),
            ("product", product_splits, clocks[1]),
        )
    ]

    def train(trainer) -> None:
        torch.set_num_threads(1)
        trainer.train()

    threads = [threading.Thread(target=train, args=(t,)) for t in trainers]
    gc.collect()
    gc.disable()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.enable()
    tensors, product = (clock.durations for clock in clocks)
    ratio = statistics.median(tensors[first_epoch:]) / statistics.median(product[first_epoch:])
    decode_overhead = sum(product[:first_epoch]) - sum(tensors[:first_epoch])
    return ratio, statistics.median(tensors[first_epoch:]), decode_overhead


def decode_times(model, train, epochs: int) -> tuple[float, float]:
    """Seconds to turn every clip of ``train`` into model inputs over ``epochs`` epochs: with the cache
    (decoded once) and without it (decoded every epoch)."""
    rows = train.with_format(None)
    out = []
    for cache_bytes in (None, 0):
        transform = VideoTransform(model, cache_bytes=cache_bytes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the cache-full warning is the point of the second run
            start = time.perf_counter()
            for _ in range(epochs):
                for i in range(0, len(rows), ROWS_PER_STEP):
                    transform(rows[i : i + ROWS_PER_STEP])
            out.append(time.perf_counter() - start)
    return out[0], out[1]


def main() -> None:
    torch.set_num_threads(1)
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    work = tempfile.mkdtemp(prefix="bench_video_")
    start = time.perf_counter()
    build_splits("moving_digits", f"{work}/repo", ratios=[5], show_progress=False)
    print(
        f"moving_digits splits built in {time.perf_counter() - start:.1f} s (1,797 clips generated and encoded)"
    )
    raw = datasets.load_dataset(f"{work}/repo", "moving_digits_del5", cache_dir=f"{work}/cache")
    torch.manual_seed(0)
    model = resolve_model("moving_digits", "tiny:videomae", raw["train"])
    product = prepare_splits(raw, "moving_digits", model)
    tensors = {
        name: prepared_in_advance(split)
        for name, split in prepare_splits(raw, "moving_digits", model).items()
    }

    ratio, step_seconds, overhead = step_ratio(model, product, tensors, work)
    print(f"\n1) samples/s of a finetune step, product's data path ÷ tensors prepared in advance "
          f"({ROWS_PER_STEP} clips per step, tiny VideoMAE, 1 thread)")  # fmt: skip
    print(f"   ratio {ratio:.2f} (target ≥ 0.8); a prepared-tensor step takes {step_seconds * 1e3:.1f} ms "
          f"({ROWS_PER_STEP / step_seconds:.0f} samples/s)")  # fmt: skip
    print(f"   first epoch: {overhead:.2f} s more on the product's path (each retain clip decoded once)")

    epochs = int(get_task("moving_digits").recipe_defaults().get("num_train_epochs", 10))
    once, every = decode_times(model, raw["train"], epochs)
    print(
        f"\n2) turning the {len(raw['train'])} train clips into model inputs for {epochs} epochs (the base recipe)"
    )
    print(f"   decoded once (cache): {once:.2f} s; decoded every epoch (cache_bytes=0): {every:.2f} s; "
          f"ratio every / once {every / once:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
