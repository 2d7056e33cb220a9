"""Random labelling: train on Dr together with Df whose labels are replaced by wrong classes.

Each forget sample gets a class drawn uniformly among the *other* classes (seeded by ``args.seed``,
fixed for the run), and the model is trained with cross-entropy on the shuffled union with Dr.
Graves, Nagisetty & Ganesh, "Amnesiac Machine Learning", AAAI 2021; the "RL" baseline of Golatkar et
al., CVPR 2020 and of SalUn (Fan et al., ICLR 2024).
"""

from __future__ import annotations

from .base import UnlearnTrainer
from .data import DataUse
from .registry import register_method


class RandomLabelTrainer(UnlearnTrainer):
    """Cross-entropy on Dr ∪ relabelled Df (the relabelling is done by the data code, see ``data.py``)."""


register_method(
    "random_label",
    trainer=RandomLabelTrainer,
    data_use=DataUse.UNION_RELABELLED,
    kinds=("classification", "image_generation"),
    citation='Graves, Nagisetty & Ganesh, "Amnesiac Machine Learning", AAAI 2021',
    quick_settings=dict(learning_rate=2e-3, num_train_epochs=3),
)
