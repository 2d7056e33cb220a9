"""Training the base model and the retrain reference as Hub-ready folders.

``train_base`` trains on a task's full train split with ``MubenchTrainer`` (``transformers.Trainer``
with mubench's safety fixes); ``train_retrain`` trains the reference on the retain split of one
deletion config with ``RetrainTrainer``, the one definition of the gold standard (its starting point
read from the base model's card). The best checkpoint is chosen on the validation split when the task
has one (never on test), and the folder gets safetensors weights, the config with the task's labels,
the processor or tokenizer, ``predictions.npz`` on every split (so the retrain model can serve as the
reference of the unlearning report without running again), ``train_results.json`` and a model card.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from transformers import PretrainedConfig, TrainingArguments, set_seed
from transformers.trainer_callback import PrinterCallback

from ..errors import MubenchError
from ..evaluation.predictions import PREDICTIONS_FILE, SplitPredictions, predict_split, save_predictions
from ..gguf import resolve_gguf
from ..hub.cards import render_model_card
from ..kinds import kind_of
from ..pipeline import Prepared, prepare
from ..rows import RowDataset
from ..splits import is_mubench_repo, read_manifest
from ..splits.layout import task_of_config
from ..tasks import Task, get_task
from ..trainers import RetrainTrainer
from ..training import MubenchTrainer
from .diffusion import fit_diffusion
from .outputs import TRAIN_RESULTS_FILE, backbone_of, check_output_dir, dataset_hash
from .recipe import RecipeArguments, recipe_defaults_for, recipe_from_card, recipe_of
from .sft import fit_sft


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
    elif Path(dataset).exists():
        raise MubenchError(
            f"{dataset} is not a deletion repo (no mubench.json); build it with 'mubench build-splits'"
        )
    elif Path(dataset).is_absolute() or dataset.startswith(".") or dataset.count("/") != 1:
        raise MubenchError(
            f"deletion repo folder {dataset!r} does not exist; build it with 'mubench build-splits --task {task.name}'"
        )
    else:
        try:
            names = [n for n in datasets.get_dataset_config_names(dataset) if n.startswith(f"{task.name}_")]
        except Exception as err:  # offline, or no such Hub repo: either way there is nothing to list
            raise MubenchError(
                f"dataset {dataset!r} is neither a local deletion repo nor a reachable Hub dataset "
                f"({type(err).__name__}); build one with 'mubench build-splits --task {task.name}'"
            ) from err
    if not names:
        raise MubenchError(
            f"{dataset} holds no config of task {task.name!r}; build it with 'mubench build-splits'"
        )
    return names


def _trainer(kind: str, prepared: Prepared, args: TrainingArguments) -> Any:
    splits = prepared.splits
    validation = splits.get("validation")
    common = dict(
        data_collator=prepared.collator, processing_class=prepared.processor, compute_metrics=_accuracy
    )
    if kind == "retrain":
        trainer = RetrainTrainer(model=prepared.model, args=args, splits=splits, **common)
        trainer.args.unlearning_report = False  # a reference model, not an unlearned one
        return trainer
    return MubenchTrainer(
        model=prepared.model,
        args=args,
        train_dataset=RowDataset(splits["train"]),
        eval_dataset=RowDataset(validation) if validation is not None else None,
        **common,
    )


def train_classifier(
    kind: str, prepared: Prepared, args: TrainingArguments, *, init: str | None, quiet: bool
) -> dict:
    """Train a base or retrain classifier on ``prepared`` (the ``"trainer"`` base recipe)."""
    output_dir = Path(args.output_dir)
    check_output_dir(output_dir)
    created = not output_dir.exists()
    if "validation" not in prepared.splits:  # nothing to select on; never select on test
        args.eval_strategy, args.load_best_model_at_end, args.metric_for_best_model = "no", False, None
    checkpoints = output_dir / "checkpoints"
    args.output_dir = str(checkpoints)
    try:
        trainer = _trainer(kind, prepared, args)
        if quiet:  # no per-epoch log lines (sweeps show their own progress bar)
            trainer.remove_callback(PrinterCallback)
        start = time.perf_counter()
        trainer.train()
        train_time = time.perf_counter() - start
        trainer.args.output_dir = args.output_dir = str(output_dir)
        trainer.save_model(str(output_dir))  # safetensors + config (+ processor when there is one)
    except BaseException:
        # nothing half-made is left behind: the checkpoints, and the folder if this call made it
        shutil.rmtree(output_dir if created else checkpoints, ignore_errors=True)
        raise
    shutil.rmtree(checkpoints, ignore_errors=True)

    splits = prepared.splits
    predictions: dict[str, SplitPredictions] = {
        name: predict_split(trainer, splits[name], name) for name in prepared.raw if name != "train"
    }
    results = {f"{name}_accuracy": pred.accuracy for name, pred in predictions.items()}
    meta = {"kind": kind, "task": prepared.task.name, "config": prepared.config, "train_time_s": train_time}
    save_predictions(output_dir / PREDICTIONS_FILE, predictions, meta)
    # the validation score of every evaluation: which epoch was kept, and why
    history = [
        {k: v for k, v in entry.items() if k in ("epoch", "step", "eval_accuracy", "eval_loss")}
        for entry in trainer.state.log_history
        if "eval_accuracy" in entry
    ]
    summary = {"train_runtime": train_time, "kind": kind, "config": prepared.config, **results}
    (output_dir / TRAIN_RESULTS_FILE).write_text(
        json.dumps({**summary, "eval_history": history}, indent=2) + "\n"
    )
    dataset = prepared.dataset
    card = render_model_card(
        kind,
        task=prepared.task,
        config=prepared.config if kind == "retrain" else None,
        dataset_repo=dataset if not Path(dataset).exists() else Path(dataset).name,
        dataset_hash=dataset_hash(dataset),
        backbone=backbone_of(trainer.model),
        recipe={**recipe_of(trainer.args), "init": init or getattr(trainer, "start_description", "")},
        seed=trainer.args.seed,
        results=results
        if kind == "retrain"
        else {k: results[k] for k in results if k.split("_")[0] in ("validation", "test", "ood")},
        model_name=output_dir.name,
    )
    card.save(str(output_dir / "README.md"))
    return {**results, "train_time_s": train_time, "output_dir": str(output_dir)}


_train = train_classifier  # the former private name

#: Base recipe (``TaskKind.base_recipe``) → how base and retrain models of that recipe are trained.
RECIPES = {"trainer": train_classifier, "sft": fit_sft, "diffusion": fit_diffusion}


def fit(kind: str, prepared: Prepared, args: TrainingArguments, *, init: str | None, quiet: bool) -> dict:
    """Train a base (``kind="base"``) or retrain model on ``prepared`` with its task kind's base recipe."""
    return RECIPES[kind_of(prepared.task).base_recipe](kind, prepared, args, init=init, quiet=quiet)


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
    args = _with_output_dir(args or RecipeArguments(**recipe_defaults_for(task, model)), output_dir)
    check_output_dir(Path(output_dir))
    config = config or task_configs(dataset, task)[0]
    set_seed(args.seed)  # the initial weights (built before the Trainer seeds) follow the recipe's seed too
    # a GGUF file: its dequantised folder, which the card records as the start (the retrain model loads it)
    model = resolve_gguf(model)
    prepared = prepare(
        dataset, config, model, task=task, processor=processor, cache_dir=cache_dir, required=("train",)
    )
    return fit("base", prepared, args, init=_describe_init(model), quiet=quiet)


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
    """Train the reference model of ``config`` on its retain split with ``RetrainTrainer``.

    ``model`` is usually the base model's folder (with its card): the reference starts where the base
    started (see :func:`mubench_hf.trainers.retrain.retrain_start`), never from the base's weights.
    When ``args`` is ``None`` the card's recipe is reused (the same recipe is what makes retrain the
    gold standard)."""
    task = get_task(task or task_of_config(config))
    recipe = {**task.recipe_defaults(), **recipe_from_card(model)}
    args = _with_output_dir(args or RecipeArguments(**recipe), output_dir)
    check_output_dir(Path(output_dir))
    prepared = prepare(
        dataset, config, model, task=task, processor=processor, cache_dir=cache_dir, required=("retain",)
    )
    return fit("retrain", prepared, args, init=None, quiet=quiet)


def _with_output_dir(args: TrainingArguments, output_dir: str | os.PathLike) -> TrainingArguments:
    args.output_dir = str(output_dir)
    return args


def _describe_init(model: Any) -> str:
    return model if isinstance(model, str) else f"config:{getattr(model, 'model_type', type(model).__name__)}"
