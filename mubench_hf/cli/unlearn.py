"""``mubench unlearn``: run one unlearning method on one deletion config and save the result.

    mubench unlearn --dataset DIR_OR_REPO --config digits_del5 --model MODEL_DIR --method salun \\
        --output_dir OUT [any UnlearnConfig / TrainingArguments flag, e.g. --learning_rate 1e-3]
    mubench unlearn args.yaml        # the same arguments as one JSON or YAML file

The method's own hyper-parameters are flags too (``--mask_ratio`` for salun, ``--kd_temperature`` for
scrub ...): ``--method`` is read first and selects the arguments class, so ``--help`` together with
``--method X`` lists X's flags. The unlearned model (and its processor) are saved to ``output_dir``
with ``unlearn_results.json``: accuracies on every split, wall time and the arguments used. Model
selection (``load_best_model_at_end``) only ever sees the validation split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import yaml
from transformers import HfArgumentParser

from ..errors import MubenchError
from ..modeling import build_model
from ..processing import data_collator_for, prepare_splits
from ..reference_models import load_processor
from ..splits.layout import task_of_config
from ..tasks import get_task
from ..trainers import NonFiniteLossError, UnlearnConfig, UnlearnTrainer, get_method

# What the run did (method, arguments, status); the scores go to the report's unlearning_results.json.
RUN_FILE = "unlearn_run.json"


@dataclass
class UnlearnScriptArguments:
    """What to unlearn from: the data and the model (the method and its settings are UnlearnConfig)."""

    dataset: str = field(
        metadata={"help": "Deletion dataset: a folder written by build-splits, or a Hub repo id."}
    )
    config: str = field(metadata={"help": "Deletion config, e.g. 'digits_del5' or 'digits_class3'."})
    model: str = field(
        metadata={"help": "The trained model: a checkpoint folder, a Hub id or a PEFT adapter folder."}
    )
    task: str | None = field(
        default=None, metadata={"help": "Task name; by default the part of --config before '_del'/'_class'."}
    )
    processor: str | None = field(
        default=None,
        metadata={
            "help": "Image processor or tokenizer (folder or id); by default the one saved with --model, if any."
        },
    )
    cache_dir: str | None = field(default=None, metadata={"help": "cache_dir for datasets.load_dataset."})


def _method_from(argv: list[str]) -> str | None:
    """The value of --method in argv or in a single JSON/YAML arguments file."""
    if len(argv) == 1 and argv[0].endswith((".json", ".yaml", ".yml")):
        text = Path(argv[0]).read_text()
        values = json.loads(text) if argv[0].endswith(".json") else yaml.safe_load(text)
        return (values or {}).get("method")
    for i, arg in enumerate(argv):
        if arg == "--method" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--method="):
            return arg.split("=", 1)[1]
    return None


def parse_args(argv: list[str]) -> tuple[UnlearnScriptArguments, UnlearnConfig]:
    """Parse command-line flags, or one JSON/YAML file, into the script and the method's arguments."""
    method = _method_from(argv)
    config_class = get_method(method).config_class if method else UnlearnConfig
    parser = HfArgumentParser(
        (UnlearnScriptArguments, config_class),
        prog="mubench unlearn",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if len(argv) == 1 and argv[0].endswith(".json"):
        script, args = parser.parse_json_file(argv[0])
    elif len(argv) == 1 and argv[0].endswith((".yaml", ".yml")):
        script, args = parser.parse_yaml_file(argv[0])
    else:
        script, args = parser.parse_args_into_dataclasses(args=argv)
    if not args.method:
        raise MubenchError("give --method (e.g. --method salun); known methods: " + ", ".join(_known()))
    return script, args


def _known() -> list[str]:
    from ..trainers import list_methods

    return list_methods()


def _task_name(script: UnlearnScriptArguments) -> str:
    return script.task or task_of_config(script.config)


def _write_results(output_dir: str, results: dict[str, Any]) -> None:
    path = Path(output_dir) / RUN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(results, indent=2, default=str) + "\n")
    partial.replace(path)  # atomic: a reader never sees half a file


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mubench unlearn``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    script, args = parse_args(argv)
    task = get_task(_task_name(script))

    raw = datasets.load_dataset(script.dataset, script.config, cache_dir=script.cache_dir)
    missing = [name for name in ("forget", "retain") if name not in raw]
    if missing:
        raise MubenchError(
            f"{script.dataset} config {script.config!r} has no {' or '.join(missing)} split "
            f"(it has {sorted(raw)}); use a deletion config written by 'mubench build-splits'"
        )
    model = build_model(task, script.model)
    processor = load_processor(task, script.processor or script.model)
    splits = prepare_splits(raw, task, model, processor)
    trainer = UnlearnTrainer(
        model=model,
        args=args,
        splits=splits,
        processing_class=processor,
        data_collator=data_collator_for(task, processor),
    )
    trainer.dataset_repo = script.dataset  # recorded in the model card
    results: dict[str, Any] = {
        "method": args.method,
        "task": task.name,
        "dataset": script.dataset,
        "config": script.config,
        "model": script.model,
        "arguments": args.to_dict(),
    }
    start = time.perf_counter()
    try:
        output = trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    except NonFiniteLossError as err:
        # Training stopped before the bad step: the model holds finite weights; keep them.
        trainer.save_model(args.output_dir)
        results.update(status="stopped", error=str(err), failed_step=err.step)
        results["unlearn_seconds"] = time.perf_counter() - start
        _write_results(args.output_dir, results)
        print(f"mubench unlearn: {err}\nsaved the last finite weights to {args.output_dir}", file=sys.stderr)
        return 1
    except ValueError as err:  # after NonFiniteLossError, itself a ValueError
        if "Expected more than 1 value per channel" not in str(err):
            raise
        # PyTorch's batch norm cannot train on a batch of one row: say which flag avoids it.
        raise MubenchError(
            f"the last training batch holds a single row and the model has batch norm ({len(trainer.train_dataset)} "
            f"training rows, batch size {args.per_device_train_batch_size}); pass --dataloader_drop_last true or "
            "another --per_device_train_batch_size"
        ) from err
    results["unlearn_seconds"] = time.perf_counter() - start
    trainer.save_model(args.output_dir)
    results.update(status="done", train_metrics=output.metrics, global_step=output.global_step)
    _write_results(args.output_dir, results)
    report = trainer.evaluate_unlearning()  # unlearning_results.json + predictions.npz
    trainer.create_model_card()  # README.md: ready for `mubench push OUT REPO_ID`
    summary = ", ".join(
        f"{k} {v:.4f}" for k, v in report.items() if k.endswith("_accuracy") and "_" not in k[:-9]
    )
    score = f"; MU-Bench score {report['mubench_score']:.4f}" if "mubench_score" in report else ""
    print(f"{args.method}: {results['unlearn_seconds']:.1f}s; {summary}{score}; saved to {args.output_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
