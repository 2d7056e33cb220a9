"""Scoring an unlearned model: predictions per split, the original-accuracy anchor, the report."""

from .anchor import card_test_accuracy
from .predictions import PREDICTIONS_FILE, SplitPredictions, load_predictions, save_predictions
from .report import RESULTS_FILE, evaluate_unlearning

__all__ = [
    "PREDICTIONS_FILE",
    "RESULTS_FILE",
    "SplitPredictions",
    "card_test_accuracy",
    "evaluate_unlearning",
    "load_predictions",
    "save_predictions",
]
