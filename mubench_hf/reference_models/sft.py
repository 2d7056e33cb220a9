"""Training the base and retrain models of a task whose kind's base recipe is SFT (generation tasks):
the trainer comes from the kind (``mubench_hf.kinds.generation.sft``: TRL's ``SFTTrainer``, completion-only
loss, or ``transformers.Trainer`` for seq2seq models); this writes the Hub-ready folder (weights merged
when LoRA adapted them, the tokenizer, ``train_results.json``, a model card).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from transformers import TrainingArguments
from transformers.trainer_callback import PrinterCallback

from ..hub.cards import render_model_card
from ..kinds.generation.sft import sft_trainer
from .outputs import TRAIN_RESULTS_FILE, backbone_of, check_output_dir, dataset_hash

#: the recipe fields a generation model's card records
_CARD_RECIPE = (
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


def fit_sft(
    kind: str, prepared: Any, args: TrainingArguments, *, init: str | None, quiet: bool
) -> dict[str, Any]:
    """Train the base or retrain model of ``prepared`` into ``args.output_dir`` (see the module docstring)."""
    tokenizer = prepared.processor
    output_dir = Path(args.output_dir)
    check_output_dir(output_dir)
    created = not output_dir.exists()
    try:
        trainer, start, info = sft_trainer(kind, prepared, args, output_dir)
        start = init or start
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
    if trainer.eval_dataset is not None:
        results["validation_loss"] = float(trainer.evaluate()["eval_loss"])
    summary = {
        "train_runtime": train_time,
        "kind": kind,
        "config": prepared.config,
        "trainer": info["trainer"],
        "num_train_rows": info["num_train_rows"],
        "truncated_prompts": info["truncated_prompts"],
        **results,
    }
    (output_dir / TRAIN_RESULTS_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    dataset = prepared.dataset
    recipe = {name: getattr(args, name) for name in _CARD_RECIPE}
    if getattr(args, "lora_r", 0):
        recipe.update(lora_r=args.lora_r, lora_alpha=getattr(args, "lora_alpha", 32))
    card = render_model_card(
        kind,
        task=prepared.task,
        config=prepared.config if kind == "retrain" else None,
        dataset_repo=dataset if not Path(dataset).exists() else Path(dataset).name,
        dataset_hash=dataset_hash(dataset),
        backbone=backbone_of(trained),
        recipe={**recipe, "init": start},
        seed=int(args.seed),
        results=results,
        model_name=output_dir.name,
    )
    card.save(str(output_dir / "README.md"))
    cut = info["truncated_prompts"]
    return {**results, "train_time_s": train_time, "truncated_prompts": cut, "output_dir": str(output_dir)}
