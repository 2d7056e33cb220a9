"""mubench-hf: a Hugging Face-native benchmark suite for machine unlearning."""

__version__ = "0.1.0"

from .errors import MubenchError, UnknownTaskError  # noqa: E402
from .resources import list_metrics, metric_path  # noqa: E402
from .splits import build_splits, read_manifest, verify_repo  # noqa: E402
from .tasks import TASKS, Task, get_task, list_tasks, register_task  # noqa: E402

__all__ = [
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
