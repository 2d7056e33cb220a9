"""Training the original (base) model and the retrained reference model as Hub-ready folders.

``train_base`` trains on a task's full train split; ``train_retrain`` trains the gold-standard
reference on the retain split of one deletion config with ``RetrainTrainer`` (its starting point and,
by default, its recipe read from the base model's card). See ``train.py``.
"""

from ..kinds.starting_point import retrain_start
from .recipe import RECIPE_FIELDS, RecipeArguments, recipe_from_card, recipe_of
from .train import TRAIN_RESULTS_FILE, dataset_hash, task_configs, train_base, train_retrain

__all__ = [
    "RECIPE_FIELDS",
    "TRAIN_RESULTS_FILE",
    "RecipeArguments",
    "dataset_hash",
    "recipe_from_card",
    "recipe_of",
    "retrain_start",
    "task_configs",
    "train_base",
    "train_retrain",
]
