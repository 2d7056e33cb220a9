"""The base recipe of generation tasks: TRL's ``SFTTrainer`` (completion-only loss) for base and retrain models.

* **base**: the model as built (``tiny:llama``, a pretrained checkpoint ...) fine-tuned on the full train
  split;
* **retrain**: the *same starting weights* fine-tuned on the retain split only, with the same recipe: the
  pretrained checkpoint the base was fine-tuned from (its card's ``recipe.init``), or, for a base built
  from a config, the fresh weights it started from (the same seed gives the same initialisation).

Rows are tokenized once by the shared prompt encoder (``mubench_hf.modalities.prompt_encoding``, the
format the unlearning methods and the report use too) and handed to ``SFTTrainer`` already processed; the
labels carry ``-100`` on the prompt, so the loss is on completion tokens only. TRL's ``SFTTrainer`` supports causal LMs only (its loss shifts the
labels for next-token prediction), so seq2seq models train with ``transformers.Trainer`` on the same
batches (the model's own loss on the decoder labels). Either way mubench's safety fixes apply (token never
pickled, pushes allow-listed, exact checkpoint reloads).

``LoRA``: ``--lora_r`` (with ``--lora_alpha``, ``--lora_dropout``) adapts the model with PEFT instead of
training every weight; MU-Bench's TOFU recipe is r=8, α=32.

``sft_trainer`` builds the trainer; ``mubench_hf.reference_models`` runs it and writes the model folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import Trainer, TrainingArguments
from trl import SFTConfig, SFTTrainer

from ...lora import apply_lora
from ...modalities.base import COMPLETION_COLUMN, PROMPT_COLUMN
from ...modalities.prompt_encoding import encode_rows
from ...modalities.text_generation import GenerationCollator
from ...training import SafeTrainingMixin
from ..starting_point import retrain_starting_point

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
    auto_class = prepared.task.modality_spec.auto_class()
    return retrain_starting_point(
        prepared.model,
        seed,
        auto_class.from_pretrained,
        adapter_error="retrain starts from the weights the base started from; pass the base model folder "
        "(merged), not a PEFT adapter",
    )


def _lora(model: torch.nn.Module, args: Any) -> torch.nn.Module:
    """LoRA adapters when the recipe asks for them (``lora_r`` > 0; MU-Bench's TOFU recipe: r=8, α=32);
    the output layer stays frozen (it is the often tied embedding matrix)."""
    r = int(getattr(args, "lora_r", 0) or 0)
    if r <= 0:
        return model
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


def sft_trainer(kind: str, prepared: Any, args: TrainingArguments, output_dir: Path) -> tuple[Any, str, dict]:
    """The trainer of a base (``kind="base"``: the train split) or retrain (the retain split, from the base's
    starting point) model, checkpointing under ``output_dir / "checkpoints"``; how it started (``""`` for a
    base); and what the training summary records (trainer, rows, truncated prompts)."""
    task, tokenizer = prepared.task, prepared.processor
    seq2seq = task.architecture == "seq2seq"
    train, cut = encoded_dataset(
        prepared.raw["train" if kind == "base" else "retain"],
        tokenizer,
        seq2seq=seq2seq,
        max_length=task.max_length,
    )
    validation = prepared.raw.get("validation")
    eval_set = (
        encoded_dataset(validation, tokenizer, seq2seq=seq2seq, max_length=task.max_length)[0]
        if validation is not None
        else None
    )
    model, start = starting_model(kind, prepared, int(args.seed))
    model = _lora(model, args)
    config = sft_config(args, has_validation=eval_set is not None)
    config.output_dir = str(output_dir / "checkpoints")
    collator = GenerationCollator(pad_token_id=int(tokenizer.pad_token_id))
    trainer_class = MubenchSeq2SeqTrainer if seq2seq else MubenchSFTTrainer
    trainer = trainer_class(
        model=model, args=config, train_dataset=train, eval_dataset=eval_set, data_collator=collator,
        processing_class=tokenizer,
    )  # fmt: skip
    info = {
        "trainer": "transformers.Trainer" if seq2seq else "trl.SFTTrainer",
        "num_train_rows": len(train),
        "truncated_prompts": cut,
    }
    return trainer, start or "", info
