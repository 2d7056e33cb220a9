"""Per-split model outputs (``predictions.npz``): defined with the classification kind, importable here."""

from ..kinds.classification.predictions import (
    PREDICTIONS_FILE,
    SplitPredictions,
    load_predictions,
    logits_of_model,
    predict_split,
    prediction_loader,
    sample_ids_of,
    save_predictions,
)
from ..kinds.classification.report import predict_labels

__all__ = [
    "PREDICTIONS_FILE",
    "SplitPredictions",
    "load_predictions",
    "logits_of_model",
    "predict_labels",
    "predict_split",
    "prediction_loader",
    "sample_ids_of",
    "save_predictions",
]
