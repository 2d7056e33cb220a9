"""``mubench evaluate``: score a model on a deletion config with every unlearning metric.

    mubench evaluate --model OUT --dataset DIR_OR_REPO --config digits_del5 \\
        [--retrain RETRAIN_DIR_OR_PREDICTIONS] [--base-model BASE_DIR | --original-test-accuracy 0.97]

One prediction pass per split, all metrics, written to ``unlearning_results.json`` (and the
per-split logits to ``predictions.npz``) in ``--output_dir`` (default: the model folder).
"""

from __future__ import annotations

import argparse
import json
import tempfile

import datasets
from transformers import Trainer, TrainingArguments

from ..evaluation import RESULTS_FILE, evaluate_unlearning
from ..modeling import build_model
from ..processing import data_collator_for, prepare_splits
from ..reference_models import load_processor
from ..splits.layout import task_of_config
from ..tasks import get_task


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mubench evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder or Hub id to score")
    parser.add_argument("--dataset", required=True, help="deletion repo folder or Hub dataset id")
    parser.add_argument("--config", required=True, help="deletion config, e.g. digits_del5")
    parser.add_argument("--task", default=None, help="task name (default: from --config)")
    parser.add_argument("--retrain", default=None, help="retrain reference: model folder or predictions.npz")
    parser.add_argument("--base-model", default=None, help="the original model (its card or a quick evaluation "
                        "gives the MU-Bench score's anchor)")  # fmt: skip
    parser.add_argument(
        "--original-test-accuracy", type=float, default=None, help="the anchor, given directly"
    )
    parser.add_argument(
        "--processor", default=None, help="image processor or tokenizer (default: with --model)"
    )
    parser.add_argument("--output_dir", default=None, help="where to write the results (default: --model)")
    parser.add_argument("--batch_size", type=int, default=256, help="evaluation batch size (default: 256)")
    parser.add_argument(
        "--seed", type=int, default=42, help="seed of the random teacher and the MIA attacker"
    )
    parser.add_argument("--cache_dir", default=None, help="cache_dir for datasets.load_dataset")
    parser.add_argument("--use_cpu", action="store_true", help="evaluate on the CPU even if a GPU is present")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    task = get_task(args.task or task_of_config(args.config))
    raw = datasets.load_dataset(args.dataset, args.config, cache_dir=args.cache_dir)
    model = build_model(task, args.model)
    processor = load_processor(task, args.processor or args.model)
    splits = prepare_splits(raw, task, model, processor)
    output_dir = args.output_dir or args.model
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(
            model=model,
            args=TrainingArguments(
                output_dir=scratch,
                per_device_eval_batch_size=args.batch_size,
                report_to="none",
                seed=args.seed,
                use_cpu=args.use_cpu,
                disable_tqdm=True,
            ),
            data_collator=data_collator_for(task, processor),
            processing_class=processor,
        )
        results = evaluate_unlearning(
            trainer,
            splits,
            retrain=args.retrain,
            original_test_accuracy=args.original_test_accuracy,
            base_model=args.base_model,
            output_dir=output_dir,
            log=False,
        )
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}, indent=2))
    print(f"wrote {output_dir}/{RESULTS_FILE}")
    return 0
