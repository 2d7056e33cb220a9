"""What ``UnlearnTrainer`` adds for scoring: unlearn time, the original-accuracy anchor and the
unlearning report inside ``evaluate()``. (The model card is ``card.py``'s.)
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from transformers.utils import logging

from ..errors import MubenchError
from ..evaluation import card_test_accuracy, evaluate_unlearning

logger = logging.get_logger(__name__)

REPORT_SPLITS = ("forget", "retain", "validation", "test", "ood")


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
    last_report: dict[str, Any] | None = None  # what evaluate_unlearning() returned last (the card's numbers)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("train")
        if own is not None and not getattr(own, "_mubench_timed", False):
            cls.train = timed_train(own)  # every method's train() is timed, however it is overridden

    # ------------------------------------------------------------------ splits and anchor
    def report_splits(self) -> dict[str, Any]:
        """The splits the report scores: forget/retain from the trainer, the rest from ``splits=`` (every
        split given but ``train``: a kind's report may score more, e.g. a generation task's utility sets)."""
        given = dict(self._report_source or {})
        found = {
            "forget": self.forget_dataset,
            "retain": self.retain_dataset,
            "validation": given.get("validation", self.eval_dataset_raw),
            "test": given.get("test"),
            "ood": given.get("ood"),
        }
        found.update({name: split for name, split in given.items() if name not in found and name != "train"})
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
        selection = self.checkpoint_selection()
        self.last_report = report = evaluate_unlearning(
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
            # which step's weights these are travels with the report, into the results file and the card
            record={"checkpoint_selection": selection} if selection is not None else None,
        )
        return report

    def checkpoint_selection(self) -> dict[str, Any] | None:
        """Which step's weights the model holds and by which criterion (``select_checkpoint``), once
        training with ``eval_during_unlearning`` has ended; else ``None``."""
        curve = getattr(self, "unlearning_curve", None)
        return dict(curve.selection) if curve is not None and curve.selection is not None else None

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
