"""What ``UnlearnTrainer`` adds for scoring and sharing: unlearn time, the original-accuracy anchor,
the unlearning report inside ``evaluate()``, and a mubench model card for ``push_to_hub()``.

Kept apart from ``base.py`` so that file stays about training.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from transformers.utils import logging

from ..errors import MubenchError
from ..evaluation import RESULTS_FILE, card_test_accuracy, evaluate_unlearning
from ..evaluation.report import config_name_of
from ..splits.layout import task_of_config

logger = logging.get_logger(__name__)

REPORT_SPLITS = ("forget", "retain", "validation", "test", "ood")
# Hyper-parameters that describe a method run, recorded in its card beside the method's own fields.
RUN_FIELDS = ("learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "seed")


def timed_train(train: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``train`` method: on the outermost call, fix the original-accuracy anchor on θo first,
    then record the wall time of the whole call (mask or importance computation included)."""

    @functools.wraps(train)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        outermost = getattr(self, "_train_depth", 0) == 0
        self._train_depth = getattr(self, "_train_depth", 0) + 1
        try:
            if outermost:
                self._capture_original_accuracy()
                start = time.perf_counter()
            output = train(self, *args, **kwargs)
            if outermost:
                self.unlearn_time_s = time.perf_counter() - start
            return output
        finally:
            self._train_depth -= 1

    wrapper._mubench_timed = True  # type: ignore[attr-defined]
    return wrapper


class ReportingMixin:
    """Mixed into ``UnlearnTrainer`` (which provides ``args``, ``model``, the datasets and ``method``)."""

    unlearn_time_s: float | None = None
    original_test_accuracy: float | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("train")
        if own is not None and not getattr(own, "_mubench_timed", False):
            cls.train = timed_train(own)  # every method's train() is timed, however it is overridden

    # ------------------------------------------------------------------ splits and anchor
    def report_splits(self) -> dict[str, Any]:
        """The splits the report scores: forget/retain from the trainer, the rest from ``splits=``."""
        given = dict(self._report_source or {})
        found = {
            "forget": self.forget_dataset,
            "retain": self.retain_dataset,
            "validation": given.get("validation", self.eval_dataset_raw),
            "test": given.get("test"),
            "ood": given.get("ood"),
        }
        return {name: split for name, split in found.items() if split is not None}

    def _capture_original_accuracy(self) -> None:
        """Fix the anchor before training from what needs no data: the argument, or the original model's
        card. Otherwise the report measures the original model itself (reloaded from its folder), so that
        training never reads the test split."""
        if self.original_test_accuracy is not None:
            return
        if self.args.original_test_accuracy is not None:
            self.original_test_accuracy = float(self.args.original_test_accuracy)
            return
        source = self.original_model_path()
        self.original_test_accuracy = card_test_accuracy(source) if source else None

    def original_model_path(self) -> str | None:
        """The folder the model was loaded from (θo on disk), if any."""
        if getattr(self, "_original_path", None) is None:
            model = self.accelerator.unwrap_model(self.model)
            base = model.get_base_model() if hasattr(model, "get_base_model") else model
            path = getattr(getattr(base, "config", None), "_name_or_path", None)
            self._original_path = str(path) if path and Path(str(path)).is_dir() else ""
        return self._original_path or None

    # ------------------------------------------------------------------ the report
    def evaluate_unlearning(
        self,
        retrain: Any = None,
        *,
        original_test_accuracy: float | None = None,
        splits: Mapping[str, Any] | None = None,
        output_dir: str | None = None,
    ) -> dict[str, Any]:
        """Every unlearning metric for the current model, as one flat dict (see
        :func:`mubench_hf.evaluation.evaluate_unlearning`); logged, and written to
        ``unlearning_results.json`` (with ``predictions.npz``) in ``output_dir`` (default ``args.output_dir``)."""
        report_splits = {**self.report_splits(), **dict(splits or {})}
        if "test" not in report_splits:
            raise MubenchError(
                "the unlearning report needs the test split: build the trainer with splits= (the DatasetDict of "
                "load_dataset(repo, '<task>_del<p>')) or pass evaluate_unlearning(splits={'test': ...})"
            )
        return evaluate_unlearning(
            self,
            report_splits,
            retrain=retrain if retrain is not None else self.args.retrain_reference,
            original_test_accuracy=original_test_accuracy
            if original_test_accuracy is not None
            else self.original_test_accuracy,
            base_model=self.original_model_path(),
            unlearn_time_s=self.unlearn_time_s,
            output_dir=output_dir or self.args.output_dir,
            extra={"method": self.method, "kind": "unlearned"},
        )

    def evaluate(
        self, eval_dataset: Any = None, ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval"
    ) -> dict[str, float]:
        metrics = super().evaluate(eval_dataset, ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)
        # The full report after training, not at every evaluation during it (it scores every split).
        if (
            self.args.unlearning_report
            and getattr(self, "_train_depth", 0) == 0
            and "test" in self.report_splits()
        ):
            report = self.evaluate_unlearning()
            metrics.update(
                {f"{metric_key_prefix}_{k}": v for k, v in report.items() if isinstance(v, (int, float))}
            )
        return metrics

    # ------------------------------------------------------------------ the card
    def method_params(self) -> dict[str, Any]:
        """The method's own hyper-parameters (fields its config adds) and the run's main settings."""
        from .config import UnlearnConfig

        own = set(type(self.args).__dataclass_fields__) - set(UnlearnConfig.__dataclass_fields__)
        params = {name: getattr(self.args, name) for name in sorted(own)}
        params.update({name: getattr(self.args, name) for name in RUN_FIELDS})
        return params

    def create_model_card(self, *args: Any, **kwargs: Any) -> None:
        """Write the mubench model card (method, hyper-parameters, config, ``base_model``, the report as
        ``model-index``) into ``args.output_dir``; ``push_to_hub()`` calls this before uploading.

        Without a deletion config to name (forget data not loaded from a mubench repo) it falls back to
        ``Trainer``'s own card."""
        if not self.is_world_process_zero():
            return
        if self.deletion_config() is None:
            logger.warning("the forget set names no deletion config: writing Trainer's default model card")
            super().create_model_card(*args, **kwargs)
            return
        card = self.model_card(model_name=kwargs.get("model_name"))
        card.save(str(Path(self.args.output_dir) / "README.md"))

    def deletion_config(self) -> str | None:
        """The deletion config the forget set was loaded from (``digits_del5``), if it says."""
        name = config_name_of(self.forget_dataset)
        try:
            return name if name and task_of_config(name) else None
        except MubenchError:
            return None

    def model_card(self, model_name: str | None = None) -> Any:
        from ..hub.cards import render_model_card
        from ..splits import is_mubench_repo, read_manifest

        results_path = Path(self.args.output_dir) / RESULTS_FILE
        results = json.loads(results_path.read_text()) if results_path.is_file() else {}
        numeric = {k: v for k, v in results.items() if isinstance(v, (int, float)) and np.isfinite(v)}
        config = self.deletion_config()
        if config is None:
            raise MubenchError(
                "the forget set names no deletion config: load it with load_dataset(repo, CONFIG)"
            )
        task = task_of_config(config)
        model = self.accelerator.unwrap_model(self.model)
        base = (
            self.args.base_model_id
            or getattr(getattr(model, "config", None), "_name_or_path", None)
            or "unknown"
        )
        dataset = getattr(self, "dataset_repo", None) or "mubench"
        return render_model_card(
            "unlearned",
            task=task,
            config=config,
            dataset_repo=dataset,
            dataset_hash=read_manifest(dataset)["content_hash"] if is_mubench_repo(dataset) else None,
            backbone=getattr(getattr(model, "config", None), "model_type", type(model).__name__),
            recipe={},
            seed=self.args.seed,
            results=numeric,
            base_model=str(base),
            method=self.method,
            method_params=self.method_params(),
            unlearn_time_s=self.unlearn_time_s,
            model_name=model_name or self.args.hub_model_id or Path(self.args.output_dir).name,
        )
