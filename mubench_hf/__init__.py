"""mubench-hf: a Hugging Face-native benchmark suite for machine unlearning."""

__version__ = "0.1.0"

from .errors import MubenchError, UnknownTaskError  # noqa: E402
from .resources import list_metrics, metric_path  # noqa: E402

# Everything that imports datasets, torch or transformers loads on first use, so `import mubench_hf`
# and the CLI's help stay quick.
_LAZY = {
    "build_splits": "mubench_hf.splits",
    "read_manifest": "mubench_hf.splits",
    "verify_repo": "mubench_hf.splits",
    "load_deletion_config": "mubench_hf.splits",
    "TASKS": "mubench_hf.tasks",
    "Task": "mubench_hf.tasks",
    "get_task": "mubench_hf.tasks",
    "list_tasks": "mubench_hf.tasks",
    "register_task": "mubench_hf.tasks",
    "register_method": "mubench_hf.trainers",
    "UnlearnConfig": "mubench_hf.trainers",
    "UnlearnTrainer": "mubench_hf.trainers",
    "METHODS": "mubench_hf.trainers",
    "list_methods": "mubench_hf.trainers",
    "evaluate_unlearning": "mubench_hf.evaluation",
    "compute_unlearning_metrics": "mubench_hf.metrics",
    "register_metric": "mubench_hf.metrics",
    "register_modality": "mubench_hf.modalities",
    "build_model": "mubench_hf.kinds.classification",
    "prepare_splits": "mubench_hf.kinds.classification",
    "kind_of": "mubench_hf.kinds",
    "GenerationTask": "mubench_hf.tasks.generation",
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
    "MubenchError",
    "UnknownTaskError",
    "__version__",
    "list_metrics",
    "metric_path",
]
