"""The original model's test accuracy: the anchor of the MU-Bench score.

It is read from the base model's card (``model-index``) when the card has it, and otherwise measured
by a quick evaluation of the base model on the test split. Never from a hard-coded table.
"""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import ModelCard

TEST_ACCURACY_KEYS = ("test_accuracy",)


def card_test_accuracy(model_dir: str | os.PathLike) -> float | None:
    """Test accuracy recorded in the model card of a local model folder, or ``None``."""
    readme = Path(model_dir) / "README.md"
    if not readme.is_file():
        return None
    try:
        card = ModelCard.load(readme)
    except Exception:  # a card we cannot parse carries no anchor; the caller measures instead
        return None
    for result in card.data.eval_results or []:
        split = (result.dataset_split or "").lower()
        if result.metric_type in TEST_ACCURACY_KEYS or (result.metric_type == "accuracy" and split == "test"):
            return float(result.metric_value)
    return None
