"""Tasks whose modality reads several input columns (two images and a sentence, ...).

``Task`` itself canonicalises onto every column a modality declares in ``input_columns`` (with its
``input_features()``) and runs the modality's ``check_rows`` on each split as it is loaded, so a malformed
row (a missing image) is refused before anything is stored or trained. ``MultiInputTask`` is kept as the
name such tasks subclass.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Task


@dataclass(frozen=True)
class MultiInputTask(Task):
    """A ``Task`` stored with every input column of its modality (``Modality.input_columns``)."""
