"""mubench-hf: a Hugging Face-native benchmark suite for machine unlearning."""

__version__ = "0.1.0"

from .errors import MubenchError, UnknownTaskError  # noqa: E402
from .resources import list_metrics, metric_path  # noqa: E402
from .splits import build_splits, read_manifest, verify_repo  # noqa: E402
from .tasks import TASKS, Task, get_task, list_tasks, register_task  # noqa: E402

# Heavy parts (torch, transformers) load on first use, so `import mubench_hf` and the CLI stay quick.
_LAZY = {
    "UnlearnConfig": "mubench_hf.trainers",
    "UnlearnTrainer": "mubench_hf.trainers",
    "METHODS": "mubench_hf.trainers",
    "list_methods": "mubench_hf.trainers",
    "evaluate_unlearning": "mubench_hf.evaluation",
    "compute_unlearning_metrics": "mubench_hf.metrics",
    "build_model": "mubench_hf.modeling",
    "prepare_splits": "mubench_hf.processing",
    "train_base": "mubench_hf.reference_models",
    "train_retrain": "mubench_hf.reference_models",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mubench_hf' has no attribute {name!r}")


__all__ = [
    *_LAZY,
    "TASKS",
    "MubenchError",
    "Task",
    "UnknownTaskError",
    "__version__",
    "build_splits",
    "get_task",
    "list_metrics",
    "list_tasks",
    "metric_path",
    "read_manifest",
    "register_task",
    "verify_repo",
]
