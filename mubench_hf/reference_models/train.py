"""Training the original (base) model and the retrained reference model as Hub-ready folders.

``train_base`` trains on a task's full train split; ``train_retrain`` trains from scratch on the
retain split of one deletion config with the same recipe (by default read from the base model's card).
Both use a plain ``transformers.Trainer``; the best checkpoint is chosen on the validation split when
the task has one (never on test), and the folder gets safetensors weights, the config with the task's
labels, the processor or tokenizer, ``predictions.npz`` on every split (so the retrain model can serve
as the reference of the unlearning report without running again), ``train_results.json`` and a model
card rendered from ``hub_cards/model_card.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from huggingface_hub import ModelCard
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoTokenizer,
    PretrainedConfig,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_callback import PrinterCallback
from transformers.trainer_utils import IntervalStrategy, SaveStrategy

from .errors import MubenchError
from .evaluation.predictions import PREDICTIONS_FILE, SplitPredictions, predict_split, save_predictions
from .hub.cards import read_provenance, render_model_card
from .modeling import build_model, image_channels, tiny_config
from .processing import data_collator_for, prepare_splits
from .splits import is_mubench_repo, read_manifest
from .splits.layout import task_of_config
from .tasks import Task, get_task
from .trainers.data import RowDataset

TRAIN_RESULTS_FILE = "train_results.json"
# The settings a card records as the recipe (and ``retrain`` reuses): what decides the trained weights.
RECIPE_FIELDS = (
    "num_train_epochs",
    "max_steps",
    "learning_rate",
    "lr_scheduler_type",
    "warmup_steps",
    "weight_decay",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "optim",
    "seed",
)


@dataclass
class RecipeArguments(TrainingArguments):
    """``TrainingArguments`` with defaults for training classifiers from a config on CPU: a few epochs
    at a high learning rate, one evaluation per epoch on validation and the best epoch kept. Pass
    ``--learning_rate 5e-5`` and fewer epochs when fine-tuning a pretrained checkpoint."""

    output_dir: str = field(default="mubench-model", metadata={"help": "Folder of the trained model."})
    num_train_epochs: float = field(default=8.0, metadata={"help": "Training epochs."})
    learning_rate: float = field(default=3e-3, metadata={"help": "Peak learning rate (AdamW)."})
    per_device_train_batch_size: int = field(default=32, metadata={"help": "Batch size per device."})
    per_device_eval_batch_size: int = field(
        default=256, metadata={"help": "Evaluation batch size per device."}
    )
    eval_strategy: IntervalStrategy | str = field(
        default="epoch", metadata={"help": "When to evaluate on validation."}
    )
    save_strategy: SaveStrategy | str = field(default="epoch", metadata={"help": "When to save checkpoints."})
    save_total_limit: int | None = field(default=1, metadata={"help": "Checkpoints kept during training."})
    load_best_model_at_end: bool = field(default=True, metadata={"help": "Keep the best validation epoch."})
    metric_for_best_model: str | None = field(default="accuracy", metadata={"help": "Selection metric."})
    report_to: None | str | list[str] = field(
        default="none", metadata={"help": "Trackers ('none', 'all', ...)."}
    )
    logging_strategy: IntervalStrategy | str = field(default="epoch", metadata={"help": "When to log."})
    seed: int = field(default=42, metadata={"help": "Seed of initialisation and data order."})


def recipe_of(args: TrainingArguments) -> dict[str, Any]:
    """The recipe fields of ``args`` (what a card records and ``retrain`` reuses)."""
    return {name: getattr(args, name) for name in RECIPE_FIELDS if hasattr(args, name)}


def _accuracy(eval_prediction: Any) -> dict[str, float]:
    logits = (
        eval_prediction.predictions[0]
        if isinstance(eval_prediction.predictions, tuple)
        else eval_prediction.predictions
    )
    return {
        "accuracy": float(np.mean(np.asarray(logits).argmax(-1) == np.asarray(eval_prediction.label_ids)))
    }


def task_configs(dataset: str, task: Task) -> list[str]:
    """The deletion configs of ``task`` in a local deletion repo or a Hub dataset repo."""
    if is_mubench_repo(dataset):
        entry = read_manifest(dataset)["tasks"].get(task.name)
        names = list(entry["configs"]) if entry else []
    else:
        names = [n for n in datasets.get_dataset_config_names(dataset) if n.startswith(f"{task.name}_")]
    if not names:
        raise MubenchError(
            f"{dataset} holds no config of task {task.name!r}; build it with 'mubench build-splits'"
        )
    return names


def dataset_hash(dataset: str) -> str | None:
    """The content hash of a local deletion repo (``None`` for a Hub id: its card has it)."""
    return read_manifest(dataset)["content_hash"] if is_mubench_repo(dataset) else None


def resolve_model(task: Task, model: str | PretrainedConfig, sample: datasets.Dataset, *, fresh: bool):
    """A model for ``task`` from ``tiny:<arch>``, a config (object or ``.json`` file), or a checkpoint
    (``fresh=True`` re-initialises it from its config: retraining starts from scratch)."""
    channels = image_channels(sample, task.input_column) if task.modality == "image" else None
    if isinstance(model, str) and model.startswith("tiny:"):
        return build_model(task, tiny_config(task, model.split(":", 1)[1]), num_channels=channels)
    if isinstance(model, PretrainedConfig):
        return build_model(task, model, num_channels=channels)
    if str(model).endswith(".json") or fresh:
        config = AutoConfig.from_pretrained(
            str(Path(model).parent) if str(model).endswith(".json") else model
        )
        return build_model(task, config, num_channels=channels if str(model).endswith(".json") else None)
    config = AutoConfig.from_pretrained(str(model))
    return build_model(task, model, new_head=getattr(config, "num_labels", None) != task.num_labels)


def load_processor(task: Task, source: str | None) -> Any:
    """The checkpoint's image processor or tokenizer; ``None`` for image models built from a config."""
    if source is None or source.startswith("tiny:") or source.endswith(".json"):
        if task.modality == "text":
            raise MubenchError("text tasks need a tokenizer: pass --processor (a folder or Hub id)")
        return None
    loader = AutoImageProcessor if task.modality == "image" else AutoTokenizer
    try:
        return loader.from_pretrained(source)
    except (OSError, ValueError):
        if task.modality == "text":
            raise MubenchError(f"no tokenizer found with {source!r}; pass --processor") from None
        return None


def _train(
    kind: str,
    task: Task,
    dataset: str,
    config: str,
    model: Any,
    processor: Any,
    train_split: str,
    args: TrainingArguments,
    *,
    cache_dir: str | None,
    backbone: str,
    init: str,
    quiet: bool = False,
) -> dict[str, Any]:
    raw = datasets.load_dataset(dataset, config, cache_dir=cache_dir)
    if train_split not in raw:
        raise MubenchError(f"{dataset} config {config!r} has no {train_split!r} split (it has {sorted(raw)})")
    splits = prepare_splits(raw, task, model, processor)
    output_dir = Path(args.output_dir)
    has_validation = "validation" in splits
    if not has_validation:  # nothing to select on; never select on test
        args.eval_strategy, args.load_best_model_at_end, args.metric_for_best_model = "no", False, None
    checkpoints = output_dir / "checkpoints"
    args.output_dir = str(checkpoints)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=RowDataset(splits[train_split]),
        eval_dataset=RowDataset(splits["validation"]) if has_validation else None,
        data_collator=data_collator_for(task, processor),
        processing_class=processor,
        compute_metrics=_accuracy,
    )
    if quiet:  # no per-epoch log lines (sweeps show their own progress bar)
        trainer.remove_callback(PrinterCallback)
    start = time.perf_counter()
    trainer.train()
    train_time = time.perf_counter() - start
    args.output_dir = str(output_dir)
    trainer.save_model(str(output_dir))  # safetensors + config (+ processor when there is one)
    shutil.rmtree(checkpoints, ignore_errors=True)

    predictions: dict[str, SplitPredictions] = {
        name: predict_split(trainer, splits[name], name) for name in raw if name != "train"
    }
    results = {f"{name}_accuracy": pred.accuracy for name, pred in predictions.items()}
    meta = {"kind": kind, "task": task.name, "config": config, "train_time_s": train_time}
    save_predictions(output_dir / PREDICTIONS_FILE, predictions, meta)
    (output_dir / TRAIN_RESULTS_FILE).write_text(
        json.dumps({"train_runtime": train_time, "kind": kind, "config": config, **results}, indent=2) + "\n"
    )
    card = render_model_card(
        kind,
        task=task,
        config=config if kind == "retrain" else None,
        dataset_repo=dataset if not Path(dataset).exists() else Path(dataset).name,
        dataset_hash=dataset_hash(dataset),
        backbone=backbone,
        recipe={**recipe_of(args), "init": init},
        seed=args.seed,
        results=results
        if kind == "retrain"
        else {k: results[k] for k in results if k.split("_")[0] in ("validation", "test", "ood")},
        model_name=output_dir.name,
    )
    card.save(str(output_dir / "README.md"))
    return {**results, "train_time_s": train_time, "output_dir": str(output_dir)}


def train_base(
    dataset: str,
    task: str | Task,
    model: str | PretrainedConfig,
    output_dir: str | os.PathLike,
    args: TrainingArguments | None = None,
    *,
    config: str | None = None,
    processor: str | None = None,
    cache_dir: str | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Train the original model of ``task`` on its full train split into ``output_dir``; returns its
    accuracies and training time. ``args`` defaults to :class:`RecipeArguments`."""
    task = get_task(task)
    args = _with_output_dir(args or RecipeArguments(), output_dir)
    config = config or task_configs(dataset, task)[0]
    sample = datasets.load_dataset(dataset, config, split="test", cache_dir=cache_dir)
    set_seed(args.seed)  # the initial weights (built before the Trainer seeds) follow the recipe's seed too
    built = resolve_model(task, model, sample, fresh=False)
    return _train(
        "base", task, dataset, config, built, load_processor(task, processor or _str(model)), "train", args,
        cache_dir=cache_dir, backbone=_backbone(built), init=_describe_init(model), quiet=quiet,
    )  # fmt: skip


def train_retrain(
    dataset: str,
    config: str,
    model: str | PretrainedConfig,
    output_dir: str | os.PathLike,
    args: TrainingArguments | None = None,
    *,
    task: str | Task | None = None,
    processor: str | None = None,
    cache_dir: str | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Train the reference model of ``config`` on its retain split, from the base model's starting point.

    ``model`` is usually the base model's folder (with its card): the reference starts where the base
    started, never from the base's weights: from the same pretrained checkpoint (new head) when the base
    was fine-tuned from one, from fresh weights of the same architecture when it was built from a
    config. When ``args`` is ``None`` the card's recipe is reused (the same recipe is what makes retrain
    the gold standard). A folder without a mubench card is taken as the starting point itself."""
    task = get_task(task or task_of_config(config))
    args = _with_output_dir(args or RecipeArguments(**recipe_from_card(model)), output_dir)
    sample = datasets.load_dataset(dataset, config, split="test", cache_dir=cache_dir)
    start, fresh = retrain_start(model)
    set_seed(args.seed)
    built = resolve_model(task, start, sample, fresh=fresh)
    return _train(
        "retrain",
        task,
        dataset,
        config,
        built,
        load_processor(task, processor or _str(model)),
        "retain",
        args,
        cache_dir=cache_dir,
        backbone=_backbone(built),
        init=_describe_init(start)
        if not fresh
        else f"fresh weights, architecture of {_describe_init(start)}",
        quiet=quiet,
    )  # fmt: skip  (no base_model: retrain shares no weights with the base model)


def _with_output_dir(args: TrainingArguments, output_dir: str | os.PathLike) -> TrainingArguments:
    args.output_dir = str(output_dir)
    return args


def _describe_init(model: Any) -> str:
    return model if isinstance(model, str) else f"config:{getattr(model, 'model_type', type(model).__name__)}"


def _is_pretrained_checkpoint(init: str) -> bool:
    return not (init.startswith(("tiny:", "config:", "fresh weights")) or init.endswith(".json"))


def retrain_start(model: str | PretrainedConfig) -> tuple[str | PretrainedConfig, bool]:
    """Where the reference model starts: (a model spec, whether to re-initialise its weights)."""
    if not isinstance(model, str):
        return model, True
    readme = Path(model) / "README.md"
    info = read_provenance(ModelCard.load(readme)) if readme.is_file() else {}
    if info.get("kind") == "base":  # a mubench base model (other cards, e.g. a checkpoint's own, don't count)
        init = (info.get("recipe") or {}).get("init")
        if isinstance(init, str) and _is_pretrained_checkpoint(init):
            return init, False  # the pretrained checkpoint the base was fine-tuned from
        return model, True  # a mubench base built from a config: its architecture, fresh weights
    return model, not _is_pretrained_checkpoint(model)


def recipe_from_card(model: Any) -> dict[str, Any]:
    """The training recipe recorded in the card of the model folder ``model``."""
    readme = Path(str(model)) / "README.md"
    if not readme.is_file():
        raise MubenchError(
            f"no recipe to reuse: {model} has no model card; pass the training arguments explicitly"
        )
    recipe = read_provenance(ModelCard.load(readme)).get("recipe") or {}
    return {k: v for k, v in recipe.items() if k in RECIPE_FIELDS}


def _str(model: Any) -> str | None:
    return model if isinstance(model, str) else None


def _backbone(model: Any) -> str:
    config = getattr(model, "config", None)
    return getattr(config, "model_type", None) or type(model).__name__
