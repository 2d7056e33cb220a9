"""Unlearning a Hub image model on a mubench config (online: needs the Hugging Face Hub).

    python examples/unlearn_hub_image_model.py --model google/vit-base-patch16-224-in21k \\
        --output_dir vit_cifar10 [--push_org my-org]

Builds the ``cifar10`` deletion repo from ``uoft-cs/cifar10`` (the manifest records the exact commit),
fine-tunes the Hub checkpoint with a new 10-class head (the base model), retrains the ``cifar10_del5``
reference from the same pretrained checkpoint on the retain split, unlearns with SalUn and scores it.
With ``--push_org`` the splits, the base model and the unlearned model go to the Hub with their cards
(``base_model`` links the unlearned model to its base in the Hub's model tree). Not run in CI.
Use a GPU for the full data; ``--max_train`` keeps a CPU run short.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import datasets
from transformers import AutoImageProcessor, AutoModelForImageClassification

from mubench_hf import build_splits
from mubench_hf.hub import base_model_repo_id, push_model, push_splits, unlearned_model_repo_id
from mubench_hf.kinds.classification import data_collator_for, prepare_splits
from mubench_hf.reference_models import RecipeArguments, train_base, train_retrain
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="google/vit-base-patch16-224-in21k")
    parser.add_argument("--output_dir", default="vit_cifar10")
    parser.add_argument("--max_train", type=int, default=None, help="keep only this many train rows")
    parser.add_argument("--push_org", default=None, help="push splits and models under this Hub namespace")
    args = parser.parse_args()
    out = Path(args.output_dir)

    source = None
    if args.max_train:
        full = datasets.load_dataset("uoft-cs/cifar10")
        source = datasets.DatasetDict(train=full["train"].select(range(args.max_train)), test=full["test"])
    repo = out / "mubench"
    build_splits("cifar10", repo, ratios=(1, 5, 10), source=source, overwrite=True)
    recipe = RecipeArguments(learning_rate=5e-5, num_train_epochs=2, per_device_train_batch_size=32)
    train_base(str(repo), "cifar10", args.model, out / "base", recipe)
    train_retrain(str(repo), "cifar10_del5", args.model, out / "retrain", recipe)

    processor = AutoImageProcessor.from_pretrained(out / "base")
    model = AutoModelForImageClassification.from_pretrained(out / "base")
    splits = prepare_splits(datasets.load_dataset(str(repo), "cifar10_del5"), "cifar10", model, processor)
    base_id = base_model_repo_id(args.push_org, "cifar10", "vit") if args.push_org else None
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="salun", output_dir=str(out / "salun"), learning_rate=1e-5, num_train_epochs=1,
                           retrain_reference=str(out / "retrain"), base_model_id=base_id, report_to="none"),
        splits=splits,
        processing_class=processor,
        data_collator=data_collator_for("cifar10", processor),
    )  # fmt: skip
    trainer.train()
    report = trainer.evaluate_unlearning()
    print(report)
    trainer.save_model()
    trainer.create_model_card(report=report)
    if args.push_org:
        push_splits(repo, f"{args.push_org}/mubench-splits")
        push_model(out / "base", base_id)
        push_model(out / "salun", unlearned_model_repo_id(args.push_org, "cifar10", "vit", "salun", 5, 42))


if __name__ == "__main__":
    main()
