"""``mubench train-base`` and ``mubench retrain``: the original model and the retrained reference model.

    mubench train-base --dataset DIR_OR_REPO --task digits --model tiny:resnet --output_dir OUT [flags]
    mubench retrain --dataset DIR_OR_REPO --config digits_del5 --model BASE_DIR --output_dir OUT [flags]

``--model`` takes ``tiny:resnet`` / ``tiny:vit`` / ``tiny:bert`` (small configs for CPU), a config
``.json`` file (fresh weights), or a checkpoint folder / Hub id. Every ``TrainingArguments`` flag is
accepted (``--learning_rate``, ``--num_train_epochs`` ...); a single JSON or YAML file of arguments
works too. ``retrain`` re-initialises the architecture of ``--model`` and, unless training flags are
given, reuses the recipe recorded in its card.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ..faults import tidy_on_interrupt
from ._args import command_line, explicit_names, help_requested, parse_dataclasses, print_cached_help


@dataclass
class ModelScriptArguments:
    """Where the data and the starting model come from."""

    dataset: str = field(
        metadata={"help": "Deletion repo: a folder written by build-splits, or a Hub dataset id."}
    )
    model: str = field(
        metadata={"help": "tiny:resnet|tiny:vit|tiny:bert, a config .json, or a checkpoint/Hub id."}
    )
    task: str | None = field(
        default=None, metadata={"help": "Task name (train-base; retrain reads it from --config)."}
    )
    config: str | None = field(
        default=None,
        metadata={"help": "Deletion config: required for retrain; for train-base any config of the task."},
    )
    task_file: list[str] = field(
        default_factory=list,
        metadata={"help": "Task files (YAML/JSON) declaring tasks of your own data; --task may be one's path "
                  "too (a repo built from a task file knows its task without it)."},
    )  # fmt: skip
    processor: str | None = field(
        default=None, metadata={"help": "Image processor or tokenizer (folder or Hub id)."}
    )
    cache_dir: str | None = field(default=None, metadata={"help": "cache_dir for datasets.load_dataset."})
    lora_r: int = field(
        default=0,
        metadata={
            "help": "Generation tasks: train LoRA adapters of this rank instead of every weight (0: full "
            "fine-tuning; MU-Bench's TOFU recipe: 8); the adapters are merged into the saved model."
        },
    )
    lora_alpha: int = field(
        default=32, metadata={"help": "LoRA scaling numerator (MU-Bench's TOFU recipe: 32)."}
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


def _parser(prog: str) -> Any:
    from transformers import HfArgumentParser

    from ..reference_models import RecipeArguments

    return HfArgumentParser((ModelScriptArguments, RecipeArguments), prog=prog, description=__doc__)


def _parse(argv: list[str], prog: str) -> tuple[ModelScriptArguments, Any, set[str]]:
    """The parsed arguments and the names of the training arguments the user set explicitly."""
    from ..secrets import remember_token

    flags = command_line(argv)
    script, args = parse_dataclasses(_parser(prog), flags)
    remember_token(args.hub_token)  # kept out of every file the run writes
    from ._tasks import use_task_files

    script.task = use_task_files(script.task, script.task_file, script.dataset)
    if args.push_to_hub:
        from ._push_common import check_hub_online

        check_hub_online(
            "--push_to_hub", f", or drop --push_to_hub and later run mubench push {args.output_dir} REPO_ID"
        )
    return script, args, explicit_names(flags)


def _policy(script: ModelScriptArguments) -> Any:
    from ..modeling import loading_policy

    return loading_policy(trust_remote_code=script.trust_remote_code, allow_pickle=script.allow_pickle)


def _task_recipe(script: ModelScriptArguments, args: Any, explicit: set[str], task: Any) -> None:
    """The task's own recipe defaults (generation tasks train longer) for the flags not given, and LoRA;
    a pretrained checkpoint as ``--model`` gets fine-tuning's learning rate and length instead of the
    from-config ones (said on stderr, with the flags that override them)."""
    from ..reference_models.recipe import PRETRAINED_RECIPE, recipe_defaults_for, starts_pretrained
    from ..tasks import get_task

    for name, value in recipe_defaults_for(get_task(task), script.model).items():
        if name not in explicit:
            setattr(args, name, value)
    if script.lora_r:
        args.lora_r, args.lora_alpha = script.lora_r, script.lora_alpha
    unset = [name for name in PRETRAINED_RECIPE if name not in explicit]
    if starts_pretrained(script.model) and unset:
        shown = ", ".join(f"{name} {getattr(args, name):g}" for name in unset)
        flags = ", ".join(f"--{name}" for name in unset)
        print(f"mubench train-base: {script.model} is a pretrained checkpoint: fine-tuning defaults {shown} "
              f"(the from-config recipe's rate would wreck its weights); override with {flags}",
              file=sys.stderr)  # fmt: skip


def _report(kind: str, results: dict) -> None:
    scores = ", ".join(
        f"{k} {v:.4f}" for k, v in results.items() if k.endswith(("_accuracy", "_loss")) and v is not None
    )
    print(f"{kind}: {results['train_time_s']:.1f}s; {scores}; saved to {results['output_dir']}")


def main(argv: list[str] | None = None) -> int:
    """``mubench train-base``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if help_requested(argv):
        return print_cached_help("train-base", "", lambda: _parser("mubench train-base").format_help())
    script, args, explicit = _parse(argv, "mubench train-base")
    if not script.task:
        raise MubenchError("--task is required (e.g. --task digits)")
    from ..reference_models import train_base

    _task_recipe(script, args, explicit, script.task)

    with _policy(script), tidy_on_interrupt(args.output_dir):
        results = train_base(
            script.dataset, script.task, script.model, args.output_dir, args,
            config=script.config, processor=script.processor, cache_dir=script.cache_dir,
        )  # fmt: skip
    _report("base", results)
    return 0


def retrain_main(argv: list[str] | None = None) -> int:
    """``mubench retrain``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if help_requested(argv):
        return print_cached_help("retrain", "", lambda: _parser("mubench retrain").format_help())
    script, args, explicit = _parse(argv, "mubench retrain")
    if not script.config:
        raise MubenchError("--config is required (e.g. --config digits_del5)")
    from ..reference_models import recipe_from_card, train_retrain
    from ..splits.layout import task_of_config

    _task_recipe(script, args, explicit, script.task or task_of_config(script.config))
    if Path(script.model, "README.md").is_file():
        # the base model's recipe, except for what the command line sets: same recipe, same gold standard
        for name, value in recipe_from_card(script.model).items():
            if name not in explicit:
                setattr(args, name, value)
    with _policy(script), tidy_on_interrupt(args.output_dir):
        results = train_retrain(
            script.dataset, script.config, script.model, args.output_dir, args,
            task=script.task, processor=script.processor, cache_dir=script.cache_dir,
        )  # fmt: skip
    _report("retrain", results)
    return 0
