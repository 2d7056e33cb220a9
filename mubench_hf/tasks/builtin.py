"""The tasks mubench-hf ships: importing a task's module registers it (each module ends with one
``register_task`` call per task). Only tasks that work end to end are listed here."""

from __future__ import annotations

from . import (  # noqa: F401  (imported for their registrations)
    cifar,
    ddi,
    debian_summaries,
    digit_pairs,
    digits,
    digits_t2i,
    fashion_mnist,
    fashion_mnist_t2i,
    fictitious_authors,
    fictitious_authors_small,
    generation_hub,
    go_relations,
    imdb,
    moving_digits,
    mubench_hub_tasks,
    muse,
    muse_manpages,
    python_docs,
    speech_commands,
    spoken_keywords,
    tiny_imagenet_t2i,
    ucf101,
    unlearncanvas,
    wmdp,
)

# Names other modules import from here; they live with their tasks now.
from .cifar import CIFAR10_CLASSES, CIFAR100_CLASSES  # noqa: F401
from .citation import MUBENCH_CITATION  # noqa: F401
