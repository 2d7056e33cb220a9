"""Task kinds: everything that differs between a classification and a generation task, one object per
kind (see ``base.py``). ``kind_of(task)`` finds a task's kind; a new kind is one module that subclasses ``TaskKind``
and calls ``register_kind``."""

from .base import KINDS, TaskKind, get_kind, kind_of, list_kinds, objective_for, register_kind
from .classification import CLASSIFICATION, ClassificationKind
from .generation import GENERATION, GenerationKind
from .image_generation import IMAGE_GENERATION, ImageGenerationKind

__all__ = [
    "CLASSIFICATION",
    "GENERATION",
    "IMAGE_GENERATION",
    "KINDS",
    "ClassificationKind",
    "GenerationKind",
    "ImageGenerationKind",
    "TaskKind",
    "get_kind",
    "kind_of",
    "list_kinds",
    "objective_for",
    "register_kind",
]
