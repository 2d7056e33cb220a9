"""Which objective serves which task kind (``Task.kind``): one place, extended by the generative tasks."""

from __future__ import annotations

from ..errors import MubenchError
from .base import TaskObjective
from .classification import ClassificationObjective
from .generation import GenerationObjective

OBJECTIVES: dict[str, type[TaskObjective]] = {
    "classification": ClassificationObjective,
    "generation": GenerationObjective,
}


def register_objective(kind: str, objective: type[TaskObjective]) -> None:
    """Make ``objective`` the objective of tasks of kind ``kind``."""
    OBJECTIVES[kind] = objective


def objective_for(kind: str = "classification") -> TaskObjective:
    """A fresh objective for task kind ``kind``; an unknown kind lists the known ones."""
    try:
        return OBJECTIVES[kind]()
    except KeyError:
        raise MubenchError(
            f"no task objective for kind {kind!r}; known kinds: {sorted(OBJECTIVES)}"
        ) from None
