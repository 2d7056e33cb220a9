"""Unlearning with a PEFT LoRA adapter: only the adapter and the classification head change.

Offline: scikit-learn's digits and a tiny ViT built from a config. Run from the repository root:

    python examples/lora_unlearning.py --output_dir /tmp/lora_unlearning

It builds the digits deletion repo, trains the original model, wraps it in LoRA adapters on the
attention projections (``q_proj``/``v_proj``), unlearns ``digits_del5`` with SalUn, checks that the
frozen base weights did not move, and prints the unlearning report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import datasets
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForImageClassification

from mubench_hf import build_splits
from mubench_hf.kinds.classification import prepare_splits, tiny_config
from mubench_hf.reference_models import RecipeArguments, train_base
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output_dir", default="lora_unlearning")
    parser.add_argument("--rank", type=int, default=8, help="LoRA rank")
    args = parser.parse_args()
    out = Path(args.output_dir)

    repo = out / "mubench"
    build_splits("digits", repo, ratios=(5,), overwrite=True, show_progress=False)
    vit = tiny_config("digits", "vit", num_channels=1)
    vit.save_pretrained(out / "vit_config")
    train_base(str(repo), "digits", str(out / "vit_config" / "config.json"), out / "base",
               RecipeArguments(num_train_epochs=10, disable_tqdm=True, use_cpu=True))  # fmt: skip

    model = AutoModelForImageClassification.from_pretrained(out / "base")
    lora = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules=["q_proj", "v_proj"],
                      modules_to_save=["classifier"])  # fmt: skip
    model = get_peft_model(model, lora)
    model.print_trainable_parameters()
    frozen_before = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}

    splits = prepare_splits(datasets.load_dataset(str(repo), "digits_del5"), "digits", model)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="salun", output_dir=str(out / "salun_lora"), learning_rate=5e-3,
                           num_train_epochs=3, per_device_train_batch_size=32, report_to="none",
                           save_strategy="no", disable_tqdm=True, use_cpu=True),
        splits=splits,
    )  # fmt: skip
    trainer.train()
    moved = [
        n for n, p in model.named_parameters() if n in frozen_before and not torch.equal(p, frozen_before[n])
    ]
    print(f"frozen base weights that moved: {len(moved)} (expected 0)")
    report = trainer.evaluate_unlearning()
    for key in ("forget_accuracy", "retain_accuracy", "test_accuracy", "mubench_score", "unlearn_time_s"):
        print(f"{key:>20}: {report[key]:.4f}")
    model.save_pretrained(out / "salun_lora" / "adapter")  # the adapter alone, a few kB
    print(f"adapter saved to {out / 'salun_lora' / 'adapter'}")


if __name__ == "__main__":
    main()
