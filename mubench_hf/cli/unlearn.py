"""``mubench unlearn``: run one unlearning method on one deletion config and save the result.

    mubench unlearn --dataset DIR_OR_REPO --config digits_del5 --model MODEL_DIR --method salun \\
        --output_dir OUT [any UnlearnConfig / TrainingArguments flag, e.g. --learning_rate 1e-3]
    mubench unlearn args.yaml        # the same arguments as one JSON or YAML file

Settings that no flag gives come from the method's declared defaults for the task (the ones a sweep
cell gets: ``mubench_hf.sweeps.defaults``); the command prints the settings it uses, where each comes
from, and the planned number of optimisation steps before training. The method's own hyper-parameters
are flags too (``--mask_ratio`` for salun, ``--kd_temperature`` for
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
    flags_from_mapping,
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


@dataclass(frozen=True)
class Settings:
    """Where the run's settings came from: the declared defaults applied (``applied``), for which task
    (``task``; ``None`` when the config names none), and the names given explicitly (``given``)."""

    applied: dict[str, Any]
    task: str | None
    given: frozenset[str]
    tuned: bool = False  # whether the method has settings tuned for this task (beyond the common ones)
    # the pretrained checkpoint the model was fine-tuned from, when that set the declared settings aside
    pretrained: str | None = None


def parse_args(argv: list[str]) -> tuple[UnlearnScriptArguments, Any]:
    """Parse command-line flags, or one JSON/YAML file, into the script and the method's arguments
    (the method's declared defaults for the task filling in what is not given: :func:`parse_run`)."""
    script, args, _ = parse_run(argv)
    return script, args


def parse_run(argv: list[str]) -> tuple[UnlearnScriptArguments, Any, Settings]:
    """:func:`parse_args`, and which declared defaults it applied.

    What a flag (or the arguments file) does not set comes from the method's declared settings for the
    task, the same a sweep cell of that method gets (``mubench_hf.sweeps.defaults.method_defaults``), not
    from ``TrainingArguments``' fine-tuning defaults (lr 5e-5, 3 epochs), which do nothing for some methods
    and run hundreds of steps for others. Giving ``--num_train_epochs`` or ``--max_steps`` replaces both
    declared ones."""
    method = _method_from(argv)
    flags = command_line(argv)
    parser = _parser(method)
    script, args = parse_dataclasses(parser, flags)
    from ._tasks import use_task_files

    task = script.task = use_task_files(script.task, script.task_file, script.dataset)
    if not args.method:
        from ..trainers import list_methods

        raise MubenchError("give --method (e.g. --method salun); known methods: " + ", ".join(list_methods()))
    given = frozenset(explicit_names(flags))
    settings = _declared_defaults(script, args.method, given)
    if settings.applied:
        # parsed, not assigned: the values get argparse's checks and the config's own validation
        script, args = parse_dataclasses(
            parser, flags_from_mapping(settings.applied, "declared defaults") + flags
        )
        script.task = task  # as the task files resolved it above
    return script, args, settings


def _declared_defaults(script: UnlearnScriptArguments, method: str, given: frozenset[str]) -> Settings:
    from ..splits.layout import is_class_config, task_of_config
    from ..sweeps.defaults import default_hyperparameters, method_defaults, unset_defaults

    try:
        task = script.task or task_of_config(script.config)
        class_wise = is_class_config(script.config)
    except MubenchError:
        return Settings({}, None, given)  # a config that names no task: reported when the data are loaded
    declared = bool(default_hyperparameters(task, class_wise=class_wise).get(method))
    # only named where it set declared settings aside (a task without any says that instead)
    pretrained = pretrained_start(script.model) if declared else None
    defaults = method_defaults(method, task, class_wise=class_wise, pretrained=pretrained is not None)
    applied = unset_defaults(defaults, set(given))
    return Settings(applied, task, given, declared and pretrained is None, pretrained)


def pretrained_start(model: str) -> str | None:
    """The pretrained checkpoint ``model`` comes from, when it is known to: a GGUF file (or a folder holding
    one), or a base model whose card says it was fine-tuned from a checkpoint; ``None`` otherwise (a
    from-config base such as ``tiny:resnet``'s, or a model without a mubench base card)."""
    from ..gguf import gguf_file_of
    from ..kinds.starting_point import retrain_start

    try:
        gguf = gguf_file_of(model)
    except MubenchError:
        return None  # a bad GGUF path: reported with the model checks
    if gguf is not None:
        return str(gguf)
    start, fresh = retrain_start(model) if Path(model).is_dir() else (model, True)
    return None if fresh else str(start)


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

    script, args, settings = parse_run(argv)
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
    print(describe_settings(args, settings))
    with loading_policy(trust_remote_code=script.trust_remote_code, allow_pickle=script.allow_pickle):
        return _run(script, args, settings)


def describe_settings(args: Any, settings: Settings) -> str:
    """One line: the settings the run trains with and where they come from, e.g. ``npo: learning_rate
    0.001, max_steps 15, per_device_train_batch_size 32 (declared defaults for fictitious_authors;
    override with --learning_rate, --max_steps, --per_device_train_batch_size)``."""
    length = "max_steps" if args.max_steps > 0 else "num_train_epochs"
    names = list(dict.fromkeys(["learning_rate", length, "per_device_train_batch_size", *settings.applied]))
    shown = ", ".join(f"{name} {_value(getattr(args, name))}" for name in names if name != "method")
    declared = [name for name in names if name in settings.applied]
    given = [name for name in names if name in settings.given]
    rest = [name for name in names if name not in settings.applied and name not in settings.given]
    parts = []
    if declared:
        parts.append(f"declared defaults for {settings.task}: {', '.join(declared)}")
    if given:
        parts.append(f"given: {', '.join(given)}")
    if rest:
        why = (
            f", as the model was fine-tuned from the pretrained checkpoint {settings.pretrained} (the declared "
            f"settings for {settings.task} are for from-config models)"
            if settings.pretrained
            else f", as {args.method} has no declared settings for task {settings.task!r}"
            if not settings.tuned
            else ""
        )
        parts.append(f"TrainingArguments' defaults{why}: {', '.join(rest)}")
    overridable = ", ".join(f"--{name}" for name in names if name not in settings.given)
    hint = f"; override with {overridable}" if overridable else ""
    return f"{args.method}: {shown} ({'; '.join(parts)}{hint})"


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_plan(trainer: Any) -> str:
    """The number of optimisation steps ``trainer.train()`` is about to take, and why."""
    steps = trainer.planned_steps()
    args = trainer.args
    if steps == 0:
        return f"{args.method}: no optimisation steps (it edits the weights in one pass over the data)"
    if args.max_steps > 0:
        why = f"max_steps {args.max_steps}"
    else:
        rows = len(trainer.train_dataset)
        why = f"{_value(float(args.num_train_epochs))} epoch(s) over {rows} training row(s), batch {args.train_batch_size}"
        if args.gradient_accumulation_steps > 1:
            why += f" x {args.gradient_accumulation_steps} accumulated"
    return f"{args.method}: {steps} optimisation step(s) planned ({why})"


def _run(script: UnlearnScriptArguments, args: Any, settings: Settings | None = None) -> int:
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
    print(describe_plan(trainer))
    results: dict[str, Any] = {
        "method": args.method,
        "task": prepared.task.name,
        "dataset": script.dataset,
        "config": script.config,
        "model": script.model,
        "arguments": args.to_dict(),
        "declared_defaults": dict(settings.applied) if settings is not None else {},
        "planned_steps": trainer.planned_steps(),
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
