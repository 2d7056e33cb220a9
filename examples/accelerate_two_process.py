"""Unlearning on several processes with ``accelerate``: the same weights as one process.

Run it twice with the same *global* batch size and compare the saved weights:

    CUDA_VISIBLE_DEVICES="" accelerate launch --multi_gpu --num_processes 2 \\
        examples/accelerate_two_process.py --per_device_batch 8 --output two.pt
    python examples/accelerate_two_process.py --per_device_batch 16 --output one.pt

(On CPU, ``accelerate launch --cpu --num_processes 2`` starts only ONE process in accelerate 1.x:
its CPU launcher needs MPI for more. ``--multi_gpu`` with no GPU visible starts two processes
through ``torch.distributed.run``, which then train on the CPU with the gloo backend. The script
saves the world size it saw, so a silent single-process run is easy to spot.)

Each run unlearns ``grad_ascent``, ``scrub``, ``salun`` and ``bad_teaching`` from the same tiny ViT on
digits (no batch norm and no dropout, whose per-process statistics and random draws would make the
runs differ for reasons that have nothing to do with unlearning) and saves every method's final
weights from the main process. ``Trainer`` shards each global batch across the processes and
averages gradients, so both runs take the same optimizer steps up to floating-point rounding.
Everything is offline: the data is scikit-learn's digits, the model is built from a config.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
from transformers import AutoModelForImageClassification

from mubench_hf import get_task
from mubench_hf.kinds.classification import prepare_splits, tiny_config
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

METHODS = ("grad_ascent", "scrub", "salun", "bad_teaching")
# Sizes that are multiples of every global batch used, so no process ever sees a short last batch.
FORGET_ROWS, RETAIN_ROWS = 64, 512


def deletion_splits(seed: int = 0):
    """A del5-like split of digits, built in memory: forget = the first rows of a seeded permutation."""
    data = get_task("digits").load()
    order = np.random.default_rng(seed).permutation(len(data["train"]))
    return {
        "forget": data["train"].select(order[:FORGET_ROWS].tolist()),
        "retain": data["train"].select(order[FORGET_ROWS : FORGET_ROWS + RETAIN_ROWS].tolist()),
        "validation": data["validation"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per_device_batch", type=int, required=True)
    parser.add_argument(
        "--output", required=True, help="file for the final weights of every method (torch.save)"
    )
    parser.add_argument("--max_steps", type=int, default=6)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--eval_during_unlearning",
        type=int,
        default=0,
        help="also score forget/validation accuracy every N steps and save each method's curve",
    )
    cli = parser.parse_args()
    torch.set_num_threads(1)

    torch.manual_seed(0)
    original = AutoModelForImageClassification.from_config(tiny_config("digits", "vit", num_channels=1))
    raw = deletion_splits()
    results = {}
    for method in cli.methods.split(","):
        model = AutoModelForImageClassification.from_config(original.config)
        model.load_state_dict(original.state_dict())
        args = UnlearnConfig(
            method=method,
            output_dir=os.path.join(os.path.dirname(os.path.abspath(cli.output)), f"run_{method}"),
            use_cpu=True,
            per_device_train_batch_size=cli.per_device_batch,
            per_device_eval_batch_size=32,
            max_steps=cli.max_steps,
            learning_rate=1e-3,
            seed=0,
            save_strategy="no",
            logging_strategy="no",
            report_to="none",
            disable_tqdm=True,
            eval_during_unlearning=cli.eval_during_unlearning,
        )
        splits = prepare_splits(raw, "digits", model)
        trainer = UnlearnTrainer(model=model, args=args, splits=splits)
        trainer.train()
        if trainer.is_world_process_zero():
            unwrapped = trainer.accelerator.unwrap_model(trainer.model)
            results[method] = {k: v.detach().cpu().clone() for k, v in unwrapped.state_dict().items()}
            if trainer.unlearning_curve is not None:  # every process holds the same gathered curve
                results[f"{method}/curve"] = trainer.unlearning_curve.points
        trainer.accelerator.wait_for_everyone()
    if results:
        results["world_size"] = int(os.environ.get("WORLD_SIZE", "1"))
        torch.save(results, cli.output)


if __name__ == "__main__":
    main()
