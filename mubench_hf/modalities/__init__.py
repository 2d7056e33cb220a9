"""Modalities as plug-ins: one ``Modality`` object per kind of input (see ``base``).

The shipped ones (``image``, ``text``, ...) register themselves on import; another is one module that
subclasses ``Modality`` and calls ``register_modality``, or, from another distribution, an entry point in
the group ``mubench_hf.modalities`` naming the ``Modality`` (loaded on first use, see ``mubench_hf.plugins``).
"""

from . import audio, image, image_text, text, video  # noqa: F401  (registers the shipped modalities)
from .base import (
    LABEL_COLUMN,
    Modality,
    UnknownModalityError,
    get_modality,
    list_modalities,
    load_modality_plugins,
    register_modality,
    unregister_modality,
)

__all__ = [
    "LABEL_COLUMN",
    "Modality",
    "UnknownModalityError",
    "get_modality",
    "list_modalities",
    "load_modality_plugins",
    "register_modality",
    "unregister_modality",
]
