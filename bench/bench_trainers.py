"""Benchmark of the unlearning trainers on digits (CPU, tiny ResNet). Prints two tables of ratios,
each against a baseline measured in the same run; asserts nothing.

1. Cost per optimizer step (data loading included): a method's trainer ÷ a plain
   ``transformers.Trainer`` doing cross-entropy steps on the same model, the same kind of rows
   (the forget set for forget-only methods, else the retain set) and the same number of rows per
   step (paired methods get half the per-device batch on each side). The two trainers step in
   lockstep in two threads (see ``Lockstep``). Target ≤ 1.05 for methods that run one model;
   methods with a frozen teacher also run its forward pass, whose cost is shown next to the ratio
   as a share of a plain step. Run-to-run spread on a shared two-core VM is about ±3 %.
2. Unlearning wall time (``train()``, including one-off work such as SalUn's mask or SSD's
   importances) ÷ the wall time of ``retrain`` with the original recipe, on ``digits_del5``, with the
   settings of ``tests/test_trainers_digits.py``.

Run: ``python bench/bench_trainers.py`` (about two minutes on two cores).
"""

from __future__ import annotations

import copy
import gc
import os
import statistics
import tempfile
import threading
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch starts: also for the timing threads
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import datasets  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForImageClassification, Trainer, TrainerCallback, TrainingArguments  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from mubench_hf import build_splits  # noqa: E402
from mubench_hf.forward import logits_of  # noqa: E402
from mubench_hf.kinds.classification import prepare_splits  # noqa: E402
from mubench_hf.reference_models import RECIPE_FIELDS, RecipeArguments, train_base  # noqa: E402
from mubench_hf.sweeps.defaults import digits_hyperparameters  # noqa: E402
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer, get_method, list_methods  # noqa: E402
from mubench_hf.trainers.data import DataUse, RowDataset  # noqa: E402

ROWS_PER_STEP = 32
WARMUP_STEPS, TIMED_STEPS = 5, 120
TEACHERS = {"bad_teaching": 2, "scrub": 1, "delete": 1, "npo": 1}  # frozen models run per step
# the per-method digits settings the demo and the sweeps use
WALL_TIME_RUNS = digits_hyperparameters()


class Lockstep:
    """Lets two trainers, each in its own thread, take optimizer steps strictly in turn.

    This (virtual) machine's speed drifts by tens of percent within seconds, so timing two runs one
    after the other compares different machines. In lockstep, step k of the method runs right after
    step k of the baseline, the drift cancels in the ratio, and only one of them computes at a time.
    """

    def __init__(self) -> None:
        self.turn = 0
        self.finished: set[int] = set()
        self.condition = threading.Condition()

    def wait_for(self, me: int) -> None:
        with self.condition:
            self.condition.wait_for(lambda: self.turn == me or (1 - me) in self.finished)

    def hand_over(self, me: int, finished: bool = False) -> None:
        with self.condition:
            if finished:
                self.finished.add(me)
            self.turn = 1 - me
            self.condition.notify_all()


class StepClock(TrainerCallback):
    """Times each optimizer step (data loading included) of one trainer in a ``Lockstep`` pair."""

    def __init__(self, lockstep: Lockstep, me: int) -> None:
        self.lockstep, self.me = lockstep, me
        self.durations: list[float] = []
        self.resumed = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.lockstep.wait_for(self.me)
        self.resumed = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.durations.append(time.perf_counter() - self.resumed)
        self.lockstep.hand_over(self.me)
        self.lockstep.wait_for(self.me)
        self.resumed = time.perf_counter()

    def on_train_end(self, args, state, control, **kwargs):
        self.lockstep.hand_over(self.me, finished=True)


def quiet(output_dir: str, **overrides) -> dict:
    values = dict(
        output_dir=output_dir,
        use_cpu=True,
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
        logging_strategy="no",
        seed=0,
        learning_rate=1e-4,
    )
    values.update(overrides)
    return values


def step_ratio(method: str, model, splits, work: str) -> float:
    """Median seconds per step of ``method`` ÷ that of a plain Trainer, stepping in lockstep."""
    steps = WARMUP_STEPS + TIMED_STEPS
    use = get_method(method).data_use
    lockstep = Lockstep()
    plain_clock, method_clock = StepClock(lockstep, 0), StepClock(lockstep, 1)
    plain = Trainer(
        model=copy.deepcopy(model),
        args=TrainingArguments(
            **quiet(f"{work}/plain", per_device_train_batch_size=ROWS_PER_STEP, max_steps=steps)
        ),
        # the rows the method reads (forget-only methods: the forget set, whose epochs are short)
        train_dataset=RowDataset(splits["forget" if use is DataUse.FORGET else "retain"]),
        callbacks=[plain_clock],
    )
    paired = use is DataUse.PAIRED
    args = UnlearnConfig(
        method=method,
        **quiet(
            f"{work}/{method}",
            per_device_train_batch_size=ROWS_PER_STEP // 2 if paired else ROWS_PER_STEP,
            max_steps=steps,
        ),
    )
    if method == "scrub":  # a realistic mix: one max-step per cycle of four
        args.forget_steps_per_cycle, args.retain_steps_per_cycle, args.max_phase_cycles = 1, 3, 1000
    unlearn = UnlearnTrainer(model=copy.deepcopy(model), args=args, splits=splits, callbacks=[method_clock])

    def train(trainer: Trainer) -> None:
        torch.set_num_threads(1)  # per thread: OpenMP keeps the setting per thread
        trainer.train()

    threads = [threading.Thread(target=train, args=(trainer,)) for trainer in (plain, unlearn)]
    gc.collect()
    gc.disable()  # a collection would be billed to whichever trainer happened to trigger it
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.enable()
    plain_seconds = statistics.median(plain_clock.durations[WARMUP_STEPS:])
    method_seconds = statistics.median(method_clock.durations[WARMUP_STEPS:])
    return method_seconds / plain_seconds, plain_seconds


def teacher_forward(model, splits, rows: int) -> float:
    """Seconds of one no-grad forward of the model on ``rows`` rows (a teacher's work per step)."""
    batch = torch.stack([splits["retain"][i]["pixel_values"] for i in range(rows)])
    teacher = copy.deepcopy(model).eval()
    with torch.no_grad():
        for _ in range(5):
            logits_of(teacher, {"pixel_values": batch})
        start = time.perf_counter()
        for _ in range(30):
            logits_of(teacher, {"pixel_values": batch})
    return (time.perf_counter() - start) / 30


def wall_time(method: str, model, splits, work: str, hyper: dict) -> float:
    args = UnlearnConfig(method=method, **quiet(work, **{"per_device_train_batch_size": 32, **hyper}))
    trainer = UnlearnTrainer(model=copy.deepcopy(model), args=args, splits=splits)
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    work = tempfile.mkdtemp(prefix="bench_trainers_")
    build_splits("digits", f"{work}/repo", ratios=[5], show_progress=False)
    raw = datasets.load_dataset(f"{work}/repo", "digits_del5", cache_dir=f"{work}/cache")
    # the original model, trained by the product's own base-model trainer (best epoch on validation)
    recipe = RecipeArguments(output_dir=f"{work}/base", seed=0, use_cpu=True, disable_tqdm=True)
    train_base(
        f"{work}/repo", "digits", "tiny:resnet", f"{work}/base", recipe, cache_dir=f"{work}/c", quiet=True
    )
    model = AutoModelForImageClassification.from_pretrained(f"{work}/base")
    splits = prepare_splits(raw, "digits", model)

    print(
        f"1) seconds per optimizer step ÷ plain Trainer, {ROWS_PER_STEP} rows per step, tiny ResNet, 1 thread"
    )
    print(f"{'method':<14}{'ratio':>8}{'teacher fwd / plain step':>28}")
    rows, plain = [], []
    for method in os.environ.get("BENCH_METHODS", ",".join(list_methods())).split(","):
        if get_method(method).data_use is DataUse.SEPARATE:
            continue  # ssd takes no optimizer steps
        ratio, plain_seconds = step_ratio(method, model, splits, work)
        rows.append((method, ratio))
        plain.append(plain_seconds)
    plain_seconds = statistics.median(plain)
    teacher_rows = {"bad_teaching": ROWS_PER_STEP // 2, "scrub": ROWS_PER_STEP // 2}
    for method, ratio in rows:
        share = ""
        if method in TEACHERS:
            seconds = TEACHERS[method] * teacher_forward(
                model, splits, teacher_rows.get(method, ROWS_PER_STEP)
            )
            share = f"{seconds / plain_seconds:.2f}"
        print(f"{method:<14}{ratio:>8.3f}{share:>28}")
    print(f"(plain Trainer step: {plain_seconds * 1000:.1f} ms)")

    print("\n2) unlearning wall time ÷ retrain wall time, digits_del5")
    retrain = wall_time(
        "retrain", model, splits, f"{work}/retrain", {k: getattr(recipe, k) for k in RECIPE_FIELDS}
    )
    print(f"{'method':<14}{'ratio':>8}{'seconds':>10}")
    for method, hyper in WALL_TIME_RUNS.items():
        seconds = wall_time(method, model, splits, f"{work}/{method}", hyper)
        print(f"{method:<14}{seconds / retrain:>8.3f}{seconds:>10.2f}")
    print(f"{'retrain':<14}{1.0:>8.3f}{retrain:>10.2f}")


if __name__ == "__main__":
    main()
