"""The tasks mubench-hf ships. Only tasks that work end to end are registered here."""

from __future__ import annotations

from .base import HubSource, OODSource, Task
from .digits import DIGITS_CLASS_NAMES, load_digits_splits
from .registry import register_task

MUBENCH_CITATION = """@article{cheng2024mubench,
  title   = {MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author  = {Cheng, Jiali and Amiri, Hadi},
  journal = {arXiv preprint arXiv:2406.14796},
  year    = {2024}
}"""

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
    "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle",
    "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
    "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon",
    "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail",
    "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone",
    "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale",
    "willow_tree", "wolf", "woman", "worm",
)  # fmt: skip

DIGITS = register_task(
    Task(
        name="digits",
        modality="image",
        class_names=DIGITS_CLASS_NAMES,
        description="scikit-learn's 1,797 handwritten 8x8 digits (UCI optical recognition), offline.",
        loader=load_digits_splits,
        validation_split="validation",
        license="cc-by-4.0",
        split_note="sklearn load_digits; stratified split, random_state=0: 1,257 train / 180 validation / 360 test",
    )
)

CIFAR10 = register_task(
    Task(
        name="cifar10",
        modality="image",
        class_names=CIFAR10_CLASSES,
        description="CIFAR-10: 60,000 32x32 colour images in 10 classes.",
        hub=HubSource("uoft-cs/cifar10", column_mapping={"img": "image"}),
        license="unknown",
    )
)

CIFAR100 = register_task(
    Task(
        name="cifar100",
        modality="image",
        class_names=CIFAR100_CLASSES,
        description="CIFAR-100: 60,000 32x32 colour images in 100 fine-grained classes.",
        hub=HubSource("uoft-cs/cifar100", column_mapping={"img": "image", "fine_label": "label"}),
        license="unknown",
    )
)

IMDB = register_task(
    Task(
        name="imdb",
        modality="text",
        class_names=("neg", "pos"),
        description="IMDB movie-review sentiment (25,000 train / 25,000 test); OOD: Rotten Tomatoes test.",
        hub=HubSource("stanfordnlp/imdb"),
        ood=OODSource("cornell-movie-review-data/rotten_tomatoes", split="test"),
        license="other",
    )
)
