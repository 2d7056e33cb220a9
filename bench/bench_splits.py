"""Benchmark: deletion splits stored once vs the ways MU-Bench and plain datasets do it.

Data: 60,000 seeded 28x28 grey images (sparse, MNIST-like) + 10,000 test images, built here.
Prints ratios measured in this run (no asserts):
  (a) bytes of all ten <task>_del configs on disk / bytes of one parquet copy of train  (target <= 1.15)
  (b) build time of build_splits / time of writing train once with Dataset.to_parquet    (target <= 2)
  (c) forget+retain of del5 via load_dataset (fresh cache) / MU-Bench's way: a boolean mask over
      train, then Dataset.from_dict(train[idx]) for forget and for retain                  (reported)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import datasets  # noqa: E402
import numpy as np  # noqa: E402

from mubench_hf import build_splits  # noqa: E402
from mubench_hf.tasks import Task  # noqa: E402

N_TRAIN, N_TEST, SIDE = 60_000, 10_000, 28
REPEATS = 3


def make_split(rng: np.random.Generator, n: int) -> datasets.Dataset:
    pixels = rng.integers(0, 256, size=(n, SIDE, SIDE), dtype=np.uint8)
    pixels[rng.random((n, SIDE, SIDE)) < 0.8] = 0  # mostly background, like MNIST
    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=[str(i) for i in range(10)])}
    )
    return datasets.Dataset.from_dict(
        {"image": list(pixels), "label": rng.integers(0, 10, size=n).tolist()}, features=features
    )


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    datasets.disable_progress_bars()
    rng = np.random.default_rng(0)
    print(f"making {N_TRAIN:,} + {N_TEST:,} images of {SIDE}x{SIDE} ...", flush=True)
    source = datasets.DatasetDict({"train": make_split(rng, N_TRAIN), "test": make_split(rng, N_TEST)})
    task = Task(
        name="bench60k", modality="image", class_names=tuple(str(i) for i in range(10)), loader=lambda: source
    )
    work = Path(tempfile.mkdtemp(prefix="mubench-bench-"))
    try:
        canonical_train = task.load()["train"]  # the same rows the builder writes
        # best of REPEATS for both sides: the absolute times are short and the machine is shared
        t_write_once = t_build = float("inf")
        for attempt in range(REPEATS):
            start = time.perf_counter()
            canonical_train.to_parquet(str(work / "train.parquet"))
            t_write_once = min(t_write_once, time.perf_counter() - start)
            start = time.perf_counter()
            build_splits(
                task, work / "repo", ratios=range(1, 11), seed=attempt, overwrite=True, show_progress=False
            )
            t_build = min(t_build, time.perf_counter() - start)
        one_copy = (work / "train.parquet").stat().st_size
        all_configs = folder_bytes(work / "repo" / "data" / "bench60k" / "train")

        cache = work / "cache"
        start = time.perf_counter()
        splits = datasets.load_dataset(str(work / "repo"), "bench60k_del5", cache_dir=str(cache))
        forget, retain = splits["forget"], splits["retain"]
        t_load = time.perf_counter() - start

        # MU-Bench's way: the same forget ids, a boolean mask over train, from_dict for each side
        forget_ids = np.asarray(forget["sample_id"])
        start = time.perf_counter()
        mask = np.zeros(len(canonical_train), dtype=bool)
        mask[forget_ids] = True
        mu_forget = datasets.Dataset.from_dict(
            canonical_train[np.flatnonzero(mask)], features=canonical_train.features
        )
        mu_retain = datasets.Dataset.from_dict(
            canonical_train[np.flatnonzero(~mask)], features=canonical_train.features
        )
        t_mubench = time.perf_counter() - start
        assert len(mu_forget) == len(forget) == 3000 and len(mu_retain) == len(retain)

        start = time.perf_counter()
        canonical_train.select(forget_ids)
        t_select = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'measure':<62} {'value':>12}  target")
    print(
        f"{'(a) bytes, ten del configs / one parquet copy of train':<62} {all_configs / one_copy:>12.3f}  <= 1.15"
    )
    print(f"{'    (ten configs: ' + f'{all_configs / 1e6:.1f} MB; one copy {one_copy / 1e6:.1f} MB)':<62}")
    print(
        f"{'(b) build_splits time / Dataset.to_parquet(train) time':<62} {t_build / t_write_once:>12.2f}  <= 2"
    )
    print(f"{'    (build ' + f'{t_build:.2f} s incl. 10k test rows; write-once {t_write_once:.2f} s)':<62}")
    print(
        f"{'(c) load_dataset forget+retain / MU-Bench mask+from_dict':<62} {t_load / t_mubench:>12.3f}  report"
    )
    print(
        f"{'    (load_dataset ' + f'{t_load:.2f} s; MU-Bench way {t_mubench:.2f} s; select {t_select:.3f} s)':<62}"
    )


if __name__ == "__main__":
    main()
