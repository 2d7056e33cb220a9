"""IMDB movie-review sentiment from the Hub (``stanfordnlp/imdb``), with Rotten Tomatoes' test split as its
out-of-distribution set."""

from __future__ import annotations

from .base import HubSource, OODSource, Task
from .registry import register_task

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
