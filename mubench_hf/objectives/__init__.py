"""Task objectives: what "the loss of a sample" means for a task, so that methods are written once.

A method asks its trainer's objective for per-sample quantities (the log-likelihood of each sample's
target, the per-sample loss, the output distributions for KL terms) instead of calling
``cross_entropy`` on class logits itself. Classification implements the interface here; generation
adds token-level versions without touching the methods. Which objective a task uses is its kind's choice
(``mubench_hf.kinds``: ``kind_of(task).objective()``, or ``objective_for(kind)``).
"""

from .base import TaskObjective
from .classification import ClassificationObjective
from .denoising import DenoisingObjective, DenoisingOutputs
from .generation import GenerationObjective

__all__ = [
    "ClassificationObjective",
    "DenoisingObjective",
    "DenoisingOutputs",
    "GenerationObjective",
    "TaskObjective",
]
