"""Base and retrain models of generation tasks, trained with TRL's ``SFTTrainer`` (completion-only loss).

* **base**: the model as built (``tiny:llama``, a pretrained checkpoint ...) fine-tuned on the full train
  split;
* **retrain**: the *same starting weights* fine-tuned on the retain split only, with the same recipe: the
  pretrained checkpoint the base was fine-tuned from (its card's ``recipe.init``), or, for a base built
  from a config, the fresh weights it started from (the same seed gives the same initialisation).

Rows are tokenized once by the task's encoding (``encoding.py``, the format the unlearning methods and the
report use too) and handed to ``SFTTrainer`` already processed; the labels carry ``-100`` on the prompt, so
the loss is on completion tokens only. TRL's ``SFTTrainer`` supports causal LMs only (its loss shifts the
labels for next-token prediction), so seq2seq models train with ``transformers.Trainer`` on the same
batches (the model's own loss on the decoder labels). Either way mubench's safety fixes apply (token never
pickled, pushes allow-listed, exact checkpoint reloads).

``LoRA``: ``--lora_r`` (with ``--lora_alpha``, ``--lora_dropout``) adapts the model with PEFT instead of
training every weight; MU-Bench's TOFU recipe is r=8, α=32.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import Trainer, TrainingArguments
from transformers.trainer_callback import PrinterCallback
from trl import SFTConfig, SFTTrainer

from ..errors import MubenchError
from ..training import SafeTrainingMixin
from .collator import GenerationCollator
from .encoding import encode_rows
from .task import COMPLETION_COLUMN, PROMPT_COLUMN

TRAIN_RESULTS_FILE = "train_results.json"
#: TrainingArguments fields carried over from the recipe into the SFT configuration
_CARRIED = (
    "output_dir", "num_train_epochs", "max_steps", "learning_rate", "lr_scheduler_type", "warmup_steps",
    "weight_decay", "per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
    "optim", "seed", "data_seed", "logging_steps", "disable_tqdm", "use_cpu", "bf16", "fp16", "max_grad_norm",
    "adam_beta1", "adam_beta2", "adam_epsilon", "push_to_hub", "hub_model_id", "hub_strategy", "hub_token",
    "hub_private_repo", "dataloader_num_workers",
)  # fmt: skip


class MubenchSFTTrainer(SafeTrainingMixin, SFTTrainer):
    """TRL's ``SFTTrainer`` with mubench's safety fixes (see ``mubench_hf.training``)."""


class MubenchSeq2SeqTrainer(SafeTrainingMixin, Trainer):
    """``transformers.Trainer`` for seq2seq generation models (TRL's SFT is causal-only)."""


def encoded_dataset(
    split: datasets.Dataset, tokenizer: Any, *, seq2seq: bool, max_length: int | None
) -> tuple[datasets.Dataset, int]:
    """The rows tokenized into ``input_ids`` / ``attention_mask`` / ``labels``, and how many prompts were cut."""
    encoded, cut = encode_rows(
        tokenizer, split[PROMPT_COLUMN], split[COMPLETION_COLUMN], seq2seq=seq2seq, max_length=max_length
    )
    return datasets.Dataset.from_dict(encoded), int(sum(cut))


def starting_model(kind: str, prepared: Any, seed: int) -> tuple[torch.nn.Module, str | None]:
    """What training starts from and how that is described in the card: the model as built (base), or the
    base's own starting point (retrain)."""
    if kind == "base":
        return prepared.model, None
    from ..modeling import fresh_model
    from ..trainers.retrain import _source_of, describe_start, retrain_start

    model = prepared.model
    if hasattr(model, "peft_config"):
        raise MubenchError(
            "retrain starts from the weights the base started from; pass the base model folder (merged), not a "
            "PEFT adapter"
        )
    source = _source_of(model)
    start, fresh = retrain_start(source) if source and Path(source).is_dir() else (source, True)
    description = describe_start(start or type(model).__name__, fresh)
    if fresh:
        return fresh_model(model, seed), description
    return prepared.task.modality_spec.auto_class().from_pretrained(start), description


def _lora(model: torch.nn.Module, args: Any) -> torch.nn.Module:
    """LoRA adapters when the recipe asks for them (``lora_r`` > 0; MU-Bench's TOFU recipe: r=8, α=32);
    the output layer stays frozen (it is the often tied embedding matrix)."""
    r = int(getattr(args, "lora_r", 0) or 0)
    if r <= 0:
        return model
    from ..lora import apply_lora

    adapted, _ = apply_lora(
        model,
        r=r,
        alpha=int(getattr(args, "lora_alpha", None) or 32),
        dropout=float(getattr(args, "lora_dropout", 0.0) or 0.0),
        train_head=False,
    )
    return adapted


def sft_config(args: TrainingArguments, *, has_validation: bool) -> SFTConfig:
    """The SFT configuration of a recipe: its training fields, completion-only loss, rows already tokenized,
    selection on the validation loss when the task has a validation split (never on test)."""
    values = {name: getattr(args, name) for name in _CARRIED if hasattr(args, name)}
    selection = (
        dict(
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=1,
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
        )
        if has_validation
        else dict(eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
    )
    return SFTConfig(
        **values,
        **selection,
        report_to="none",
        logging_strategy="epoch",
        completion_only_loss=True,
        max_length=None,  # rows are truncated (from the left of the prompt) by the task's encoding
        dataset_kwargs={"skip_prepare_dataset": True},
        remove_unused_columns=False,
        dataloader_pin_memory=False,
    )


def fit_generation_model(
    kind: str, prepared: Any, args: TrainingArguments, *, init: str | None, quiet: bool
) -> dict[str, Any]:
    """Train the base or retrain model of a generation task into ``args.output_dir`` (see the module
    docstring); writes the weights, the tokenizer, ``train_results.json`` and a model card."""
    from ..hub.cards import render_model_card
    from ..reference_models.train import _backbone, _check_output_dir, dataset_hash

    task, tokenizer = prepared.task, prepared.processor
    output_dir = Path(args.output_dir)
    _check_output_dir(output_dir)
    created = not output_dir.exists()
    split_name = "train" if kind == "base" else "retain"
    seq2seq = task.architecture == "seq2seq"
    train, cut = encoded_dataset(
        prepared.raw[split_name], tokenizer, seq2seq=seq2seq, max_length=task.max_length
    )
    validation = prepared.raw.get("validation")
    eval_set = (
        encoded_dataset(validation, tokenizer, seq2seq=seq2seq, max_length=task.max_length)[0]
        if validation is not None
        else None
    )
    model, start = starting_model(kind, prepared, int(args.seed))
    start = init or start or ""
    model = _lora(model, args)
    config = sft_config(args, has_validation=eval_set is not None)
    config.output_dir = str(output_dir / "checkpoints")
    collator = GenerationCollator(pad_token_id=int(tokenizer.pad_token_id))
    trainer_class = MubenchSeq2SeqTrainer if seq2seq else MubenchSFTTrainer
    common = dict(model=model, args=config, train_dataset=train, eval_dataset=eval_set, data_collator=collator,
                  processing_class=tokenizer)  # fmt: skip
    try:
        trainer = trainer_class(**common)
        if quiet:
            trainer.remove_callback(PrinterCallback)
        begin = time.perf_counter()
        output = trainer.train()
        train_time = time.perf_counter() - begin
        trained = trainer.model
        if hasattr(trained, "merge_and_unload"):
            trained = trained.merge_and_unload()  # a plain model folder: what retrain and unlearning load
        trained.save_pretrained(str(output_dir))
        tokenizer.save_pretrained(str(output_dir))
    except BaseException:
        shutil.rmtree(output_dir if created else output_dir / "checkpoints", ignore_errors=True)
        raise
    shutil.rmtree(output_dir / "checkpoints", ignore_errors=True)

    results = {"train_loss": float(output.training_loss)}
    if eval_set is not None:
        results["validation_loss"] = float(trainer.evaluate()["eval_loss"])
    summary = {
        "train_runtime": train_time,
        "kind": kind,
        "config": prepared.config,
        "trainer": "transformers.Trainer" if seq2seq else "trl.SFTTrainer",
        "num_train_rows": len(train),
        "truncated_prompts": cut,
        **results,
    }
    (output_dir / TRAIN_RESULTS_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    dataset = prepared.dataset
    recipe = {name: getattr(args, name) for name in ("num_train_epochs", "max_steps", "learning_rate",
              "lr_scheduler_type", "warmup_steps", "weight_decay", "per_device_train_batch_size",
              "gradient_accumulation_steps", "optim", "seed")}  # fmt: skip
    if getattr(args, "lora_r", 0):
        recipe.update(lora_r=args.lora_r, lora_alpha=getattr(args, "lora_alpha", 32))
    card = render_model_card(
        kind,
        task=task,
        config=prepared.config if kind == "retrain" else None,
        dataset_repo=dataset if not Path(dataset).exists() else Path(dataset).name,
        dataset_hash=dataset_hash(dataset),
        backbone=_backbone(trained),
        recipe={**recipe, "init": start},
        seed=int(args.seed),
        results=results,
        model_name=output_dir.name,
    )
    card.save(str(output_dir / "README.md"))
    return {**results, "train_time_s": train_time, "truncated_prompts": cut, "output_dir": str(output_dir)}
