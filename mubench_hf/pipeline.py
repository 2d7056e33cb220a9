"""One way through the product: load a deletion config → build the model → attach the task's
processing → train (unlearn) → score every split → write the card.

``mubench unlearn``, ``mubench evaluate``, the sweep cells and the base/retrain trainers all go through
these functions, so a fix or a new modality lands in one place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
from torch import nn
from transformers import PretrainedConfig, TrainingArguments

from .errors import MubenchError
from .evaluation import evaluate_unlearning
from .evaluation.report import check_reference_source
from .kinds import kind_of
from .lora import apply_lora
from .splits import load_deletion_config
from .splits.layout import task_of_config
from .tasks import Task, get_task


@dataclass
class Prepared:
    """A deletion config ready to train or score on: raw and processed splits, the model, its processing."""

    task: Task
    dataset: str
    config: str
    raw: datasets.DatasetDict
    splits: datasets.DatasetDict  # the raw splits with the task's transform attached
    model: nn.Module
    processor: Any
    collator: Callable[[list[dict]], dict]


def load_config_splits(
    dataset: str, config: str, *, cache_dir: str | None = None, required: tuple[str, ...] = ()
) -> datasets.DatasetDict:
    """The splits of deletion config ``config`` in ``dataset`` (a local repo folder or a Hub id)."""
    return load_deletion_config(str(dataset), config, cache_dir=cache_dir, required=required)


def prepare(
    dataset: str,
    config: str,
    model: str | os.PathLike | PretrainedConfig | nn.Module,
    *,
    task: str | Task | None = None,
    processor: str | None = None,
    cache_dir: str | None = None,
    required: tuple[str, ...] = ("forget", "retain", "test"),
    trust_remote_code: bool | None = None,
    allow_pickle: bool | None = None,
    lora_rank: int = 0,
    lora_alpha: int | None = None,
) -> Prepared:
    """Load ``config``, build (or take) ``model`` for its task, and attach the task's processing.

    ``lora_rank`` > 0 wraps the model in LoRA adapters of that rank (targets found in the model, a
    classifier's head trained in full, a language model's output layer frozen; ``lora_alpha`` defaults
    to twice the rank): see ``mubench_hf.lora``.

    ``model`` is a trained model (folder, Hub id, PEFT adapter folder, or a GGUF file: see
    ``mubench_hf.gguf``), a spec that builds one
    (``tiny:resnet``, a config or ``config.json``: fresh weights), or a module already built.
    ``trust_remote_code`` / ``allow_pickle`` default to the active ``modeling.loading_policy`` (no and no).
    """
    from .gguf import resolve_gguf

    # a GGUF file (or a folder holding one) becomes its dequantised model folder, converted once and cached
    model, processor = resolve_gguf(model), resolve_gguf(processor)
    task = get_task(task or task_of_config(config))
    kind = kind_of(task)
    raw = load_config_splits(dataset, config, cache_dir=cache_dir, required=required)
    source = processor or (str(model) if isinstance(model, (str, os.PathLike)) else None)
    # the task's kind decides how processors and models are made (a generation task's tiny model takes
    # the vocabulary of the tokenizer it trains on the data, so the processor comes first)
    loaded_processor = kind.load_processor(task, source, raw, trust_remote_code=trust_remote_code)
    if isinstance(model, nn.Module):
        built = model
    else:
        built = kind.build_model(
            task, model, raw, loaded_processor, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle
        )
    splits = kind.process_splits(task, raw, built, loaded_processor)
    if lora_rank:
        alpha = 2 * lora_rank if lora_alpha is None else lora_alpha  # 0 is refused there, not replaced
        built, _ = apply_lora(built, r=lora_rank, alpha=alpha, train_head=kind.lora_trains_head)
    return Prepared(
        task=task,
        dataset=str(dataset),
        config=config,
        raw=raw,
        splits=splits,
        model=built,
        processor=loaded_processor,
        collator=kind.collator(task, loaded_processor),
    )


def unlearning_trainer(prepared: Prepared, args: TrainingArguments, **trainer_kwargs: Any) -> Any:
    """The method's ``UnlearnTrainer`` on ``prepared`` (``args.method`` picks the method)."""
    # on first use: scoring and evaluating import no trainer (the methods pull in TRL and PEFT)
    from .trainers import UnlearnTrainer

    trainer_kwargs.setdefault("objective", kind_of(prepared.task).objective())
    trainer_kwargs.setdefault("dataset_repo", prepared.dataset)  # recorded in the model card
    return UnlearnTrainer(
        model=prepared.model,
        args=args,
        splits=prepared.splits,
        processing_class=prepared.processor,
        data_collator=prepared.collator,
        **trainer_kwargs,
    )


def scoring_trainer(
    prepared: Prepared,
    output_dir: str,
    *,
    batch_size: int = 256,
    seed: int = 42,
    use_cpu: bool = False,
    progress: bool = False,
) -> Any:
    """A plain ``Trainer`` that only scores ``prepared.model`` (devices, collator, batch size); ``progress``:
    the report's scoring passes draw bars (on a terminal)."""
    from transformers import PrinterCallback, Trainer

    if batch_size <= 0:
        raise MubenchError(f"the evaluation batch size must be > 0, got {batch_size}")
    trainer = Trainer(
        model=prepared.model,
        args=TrainingArguments(
            output_dir=output_dir,
            per_device_eval_batch_size=batch_size,
            report_to="none",
            seed=seed,
            use_cpu=use_cpu,
            disable_tqdm=not progress,
            dataloader_pin_memory=False,
        ),
        data_collator=prepared.collator,
        processing_class=prepared.processor,
    )
    trainer.remove_callback(PrinterCallback)
    return trainer


def score(
    prepared: Prepared,
    *,
    output_dir: str | os.PathLike | None,
    retrain: Any = None,
    original_test_accuracy: float | None = None,
    base_model: str | os.PathLike | None = None,
    unlearn_time_s: float | None = None,
    extra: Mapping[str, Any] | None = None,
    batch_size: int = 256,
    seed: int = 42,
    use_cpu: bool = False,
    relearn: Any = None,
    generation: Any = None,
    record: Mapping[str, Any] | None = None,
    max_eval_rows: int | None = None,
    eval_sample_seed: int | None = None,
    report_cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
    attacks: Any = None,
) -> dict[str, Any]:
    """Every unlearning metric of ``prepared.model`` on the config's splits (see
    :func:`mubench_hf.evaluation.evaluate_unlearning`); written to ``output_dir`` when given.
    ``relearn`` (``True`` or a ``RelearnSettings``) adds the relearn time. ``generation`` (a
    ``GenerationSettings`` or a dict of its fields) sets how a generation task's report generates;
    a classification task refuses it (it generates nothing). ``max_eval_rows`` (``eval_sample_seed``) bounds
    each scored split to a seeded sample; ``report_cache_dir`` keeps the reference models' values on disk;
    ``progress`` shows the scoring passes' bars (on a terminal). ``attacks`` (an ``AttackSettings``, names or a
    dict) adds the forget metric after attacks on the forgetting (:mod:`mubench_hf.evaluation.attacks`).
    ``record``: results measured by the caller (lm-eval's), added to the report as they are."""
    if original_test_accuracy is not None and not 0.0 <= float(original_test_accuracy) <= 1.0:
        raise MubenchError(f"the original test accuracy is a share in [0, 1], got {original_test_accuracy}")
    if retrain is not None:
        check_reference_source(retrain)
    if base_model is not None and not Path(base_model).is_dir():
        raise MubenchError(f"base model folder {str(base_model)!r} does not exist")
    # the kind's report settings (a generation task's GenerationSettings), checked before any scoring
    settings = kind_of(prepared.task).report_settings(prepared.task, generation)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = scoring_trainer(
            prepared, scratch, batch_size=batch_size, seed=seed, use_cpu=use_cpu, progress=progress
        )
        return evaluate_unlearning(
            trainer,
            prepared.splits,
            retrain=retrain,
            original_test_accuracy=original_test_accuracy,
            base_model=base_model,
            unlearn_time_s=unlearn_time_s,
            output_dir=output_dir,
            extra=extra,
            log=False,
            relearn=relearn,
            generation=settings,
            record=record,
            max_eval_rows=max_eval_rows,
            eval_sample_seed=eval_sample_seed,
            report_cache_dir=report_cache_dir,
            attacks=attacks,
        )
