"""The original model's test accuracy (the MU-Bench score's anchor): defined with the classification kind."""

from ..kinds.classification.anchor import TEST_ACCURACY_KEYS, card_test_accuracy

__all__ = ["TEST_ACCURACY_KEYS", "card_test_accuracy"]
