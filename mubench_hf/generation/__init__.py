"""Generation tasks (prompt–completion rows, TRL's convention): the task kind, its tokenisation into the
shared batch format, tiny language models and tokenizers for offline runs, and SFT training of base and
retrain models. See ``task.py`` for what a generation task is."""

# The task registry first: its generation tasks import GenerationTask from .task, which must not be
# half-initialised at that moment (it imports mubench_hf.tasks.base itself).
from .. import tasks as _tasks  # noqa: F401
from .encoding import IGNORE_INDEX, encode_rows, prompt_ids, prompt_text
from .task import (
    COMPLETION_COLUMN,
    GROUP_COLUMN,
    PARAPHRASED_COLUMN,
    PERTURBED_COLUMN,
    PROMPT_COLUMN,
    GenerationTask,
)

__all__ = [
    "COMPLETION_COLUMN",
    "GROUP_COLUMN",
    "IGNORE_INDEX",
    "PARAPHRASED_COLUMN",
    "PERTURBED_COLUMN",
    "PROMPT_COLUMN",
    "GenerationTask",
    "encode_rows",
    "prompt_ids",
    "prompt_text",
]
