"""The classification kind: one label per input (image, text, audio, video, image-text).

Processors and transforms come from the task's modality (``processing.py``), classifiers from its
``AutoModelFor...Classification`` class with the task's labels (``models.py``); base and retrain models train
with ``transformers.Trainer``; the report takes one prediction pass per split (``report.py``) and the
leaderboard ranks by the gap to retrain (``ranking.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from transformers import PretrainedConfig

from ...errors import MubenchError
from ...objectives.base import TaskObjective
from ...objectives.classification import ClassificationObjective
from ...tasks import Task
from ..base import AddMetrics, Row, TaskKind, register_kind
from .attack_scores import ATTACK_METRICS, classification_forget_scores
from .models import (
    auto_class_for,
    build_model,
    check_model_labels,
    check_model_modality,
    label_kwargs,
    resolve_model,
    tiny_config,
)
from .processing import data_collator_for, load_processor, prepare_splits, task_transform
from .ranking import RANKING_RULE, rank
from .report import classification_report

__all__ = [
    "CLASSIFICATION",
    "ClassificationKind",
    "auto_class_for",
    "build_model",
    "check_model_labels",
    "check_model_modality",
    "data_collator_for",
    "label_kwargs",
    "load_processor",
    "prepare_splits",
    "resolve_model",
    "task_transform",
    "tiny_config",
]


def _absent(row: Any) -> None:
    return None


class ClassificationKind(TaskKind):
    """Tasks whose target is a class label (``Task.class_names``)."""

    name = "classification"
    base_recipe = "trainer"
    lora_trains_head = True
    measures_relearn = True
    ranking_rule = RANKING_RULE
    attack_metrics = ATTACK_METRICS

    def objective(self) -> TaskObjective:
        return ClassificationObjective()

    def load_processor(
        self,
        task: Task,
        source: str | None,
        splits: Mapping[str, Any],
        *,
        trust_remote_code: bool | None = None,
    ) -> Any:
        return load_processor(task, source, trust_remote_code=trust_remote_code, splits=splits)

    def build_model(
        self,
        task: Task,
        model: Any,
        splits: Mapping[str, Any],
        processor: Any,
        *,
        trust_remote_code: bool | None = None,
        allow_pickle: bool | None = None,
    ) -> Any:
        spec = str(model)
        if isinstance(model, PretrainedConfig) or spec.startswith("tiny:") or spec.endswith(".json"):
            # a model built from a config learns from the data what it must know (image channels ...)
            return resolve_model(task, model, next(iter(splits.values())))
        return build_model(task, spec, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)

    def process_splits(self, task: Task, splits: Any, model: Any, processor: Any) -> Any:
        return prepare_splits(splits, task, model, processor)

    def collator(self, task: Task, processor: Any) -> Callable[[list[dict]], dict]:
        return data_collator_for(task, processor)

    def report(
        self,
        trainer: Any,
        splits: Mapping[str, Any],
        *,
        retrain: Any = None,
        original_test_accuracy: float | None = None,
        base_model: Any = None,
        unlearn_time_s: float | None = None,
        output_dir: Any = None,
        extra: Mapping[str, Any] | None = None,
        log: bool = True,
        settings: Any = None,
        add_metrics: AddMetrics | None = None,
    ) -> dict[str, Any]:
        if settings is not None:
            raise MubenchError(
                "generation settings apply to generation tasks; a classification report generates nothing"
            )
        return classification_report(
            trainer,
            splits,
            retrain=retrain,
            original_test_accuracy=original_test_accuracy,
            base_model=base_model,
            unlearn_time_s=unlearn_time_s,
            output_dir=output_dir,
            extra=extra,
            log=log,
            add_metrics=add_metrics,
        )

    def forget_scores(
        self, trainer: Any, model: Any, forget: Any, settings: Any = None, *,
        splits: Mapping[str, Any] | None = None,
    ) -> dict[str, float]:  # fmt: skip
        return classification_forget_scores(trainer, model, forget)

    def rank(
        self,
        rows: Sequence[Row],
        *,
        name: Callable[[Row], str],
        is_reference: Callable[[Row], bool],
        gap: Callable[[Row], Any] = _absent,
        score: Callable[[Row], Any] = _absent,
        **_: Any,
    ) -> tuple[str, list[tuple[Row, int | str | None]]]:
        return rank(rows, gap=gap, score=score, name=name, is_reference=is_reference)


CLASSIFICATION = register_kind(ClassificationKind())
