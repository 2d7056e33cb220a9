"""The mubench model card of an unlearned model: method, hyper-parameters, deletion config,
``base_model`` and the unlearning report as ``model-index``, for ``push_to_hub()``.

The report is handed over (``create_model_card(report=...)``), or it is the one this trainer's own
``evaluate_unlearning()`` returned last; the card never reads ``unlearning_results.json`` back."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from transformers.utils import logging

from ..errors import MubenchError
from ..evaluation.report import config_name_of
from ..splits.layout import task_of_config

logger = logging.get_logger(__name__)

# Hyper-parameters that describe a method run, recorded in its card beside the method's own fields.
RUN_FIELDS = ("learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "seed")


class ModelCardMixin:
    """Mixed into ``UnlearnTrainer`` (which provides ``args``, ``model``, the datasets, ``method`` and
    ``last_report``)."""

    dataset_repo: str | None = None  # the deletion-splits repo the data came from (the card's ``datasets``)

    def method_params(self) -> dict[str, Any]:
        """The method's own hyper-parameters (fields its config adds) and the run's main settings."""
        from .config import UnlearnConfig

        own = set(type(self.args).__dataclass_fields__) - set(UnlearnConfig.__dataclass_fields__)
        params = {name: getattr(self.args, name) for name in sorted(own)}
        params.update({name: getattr(self.args, name) for name in RUN_FIELDS})
        return params

    def create_model_card(self, *args: Any, report: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        """Write the mubench model card (method, hyper-parameters, config, ``base_model``, the report as
        ``model-index``) into ``args.output_dir``; ``push_to_hub()`` calls this before uploading.

        ``report``: the unlearning report's dict (default: the last one ``evaluate_unlearning()`` of this
        trainer returned; none yet: a card without results). Without a deletion config to name (forget
        data not loaded from a mubench repo) it falls back to ``Trainer``'s own card."""
        if not self.is_world_process_zero():
            return
        if self.deletion_config() is None:
            logger.warning("the forget set names no deletion config: writing Trainer's default model card")
            super().create_model_card(*args, **kwargs)
            return
        card = self.model_card(model_name=kwargs.get("model_name"), report=report)
        card.save(str(Path(self.args.output_dir) / "README.md"))

    def deletion_config(self) -> str | None:
        """The deletion config the forget set was loaded from (``digits_del5``), if it says."""
        name = config_name_of(self.forget_dataset)
        try:
            return name if name and task_of_config(name) else None
        except MubenchError:
            return None

    def model_card(self, model_name: str | None = None, report: Mapping[str, Any] | None = None) -> Any:
        """The card (a ``huggingface_hub.ModelCard``) of this run with ``report``'s numbers (see
        :meth:`create_model_card`)."""
        from ..hub.cards import render_model_card
        from ..splits import is_mubench_repo, read_manifest

        results = dict(report if report is not None else (self.last_report or {}))
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
        dataset = self.dataset_repo or "mubench"
        card = render_model_card(
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
            method_citation=self.spec.citation,
            unlearn_time_s=self.unlearn_time_s,
            model_name=model_name or self.args.hub_model_id or Path(self.args.output_dir).name,
        )
        selection = results.get("checkpoint_selection") or self.checkpoint_selection()
        if selection:
            from .curves import selection_text

            card.text = f"{card.text.rstrip()}\n\n## Checkpoint selection\n\n{selection_text(selection)}\n"
        return card
