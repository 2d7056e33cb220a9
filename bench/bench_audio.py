"""Benchmark of the audio data path (CPU, tiny wav2vec2 and Whisper on spoken_keywords). Prints ratios, each
against a baseline measured in the same run; asserts nothing.

1. Samples per second of gradient-ascent unlearning steps (``UnlearnTrainer.train()``, ``max_steps``
   steps of 32 rows) through the product's data path (``prepare_splits``: decoded and turned into
   features once per split, stored flat in the ``map`` cache and served as views of the Arrow columns)
   ÷ the same steps on tensors prepared in advance (a list of ready rows in memory). Target ≥ 0.8: data
   preparation must not dominate a step. The two are run alternately, three times each, and the medians
   compared (this VM's speed drifts within seconds).
2. Decoding: the one-off cost of ``prepare_splits`` (decode + feature extraction of the whole split)
   against what decoding inside every epoch would cost (the lazy ``with_transform`` path read once, per
   epoch) and against reading one epoch of the prepared split.

Measured on the shared 2-core VM under load 12-15, the old and the new code run alternately, twice each.
Before (Whisper's 40x100 log-mel rows stored as ``Array2D``, which datasets' torch format turned into a
tensor at ~3.4 ms a row): wav2vec2 0.88 / 0.94, Whisper 0.66 / 0.62; reading an epoch of the prepared split
0.10-0.23 s (wav2vec2) / 0.29-0.45 s (Whisper). After (features stored flat, each row read by position as a
copy of its slice of the Arrow buffer, ~0.1 ms a row on a quiet machine): wav2vec2 1.00 / 0.87, Whisper
0.89 / 0.95; an epoch read in 0.014-0.037 s (both). Decoding every epoch would cost 0.8-1.9x the one-off
preparation in every epoch.

Run: ``python bench/bench_audio.py`` (a minute or two on two cores; the first run also synthesises the
clips with espeak-ng and caches them).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import datasets  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import Dataset  # noqa: E402
from transformers import PrinterCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from mubench_hf.kinds.classification import (  # noqa: E402  # noqa: E402
    build_model,
    data_collator_for,
    prepare_splits,
    task_transform,
    tiny_config,
)
from mubench_hf.modalities.audio import prepare_audio_split  # noqa: E402
from mubench_hf.tasks import get_task  # noqa: E402
from mubench_hf.tasks.spoken_keywords import load_spoken_keywords_splits  # noqa: E402
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer  # noqa: E402

CLIPS_PER_WORD = 20  # 160 train rows
ROWS_PER_STEP, STEPS, REPEATS = 32, 10, 3


class ReadyRows(Dataset):
    """The baseline: every row's tensors made in advance and kept in memory."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict:
        return self.rows[index]


def unlearning_seconds(model: torch.nn.Module, forget, work: str) -> float:
    args = UnlearnConfig(
        method="grad_ascent", output_dir=work, use_cpu=True, report_to="none", disable_tqdm=True,
        save_strategy="no", logging_strategy="no", per_device_train_batch_size=ROWS_PER_STEP,
        max_steps=STEPS, learning_rate=1e-4, dataloader_num_workers=0, unlearning_report=False,
    )  # fmt: skip
    trainer = UnlearnTrainer(
        model=model, args=args, forget_dataset=forget, data_collator=data_collator_for("spoken_keywords")
    )
    trainer.remove_callback(PrinterCallback)  # no metrics line per run
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    raw = load_spoken_keywords_splits(CLIPS_PER_WORD, show_progress=False)
    data = get_task("spoken_keywords")._canonicalise(raw["train"], {}, "train")  # canonical columns
    splits = datasets.DatasetDict({"forget": data})
    print(f"spoken_keywords, {len(data)} clips of 1 s; {STEPS} grad_ascent steps of {ROWS_PER_STEP} rows\n")
    print(f"{'model':<10} {'product/ready samples/s':>24} {'prepare once':>13} {'decode/epoch':>13} "
          f"{'read/epoch':>11} {'per-epoch decode ÷ once':>24}")  # fmt: skip
    for architecture in ("wav2vec2", "whisper"):
        model = build_model("spoken_keywords", tiny_config("spoken_keywords", architecture))
        with tempfile.TemporaryDirectory() as work:
            start = time.perf_counter()
            prepared = prepare_splits(splits, "spoken_keywords", model)["forget"]
            once = time.perf_counter() - start
            ready = ReadyRows([prepared[i] for i in range(len(prepared))])
            lazy = data.with_transform(task_transform("spoken_keywords", model))
            start = time.perf_counter()
            for i in range(len(lazy)):
                lazy[i]
            decode_epoch = time.perf_counter() - start
            start = time.perf_counter()
            for i in range(len(prepared)):
                prepared[i]
            read_epoch = time.perf_counter() - start
            product, baseline = [], []
            for _ in range(REPEATS):
                product.append(unlearning_seconds(model, prepared, work))
                baseline.append(unlearning_seconds(model, ready, work))
            ratio = statistics.median(baseline) / statistics.median(product)  # samples/s ratio
            # an uncached re-preparation, for the one-off cost (the first call above may hit the map cache)
            start = time.perf_counter()
            prepare_audio_split(data.select(range(len(data))), task_transform("spoken_keywords", model))
            fresh = time.perf_counter() - start
        print(
            f"{architecture:<10} {ratio:>24.2f} {min(once, fresh):>12.2f}s {decode_epoch:>12.2f}s "
            f"{read_epoch:>10.3f}s {decode_epoch / max(min(once, fresh), 1e-9):>24.2f}"
        )
    print(
        "\nproduct/ready: samples/s through prepare_splits ÷ samples/s on ready tensors (target ≥ 0.8).\n"
        "prepare once: decode + features for the split, paid once; decode/epoch: what the lazy path pays in "
        "every epoch;\nread/epoch: what the prepared split costs per epoch instead."
    )


if __name__ == "__main__":
    main()
