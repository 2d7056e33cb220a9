"""Benchmark of the unlearning curve's cost: ``train()`` wall time with ``eval_during_unlearning=N`` ÷ the
same run without, on digits_del5 (CPU, tiny ResNet, one thread). Prints the ratio; asserts nothing.

Both runs take the same optimizer steps (grad_ascent, 32 rows per step, ``STEPS`` steps); the curve adds
one prediction pass over the forget (62 rows) and validation splits every N steps, plus the retrain
reference's accuracies once (a predictions file here) and an in-memory copy of the weights whenever the
selected step improves (``select_checkpoint="best"``). The prepared batches of the two splits are kept
after the first evaluation, so later ones only run the model; the evaluation batch size
(``per_device_eval_batch_size``) then matters, and both Trainer's default (8) and 64 are measured. The runs alternate (without, with, without, ...)
so that the machine's drift hits both; each ratio is the median over ``REPEATS`` pairs. The step ratio
(the issue's target: ≤ 1.2 at N = 10) times the optimizer steps with the evaluations made at them; the
train() ratio adds the one-off work at the end (curve.jsonl, the figure: matplotlib's import and
rendering, about half a second here).

Run: ``python bench/bench_curves.py`` (about two minutes on two cores; ``BENCH_EVERY=5,10,20`` to vary N).
"""

from __future__ import annotations

import copy
import os
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import datasets  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForImageClassification, TrainerCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from mubench_hf import build_splits  # noqa: E402
from mubench_hf.evaluation import SplitPredictions, save_predictions  # noqa: E402
from mubench_hf.evaluation.predictions import predict_split  # noqa: E402
from mubench_hf.kinds.classification import prepare_splits  # noqa: E402
from mubench_hf.reference_models import RecipeArguments, train_base  # noqa: E402
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer  # noqa: E402

STEPS, ROWS_PER_STEP, REPEATS = 100, 32, 3
# per_device_eval_batch_size: Trainer's default (8) and a batch for inference-only passes (64)
EVAL_BATCHES = (8, 64)


class StepsClock(TrainerCallback):
    """Seconds from the start of training to the end of its last optimizer step (evaluations made at a
    step included, when this callback comes after the curve's; the files written at the end excluded)."""

    def __init__(self) -> None:
        self.begin = self.last = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.begin = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.last = time.perf_counter()


def run_seconds(
    model, splits, work: str, every: int, reference: str | None, eval_batch: int
) -> tuple[float, float]:
    """Seconds of the optimizer steps and of the whole ``train()`` of grad_ascent, with the curve every
    ``every`` steps (0: none)."""
    extra = {"eval_during_unlearning": every, "select_checkpoint": "best", "retrain_reference": reference}
    args = UnlearnConfig(
        method="grad_ascent",
        output_dir=f"{work}/run_{every}",
        use_cpu=True,
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
        logging_strategy="no",
        seed=0,
        learning_rate=1e-4,
        per_device_train_batch_size=ROWS_PER_STEP,
        max_steps=STEPS,
        per_device_eval_batch_size=eval_batch,
        **(extra if every else {}),
    )
    trainer = UnlearnTrainer(model=copy.deepcopy(model), args=args, splits=splits)
    clock = StepsClock()
    trainer.add_callback(clock)  # after the curve's callback: its evaluations count
    start = time.perf_counter()
    trainer.train()
    return clock.last - clock.begin, time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    work = tempfile.mkdtemp(prefix="bench_curves_")
    build_splits("digits", f"{work}/repo", ratios=[5], show_progress=False)
    raw = datasets.load_dataset(f"{work}/repo", "digits_del5", cache_dir=f"{work}/cache")
    recipe = RecipeArguments(output_dir=f"{work}/base", seed=0, use_cpu=True, disable_tqdm=True)
    train_base(
        f"{work}/repo", "digits", "tiny:resnet", f"{work}/base", recipe, cache_dir=f"{work}/c", quiet=True
    )
    model = AutoModelForImageClassification.from_pretrained(f"{work}/base")
    splits = prepare_splits(raw, "digits", model)
    # a stand-in retrain reference: the original model's own forget/validation predictions (the cost is
    # the same whatever the reference holds)
    probe = UnlearnTrainer(
        model=copy.deepcopy(model),
        args=UnlearnConfig(method="finetune", output_dir=f"{work}/probe", use_cpu=True, report_to="none"),
        splits=splits,
    )
    reference = {name: predict_split(probe, splits[name], name) for name in ("forget", "validation")}
    save_predictions(
        f"{work}/reference.npz", {n: SplitPredictions(p.logits, p.labels) for n, p in reference.items()}, {}
    )

    print(f"grad_ascent on digits_del5, {STEPS} steps of {ROWS_PER_STEP} rows, tiny ResNet, 1 thread")
    print(
        f"{'every N':>8}{'eval batch':>12}{'step ratio':>12}{'train() ratio':>15}{'steps s with':>14}{'without':>9}"
    )
    runs = [(int(n), int(b)) for n in os.environ.get("BENCH_EVERY", "10").split(",") for b in EVAL_BATCHES]
    for every, eval_batch in runs:
        ratios, whole, with_curve, without = [], [], [], []
        for _ in range(REPEATS):
            plain, plain_all = run_seconds(model, splits, work, 0, None, eval_batch)
            curve, curve_all = run_seconds(model, splits, work, every, f"{work}/reference.npz", eval_batch)
            ratios.append(curve / plain)
            whole.append(curve_all / plain_all)
            with_curve.append(curve)
            without.append(plain)
        print(
            f"{every:>8}{eval_batch:>12}{statistics.median(ratios):>12.3f}{statistics.median(whole):>15.3f}"
            f"{statistics.median(with_curve):>14.2f}{statistics.median(without):>9.2f}"
        )


if __name__ == "__main__":
    main()
