"""``mubench unlearn``: run one unlearning method on one deletion config and save the result.

    mubench unlearn --dataset DIR_OR_REPO --config digits_del5 --model MODEL_DIR --method salun \\
        --output_dir OUT [any UnlearnConfig / TrainingArguments flag, e.g. --learning_rate 1e-3]
    mubench unlearn args.yaml        # the same arguments as one JSON or YAML file

The method's own hyper-parameters are flags too (``--mask_ratio`` for salun, ``--kd_temperature`` for
scrub ...): ``--method`` is read first and selects the arguments class, so ``--help`` together with
``--method X`` lists X's flags. Every input is checked before training starts. The unlearned model
(and its processor) are saved to ``output_dir`` with ``unlearn_run.json`` (method, arguments, status),
``unlearning_results.json`` and ``predictions.npz`` (every metric on every split) and a model card.
Model selection (``load_best_model_at_end``) only ever sees the validation split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ._args import (
    command_line,
    explicit_names,
    help_requested,
    is_args_file,
    parse_dataclasses,
    print_cached_help,
    read_args_file,
)

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
    task_file: list[str] = field(
        default_factory=list,
        metadata={"help": "Task files (YAML/JSON) declaring tasks of your own data; --task may be one's path "
                  "too (a repo built from a task file knows its task without it)."},
    )  # fmt: skip
    processor: str | None = field(
        default=None,
        metadata={
            "help": "Image processor or tokenizer (folder or id); by default the one saved with --model, if any."
        },
    )
    cache_dir: str | None = field(default=None, metadata={"help": "cache_dir for datasets.load_dataset."})
    lora_rank: int = field(
        default=0,
        metadata={
            "help": "Unlearn through LoRA adapters of this rank (0: full fine-tuning). The adapted layers are "
            "found in the model (attention projections; convolutions for CNNs); a classifier's head is trained in "
            "full, a language model's output layer (tied to its embeddings) stays frozen."
        },
    )
    lora_alpha: int | None = field(
        default=None, metadata={"help": "LoRA scaling numerator (update × alpha/rank); default 2 × rank."}
    )
    trust_remote_code: bool = field(
        default=False,
        metadata={
            "help": "Run Python code shipped in a Hub model or processor repo (off: never run unasked)."
        },
    )
    allow_pickle: bool = field(
        default=False,
        metadata={
            "help": "Load pickled weights (pytorch_model.bin) when a model has no safetensors; unpickling "
            "can run arbitrary code, so only for sources you trust."
        },
    )


def _method_from(argv: list[str]) -> str | None:
    """The value of --method in argv or in a single JSON/YAML arguments file."""
    if is_args_file(argv):
        method = read_args_file(argv[0]).get("method")
        return str(method) if method is not None else None
    for i, arg in enumerate(argv):
        if arg == "--method" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--method="):
            return arg.split("=", 1)[1]
    return None


def _parser(method: str | None) -> Any:
    from transformers import HfArgumentParser

    from ..trainers import UnlearnConfig, get_spec

    config_class = get_spec(method).config if method else UnlearnConfig
    return HfArgumentParser(
        (UnlearnScriptArguments, config_class),
        prog="mubench unlearn",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def parse_args(argv: list[str]) -> tuple[UnlearnScriptArguments, Any]:
    """Parse command-line flags, or one JSON/YAML file, into the script and the method's arguments."""
    method = _method_from(argv)
    script, args = parse_dataclasses(_parser(method), command_line(argv))
    from ._tasks import use_task_files

    script.task = use_task_files(script.task, script.task_file, script.dataset)
    if not args.method:
        from ..trainers import list_methods

        raise MubenchError("give --method (e.g. --method salun); known methods: " + ", ".join(list_methods()))
    return script, args


def _write_results(output_dir: str, results: dict[str, Any]) -> None:
    from ..secrets import redact_value

    path = Path(output_dir) / RUN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    # redacted: an error message or an argument could hold the Hub token (--hub_token, HF_TOKEN)
    partial.write_text(json.dumps(redact_value(results), indent=2, default=str) + "\n")
    partial.replace(path)  # atomic: a reader never sees half a file


def _check_output_dir(output_dir: str) -> None:
    path = Path(output_dir)
    if path.exists() and not path.is_dir():
        raise MubenchError(f"--output_dir {output_dir!r} is a file; pass a folder (it is created if missing)")


def check_lora(script: UnlearnScriptArguments, method: str, explicit: set[str]) -> None:
    """Refuse LoRA settings that would train nothing or be ignored, before anything is loaded; say so
    when ``--lora_rank 0`` asks for full fine-tuning (the default) explicitly."""
    from ..trainers import get_spec

    rank, alpha = script.lora_rank, script.lora_alpha
    if rank < 0:
        raise MubenchError(
            f"--lora_rank must be >= 1 (LoRA adapters of that rank) or 0 (full fine-tuning), got {rank}"
        )
    if alpha is not None and rank == 0:
        raise MubenchError(
            f"--lora_alpha {alpha} only applies with LoRA: give --lora_rank R (R >= 1) too, or drop --lora_alpha"
        )
    if alpha is not None and alpha <= 0:
        raise MubenchError(
            f"--lora_alpha must be > 0 (each update is scaled by alpha/rank; 0 would change nothing), got "
            f"{alpha}; leave it out for 2 x rank"
        )
    if rank and not get_spec(method).trainer.makes_gradient_steps:
        raise MubenchError(
            f"--lora_rank: {method} makes no gradient steps (it edits the weights directly), so LoRA adapters "
            "would stay untrained; drop --lora_rank for this method"
        )
    if rank == 0 and "lora_rank" in explicit:
        print("mubench unlearn: --lora_rank 0: full fine-tuning (every weight is trained; no LoRA adapters)",
              file=sys.stderr)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mubench unlearn``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if help_requested(argv):
        method = _method_from([a for a in argv if a not in ("-h", "--help")])
        return print_cached_help("unlearn", method or "", lambda: _parser(method).format_help())
    from ..modeling import loading_policy
    from ..secrets import remember_token

    script, args = parse_args(argv)
    remember_token(args.hub_token)  # kept out of every file written below
    _check_output_dir(args.output_dir)
    check_lora(script, args.method, explicit_names(command_line(argv)))
    from .evaluate import check_model

    check_model(script.model, script.task, script.config)
    if args.push_to_hub:
        from ._push_common import check_hub_online

        # before training, not after it: or drop the flag and push the folder later
        check_hub_online(
            "--push_to_hub", f", or drop --push_to_hub and later run mubench push {args.output_dir} REPO_ID"
        )
    with loading_policy(trust_remote_code=script.trust_remote_code, allow_pickle=script.allow_pickle):
        return _run(script, args)


def _run(script: UnlearnScriptArguments, args: Any) -> int:
    """Train, save, score and write the run record (under the loading policy of the flags)."""
    from ..faults import tidy_on_interrupt
    from ..pipeline import prepare, unlearning_trainer
    from ..trainers import NonFiniteLossError

    prepared = prepare(
        script.dataset, script.config, script.model,
        task=script.task, processor=script.processor, cache_dir=script.cache_dir,
        lora_rank=script.lora_rank, lora_alpha=script.lora_alpha,
    )  # fmt: skip
    trainer = unlearning_trainer(prepared, args)  # checks every other input (e.g. the retrain reference)
    results: dict[str, Any] = {
        "method": args.method,
        "task": prepared.task.name,
        "dataset": script.dataset,
        "config": script.config,
        "model": script.model,
        "arguments": args.to_dict(),
    }
    start = time.perf_counter()
    try:
        with tidy_on_interrupt(args.output_dir):  # Ctrl-C or SIGTERM: no checkpoint left half-saved
            output = trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    except NonFiniteLossError as err:
        # Training stopped before the bad step: the model holds finite weights; keep them.
        trainer.save_model(args.output_dir)
        results.update(status="stopped", error=str(err), failed_step=err.step)
        results["unlearn_seconds"] = time.perf_counter() - start
        _write_results(args.output_dir, results)
        print(f"mubench unlearn: {err}\nsaved the last finite weights to {args.output_dir}", file=sys.stderr)
        return 1
    results["unlearn_seconds"] = time.perf_counter() - start
    trainer.save_model(args.output_dir)
    report = trainer.evaluate_unlearning()  # unlearning_results.json + predictions.npz
    trainer.create_model_card(report=report)  # README.md: ready for `mubench push OUT REPO_ID`
    results.update(status="done", train_metrics=output.metrics, global_step=output.global_step)
    _write_results(args.output_dir, results)  # last: "done" only once everything above is on disk
    summary = ", ".join(
        f"{k} {v:.4f}" for k, v in report.items() if k.endswith("_accuracy") and "_" not in k[:-9]
    )
    score = f"; MU-Bench score {report['mubench_score']:.4f}" if "mubench_score" in report else ""
    print(f"{args.method}: {results['unlearn_seconds']:.1f}s; {summary}{score}; saved to {args.output_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
