"""Benchmark of the LLM unlearning methods: the cost of one optimizer step ÷ a plain SFT step.

Both run on the same tiny GPT-2 (2 layers, from a config) and the same toy QA rows as
``tests/test_generation_methods.py``. The baseline is a plain ``transformers.Trainer`` whose step is
``model(**batch).loss`` (Hugging Face's completion-only causal-LM loss) on the same rows a method's
step runs its model on: the forget rows for forget-only methods, the retain rows for retain-only ones,
the forget and retain halves together for paired methods, and for the IDK methods the refusal rows
they build (idk_dpo: and the original answers), so the ratio shows the method's overhead, not a
difference in tokens. Steps of the method and of the baseline
alternate (forward, backward and the optimizer step each), so drifts of a shared machine's speed
cancel in the ratio; each round's ratio is of the median step times, the printed one the median
over rounds. Target ≤ 1.1 for methods that run
one model; methods with frozen models (θo, a random teacher) also run their forward passes, counted
in the "frozen" column.

Each ratio is given twice: of wall time and of the stepping thread's CPU time (the second is the one
to read on a shared machine, where other processes preempt the benchmark).

Run: ``python bench/bench_generation_methods.py [METHOD,METHOD,...]`` (about a minute on two cores).
Asserts nothing.
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import datasets  # noqa: E402
import torch  # noqa: E402
from generation_testlib import collator, quiet_lm_args, tiny_gpt2, tiny_tokenizer, toy_splits  # noqa: E402
from transformers import Trainer, TrainingArguments  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from mubench_hf.kinds import objective_for  # noqa: E402
from mubench_hf.objectives.generation import concat_token_batches  # noqa: E402
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer, get_spec  # noqa: E402

METHODS = ["grad_ascent", "grad_diff", "simnpo", "finetune", "idk", "npo", "idk_dpo", "undial", "rmu", "scrub",
           "bad_teaching"]  # fmt: skip
ROWS = 8  # rows per side of a step
ROUNDS, STEPS_PER_ROUND, WARMUP = 7, 16, 3
SETTINGS = {"rmu": {"rmu_layer": 1}}


def step_timer(trainer: Trainer, batch: dict) -> tuple[float, float]:
    """Seconds of one optimizer step (forward, backward, update) of ``trainer`` on ``batch``: wall time
    and this thread's CPU time (one torch thread, so all the step's work; time the thread spent
    preempted by other processes on a shared machine is not in it)."""
    start, cpu = time.perf_counter(), time.thread_time()
    trainer.training_step(trainer.model, batch)
    trainer.optimizer.step()
    trainer.optimizer.zero_grad()
    return time.perf_counter() - start, time.thread_time() - cpu


def prepared(trainer: Trainer, steps: int) -> list[dict]:
    trainer.create_optimizer_and_scheduler(num_training_steps=steps)
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer's own loop, which is not run here
    trainer.model.train()
    loader = iter(trainer.get_train_dataloader())
    return [trainer._prepare_inputs(next(loader)) for _ in range(steps)]


def rows_read(trainer: UnlearnTrainer, batch: dict) -> dict:
    """The rows a method's step runs its model on, as one SFT batch: the batch itself, both halves of
    a paired batch, and for the IDK methods the refusal rows they build (and the original answers)."""
    if "forget" not in batch:
        return batch
    halves = [batch["forget"], batch["retain"]]
    if trainer.method == "idk":
        halves = [trainer.refusal_batch(batch["forget"]), batch["retain"]]
    elif trainer.method == "idk_dpo":
        halves = [trainer.refusal_batch(batch["forget"]), *halves]
    joined = halves[0]
    for half in halves[1:]:
        joined = concat_token_batches(joined, half)
    return joined


def bench(method: str, base: torch.nn.Module, tok, splits: dict, out: str) -> tuple[float, float, int]:
    spec = get_spec(method)
    # a forget set big enough that a paired step has ROWS rows on each side
    forget = datasets.concatenate_datasets([splits["forget"]] * 3)
    args = UnlearnConfig(
        method=method,
        **quiet_lm_args(out, per_device_train_batch_size=ROWS, max_steps=100),
        **SETTINGS.get(method, {}),
    )
    trainer = UnlearnTrainer(
        model=copy.deepcopy(base), args=args, forget_dataset=forget, retain_dataset=splits["retain"],
        processing_class=tok, data_collator=collator(tok), objective=objective_for("generation"),
    )  # fmt: skip
    sft = Trainer(
        model=copy.deepcopy(base),
        args=TrainingArguments(**quiet_lm_args(out, max_steps=100)),
        train_dataset=splits["retain"],
        data_collator=collator(tok),
    )
    total = WARMUP + ROUNDS * STEPS_PER_ROUND
    method_batches = (prepared(trainer, min(total, len(trainer.get_train_dataloader()))) * total)[:total]
    prepared(sft, 1)
    sft_batches = [rows_read(trainer, batch) for batch in method_batches]
    for k in range(WARMUP):
        step_timer(trainer, method_batches[k]), step_timer(sft, sft_batches[k])
    ratios: tuple[list[float], list[float]] = ([], [])  # wall, CPU
    for r in range(ROUNDS):
        method_steps, sft_steps = [], []
        for k in range(WARMUP + r * STEPS_PER_ROUND, WARMUP + (r + 1) * STEPS_PER_ROUND):
            method_steps.append(step_timer(trainer, method_batches[k]))
            sft_steps.append(step_timer(sft, sft_batches[k]))
        # medians per round: a step slowed down by another process on a shared machine does not count
        for clock in (0, 1):
            ratios[clock].append(
                statistics.median(s[clock] for s in method_steps)
                / statistics.median(s[clock] for s in sft_steps)
            )
    frozen = int(spec.needs_original) + int(spec.needs_random_teacher)
    return statistics.median(ratios[0]), statistics.median(ratios[1]), frozen


def main() -> None:
    hf_logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tok = tiny_tokenizer()
    splits = toy_splits(tok, False)
    base = tiny_gpt2(len(tok))
    print(
        f"step cost ÷ a plain SFT step on the same rows (tiny GPT-2, {ROWS} rows a side, median of {ROUNDS})"
    )
    print(f"{'method':<14}{'wall':>8}{'cpu':>8}{'frozen':>8}  target")
    methods = sys.argv[1].split(",") if len(sys.argv) > 1 else METHODS
    with tempfile.TemporaryDirectory() as out:
        for method in methods:
            wall, cpu, frozen = bench(method, base, tok, splits, out)
            target = "≤ 1.10" if frozen == 0 else f"(+{frozen} frozen forward{'s' * (frozen > 1)})"
            print(f"{method:<14}{wall:>8.3f}{cpu:>8.3f}{frozen:>8}  {target}", flush=True)


if __name__ == "__main__":
    main()
