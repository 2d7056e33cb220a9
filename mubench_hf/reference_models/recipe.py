"""The training recipe of base and retrain models: ``RecipeArguments`` and the recipe a card records.

A task's own recipe defaults (``Task.recipe_defaults``) are data in the task's module, beside its loader
(``tasks.digit_pairs.DIGIT_PAIRS_RECIPE``, ``tasks.moving_digits.MOVING_DIGITS_RECIPE``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard
from transformers import TrainingArguments
from transformers.trainer_utils import IntervalStrategy, SaveStrategy

from ..errors import MubenchError
from ..training import check_training_numbers

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

    def __post_init__(self) -> None:
        super().__post_init__()
        check_training_numbers(self)


# The base/retrain recipe of fashion_mnist with tiny:resnet (built from its config, 1 input channel, ~74k
# weights): one epoch of 422 steps at batch 128 (the learning rate decaying linearly to 0 within it) gave
# validation accuracy 0.882 and test accuracy 0.873 (seed 42), in 480 s of training (584 s with the
# predictions on every split) with 2 torch threads on the 2-core build machine, shared with other jobs
# (load average ~6). RecipeArguments' default (8 epochs at batch 32) would take over an hour there.
FASHION_MNIST_RECIPE: dict[str, Any] = {
    "num_train_epochs": 1.0,
    "learning_rate": 3e-3,
    "per_device_train_batch_size": 128,
}


def recipe_of(args: TrainingArguments) -> dict[str, Any]:
    """The recipe fields of ``args`` (what a card records and ``retrain`` reuses)."""
    return {name: getattr(args, name) for name in RECIPE_FIELDS if hasattr(args, name)}


def recipe_from_card(model: Any) -> dict[str, Any]:
    """The training recipe recorded in the card of the model folder ``model``."""
    from ..hub.cards import read_provenance

    readme = Path(str(model)) / "README.md"
    if not Path(str(model)).exists():
        raise MubenchError(f"the model folder {model} does not exist; pass the base model's folder (--model)")
    if not readme.is_file():
        raise MubenchError(
            f"no recipe to reuse: {model} has no model card; pass the training arguments explicitly"
        )
    recipe = read_provenance(ModelCard.load(readme)).get("recipe") or {}
    return {k: v for k, v in recipe.items() if k in RECIPE_FIELDS}


#: What a pretrained checkpoint (a Hub id, a model folder, a GGUF file) is fine-tuned with when no flag says
#: otherwise: ``TrainingArguments``' own defaults, the Hugging Face fine-tuning convention. The from-config
#: recipes (RecipeArguments' lr 3e-3 for 8 epochs, a generation task's lr 5e-3 for 20) are tuned for tiny
#: models trained from scratch, at 60-100x this rate and 3-7x the length; MiniLM-L6 at lr 5e-5 for 2 epochs
#: reaches test accuracy 0.85 on movie_snippets (README, "Real weights").
PRETRAINED_RECIPE: dict[str, Any] = {"learning_rate": 5e-5, "num_train_epochs": 3.0}


def starts_pretrained(model: Any) -> bool:
    """Whether the model spec ``model`` names a pretrained checkpoint rather than a config (``tiny:<arch>``,
    ``config:…``, a ``.json`` file) or an in-memory config/module."""
    from ..kinds.starting_point import is_pretrained_checkpoint

    return isinstance(model, (str, Path)) and is_pretrained_checkpoint(str(model))


def recipe_defaults_for(task: Any, model: Any) -> dict[str, Any]:
    """The recipe a base model of ``task`` (a ``Task``) starting from ``model`` trains with unless told
    otherwise: the task's own recipe defaults, with :data:`PRETRAINED_RECIPE`'s learning rate and length
    over them when ``model`` is a pretrained checkpoint, unless the task names a pretrained ``default_model``
    (a Stable Diffusion task): its own recipe is then already the fine-tuning one."""
    defaults = dict(task.recipe_defaults())
    if starts_pretrained(model) and not getattr(task, "default_model", None):
        defaults.update(PRETRAINED_RECIPE)
    return defaults
