"""Benchmark of the text-to-image kind (CPU, the tiny digits_t2i UNet built from its config). Prints ratios,
each against a baseline measured in the same run; asserts nothing.

1. Sampling: images per second of the report's batched generation (``sampling.generate``: every prompt of a
   report in one DDIM + classifier-free-guidance loop, 500 images a batch) ÷ the same loop called image by
   image (one prompt per call, which is what calling a diffusers pipeline per image costs: the per-call
   overhead and a batch of 2 through the UNet at every step). Target ≥ 5x. CPU time (``process_time``) is
   compared, not wall time: this shared VM's load changes the wall clock by several times within a minute.
2. Unlearning time as a fraction of retraining: CPU time of an unlearning run of each forget-only method
   (steps over the 128 images of digit 3) ÷ the CPU time of the retrain recipe on the retain split, both
   extrapolated from the measured seconds per step (the recipe's 40 epochs are not run here).

Measured on the shared 2-core VM (one torch thread): batched 18.9 images/s against 4.3 image by image,
4.4x, at load 13-17; 20.3 against 6.3, 3.2x, on the quiet machine (load < 1: the image-by-image loop gains
most from an idle cache). Both are below the 5x target on this CPU, where the UNet's arithmetic per image,
not the per-call overhead, dominates, which batching cannot remove. The retrain recipe is
720 steps (~186 s CPU); ESD's 20 steps cost ~0.05 of it, FMN's 20 steps 0.016, grad_ascent's 8 steps 0.006.

Run: ``python bench/bench_t2i.py`` (a minute or two on two cores).
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

from mubench_hf import build_splits  # noqa: E402
from mubench_hf.kinds import get_kind  # noqa: E402
from mubench_hf.kinds.image_generation.sampling import SamplingSettings, concept_prompts, generate  # noqa: E402
from mubench_hf.tasks import get_task  # noqa: E402

IMAGES_PER_CONCEPT = 10  # 100 images in all
PER_IMAGE_SHARE = 20  # the per-image baseline runs on the first 20 prompts (same seeds), then scales


def _cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    torch.set_num_threads(1)
    task, kind = get_task("digits_t2i"), get_kind("image_generation")
    with tempfile.TemporaryDirectory() as tmp:
        repo = f"{tmp}/mubench"
        build_splits("digits_t2i", repo, ratios=[5], forget_classes=[3], show_progress=False)
        datasets.disable_progress_bars()
        raw = datasets.load_dataset(repo, "digits_t2i_class3", cache_dir=f"{tmp}/cache")
        tokenizer = kind.load_processor(task, None, raw)
        torch.manual_seed(0)
        model = kind.build_model(task, "tiny:unet", raw, tokenizer)
        prompts, _ = concept_prompts(task.prompts(), list(range(10)), IMAGES_PER_CONCEPT)
        settings = SamplingSettings(inference_steps=20, batch_size=500)

        batched = [_cpu(lambda: generate(model, prompts, settings)) for _ in range(3)]
        one = SamplingSettings(inference_steps=20, batch_size=1)
        single = [
            _cpu(lambda: [generate(model, [p], one) for p in prompts[:PER_IMAGE_SHARE]]) for _ in range(3)
        ]
        batched_rate = len(prompts) / statistics.median(batched)
        single_rate = PER_IMAGE_SHARE / statistics.median(single)
        print(f"sampling: batched {batched_rate:.1f} images/s (CPU), image by image {single_rate:.1f} images/s; "
              f"ratio {batched_rate / single_rate:.1f}x (target >= 5x)")  # fmt: skip

        # unlearning time vs retraining time, per optimisation step (batch 32 for unlearning, as the sweep's
        # cells; the retrain recipe's batch of 64)
        splits = kind.process_splits(task, raw, model, tokenizer)
        collator = kind.collator(task, tokenizer)
        optimiser = torch.optim.AdamW(model.parameters(), 1e-3)
        objective = kind.objective()

        def steps(split: str, batch: int, count: int) -> None:
            for i in range(count):
                rows = [splits[split][(i * batch + j) % len(splits[split])] for j in range(batch)]
                inputs = collator(rows)
                loss = objective.loss(objective.outputs(model, inputs), inputs)
                loss.backward()
                optimiser.step()
                optimiser.zero_grad()

        unlearn_step = statistics.median(_cpu(lambda: steps("forget", 32, 3)) / 3 for _ in range(3))
        retrain_step = statistics.median(_cpu(lambda: steps("retain", 64, 3)) / 3 for _ in range(3))
        recipe = task.recipe_defaults()
        retrain_steps = recipe["num_train_epochs"] * -(
            -len(raw["retain"]) // recipe["per_device_train_batch_size"]
        )
        retrain_cpu = retrain_step * retrain_steps
        print(f"retrain recipe: {retrain_steps:.0f} steps, ~{retrain_cpu:.0f} s CPU")
        # ESD with --esd_xt_source forget_images runs θo twice more per step (conditional and unconditional
        # targets): about 3x a plain step. Its default (x_t sampled by the student) adds the sampling; the
        # sweep measures that run directly (unlearn_time_fraction_of_retrain)
        for method, count, factor in (("esd (forget_images x_t), 5 epochs of Df", 5 * 4, 3.0), ("fmn, 5 epochs of Df", 5 * 4, 1.0),
                                      ("grad_ascent, 2 epochs of Df", 2 * 4, 1.0)):  # fmt: skip
            share = factor * unlearn_step * count / retrain_cpu
            print(f"  {method}: {count} steps, {share:.3f} of the retrain time")


if __name__ == "__main__":
    main()
