"""CIFAR-10 and CIFAR-100 from the Hub (``uoft-cs/cifar10``, ``uoft-cs/cifar100``; CIFAR-100 by its 100
fine labels)."""

from __future__ import annotations

from .base import HubSource, Task
from .registry import register_task

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
