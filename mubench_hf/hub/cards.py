"""Model cards for base, reference (retrain) and unlearned models, and reading their scores back.

A card's metadata follows Hub conventions so the Hub and ``mubench leaderboard`` understand it without
mubench-specific parsing: ``base_model`` (the model tree), ``datasets``, ``license``,
``tags: [mubench, machine-unlearning]``, ``library_name``, ``pipeline_tag`` and a ``model-index`` with
one result per metric. A ``mubench`` block records the provenance (task, config, method, seed, recipe).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from enum import Enum
from pathlib import PurePath
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..errors import MubenchError
from ..metrics.declarations import INTERVAL_SUFFIXES, derived_of, metric_label, metric_split
from ..resources import card_template
from ..splits.layout import task_of_config
from ..tasks import Task, get_task
from ..tasks.builtin import MUBENCH_CITATION

MODEL_CARD_TEMPLATE = "model_card.md"
KINDS = {
    "base": "base model (trained on the full training set; the model to unlearn from)",
    "retrain": "reference model (retrained from scratch on the retain set: the gold standard of unlearning)",
    "unlearned": "unlearned model",
}
CARD_TAGS = ["mubench", "machine-unlearning"]
SCORE_METRIC = "mubench_score"

# A metric's label (``metric_label``) and split (``metric_split``, model-index's ``dataset.split``) come
# from its declaration (mubench_hf.metrics.declarations), so a metric declared by a plugin is labelled and
# placed in model-index like a built-in one.


def interval_of(metric: str) -> tuple[str, str] | None:
    """``("forget_accuracy", "_ci_low")`` for ``forget_accuracy_ci_low``; ``None`` for a plain metric.

    Bootstrap interval bounds ride along as their own metrics, so a card's ``model-index`` round-trips
    them; the card's table folds them into their metric's row."""
    derived = derived_of(metric)
    if derived is None or derived[0] not in INTERVAL_SUFFIXES:
        return None
    return derived[1], derived[0]


def _table_rows(scores: Mapping[str, float], kind: str = "classification") -> list[dict[str, Any]]:
    """One card-table row per metric, its bootstrap interval (when the report has one) in the same row."""
    rows = []
    for name, value in scores.items():
        if interval_of(name):
            continue
        low, high = scores.get(f"{name}_ci_low"), scores.get(f"{name}_ci_high")
        rows.append(
            {
                "metric": name,
                "label": metric_label(name, kind),
                "split": metric_split(name, kind),
                "value": value,
                "interval": None if low is None or high is None else (low, high),
            }
        )
    return rows


def _task_type(task: Task) -> str:
    """The card's pipeline tag and ``model-index`` task type: the modality's."""
    return task.modality_spec.pipeline_tag


def _auto_class(task: Task) -> str:
    """The class the card's usage snippet loads the model with: the modality's."""
    return task.modality_spec.auto_class().__name__


def _auto_module(task: Task) -> str:
    """The module the usage snippet imports that class from (``transformers`` for its Auto classes)."""
    module = task.modality_spec.auto_class().__module__
    return "transformers" if module.startswith("transformers") else module


def _plain(value: Any) -> Any:
    """YAML-safe plain data: numpy scalars → numbers, paths and enums → strings, tuples → lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, (PurePath, os.PathLike)):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _checked_results(results: Mapping[str, Any]) -> dict[str, float]:
    """Finite floats by metric name; ``None`` values (metrics not computed) are left out."""
    out: dict[str, float] = {}
    for name, value in results.items():
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise MubenchError(f"result {name!r} is {value!r}, not a number") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise MubenchError(
                f"result {name!r} is {value!r}; a card holds finite numbers only: fix or drop that metric"
            )
        out[str(name)] = number
    return out


def _check_kind(kind: str, config: str | None, method: str | None, base_model: str | None) -> None:
    if kind not in KINDS:
        raise MubenchError(f"unknown model kind {kind!r}; known kinds: {', '.join(KINDS)}")
    if kind != "base" and not config:
        raise MubenchError(f"a {kind} model card needs config= (the deletion config, e.g. 'digits_del5')")
    if kind == "unlearned" and not (method and base_model):
        raise MubenchError(
            "an unlearned model card needs method= (e.g. 'salun') and base_model= (the Hub id of the model "
            "it was unlearned from, which links the Hub's model tree)"
        )


def _summary(kind: str, task: str, config: str | None, method: str | None, base_model: str | None) -> str:
    if kind == "base":
        return f"The base model of mubench task `{task}`: trained on the full training set, before any unlearning."
    if kind == "retrain":
        return (
            f"The reference model of `{config}`: trained from scratch on the retain set only, the gold "
            "standard that unlearning methods try to imitate."
        )
    return f"`{base_model}` after unlearning the forget set of `{config}` with the `{method}` method."


def render_model_card(
    kind: str,
    *,
    task: str | Task,
    config: str | None = None,
    dataset_repo: str,
    dataset_hash: str | None,
    backbone: str,
    recipe: Mapping[str, Any],
    seed: int,
    results: Mapping[str, Any],
    base_model: str | None = None,
    method: str | None = None,
    method_params: Mapping[str, Any] | None = None,
    method_citation: str | None = None,
    unlearn_time_s: float | None = None,
    model_name: str,
    license: str | None = None,  # noqa: A002 - the Hub's metadata key
) -> ModelCard:
    """The model card of a mubench model, rendered from ``hub_cards/model_card.md``.

    Args:
        kind: ``"base"`` (trained on all training data), ``"retrain"`` (trained from scratch on the retain
            set) or ``"unlearned"``.
        task: the task (name or ``Task``): gives the pipeline tag and the number of classes.
        config: the deletion config (``"digits_del5"``); required except for base models.
        dataset_repo: the deletion-splits dataset repo id (``datasets`` metadata, eval results' dataset).
        dataset_hash: its content hash (``mubench verify``), so others can check they hold the same split.
        backbone: the architecture or checkpoint the model was built from.
        recipe: training (or unlearning) hyper-parameters, shown in the card and kept in its metadata.
        seed: the run's seed.
        results: flat ``{metric: value}`` (``forget_accuracy``, ``mubench_score``, ``gap_to_retrain`` ...);
            each becomes one ``model-index`` result with the split it was measured on. ``None`` values
            are left out; NaN or infinite values are refused.
        base_model: the Hub id of the model before unlearning (required for unlearned models).
        method, method_params: the unlearning method and its hyper-parameters (unlearned models).
        method_citation: the paper the method comes from (its ``register_method`` declaration).
        unlearn_time_s: wall time of the unlearning run.
        model_name: the model's name in ``model-index``, usually its repo id.
        license: the model's license; defaults to the task data's license.
    """
    spec = get_task(task)
    _check_kind(kind, config, method, base_model)
    method = "retrain" if kind == "retrain" and method is None else method
    scores = _checked_results(results)
    task_type = _task_type(spec)
    eval_results = [
        EvalResult(
            task_type=task_type,
            task_name="Machine unlearning",
            dataset_type=dataset_repo,
            dataset_name=f"mubench {spec.name}" + (f" ({config})" if config else ""),
            dataset_config=config,
            dataset_split=metric_split(name, spec.kind),
            dataset_args={"content_hash": dataset_hash} if dataset_hash else None,
            metric_type=name,
            metric_name=metric_label(name, spec.kind),
            metric_value=value,
        )
        for name, value in scores.items()
    ]
    provenance = _plain(
        {
            "kind": kind,
            "task": spec.name,
            "config": config,
            "dataset": dataset_repo,
            "dataset_hash": dataset_hash,
            "backbone": backbone,
            "method": method,
            "method_params": dict(method_params or {}),
            "seed": seed,
            "recipe": dict(recipe),
            "unlearn_time_s": unlearn_time_s,
        }
    )
    card_data = ModelCardData(
        base_model=base_model if kind == "unlearned" else None,
        base_model_relation="finetune" if kind == "unlearned" else None,
        datasets=[dataset_repo],
        license=license or spec.license,
        library_name=getattr(spec.modality_spec, "library_name", "transformers"),
        pipeline_tag=task_type,
        tags=[*CARD_TAGS, f"mubench-{kind}"],
        model_name=model_name,
        eval_results=eval_results or None,
        mubench={k: v for k, v in provenance.items() if v not in (None, {})},
    )
    rows = _table_rows(scores, spec.kind)
    return ModelCard.from_template(
        card_data,
        template_path=str(card_template(MODEL_CARD_TEMPLATE)),
        model_name=model_name,
        summary=_summary(kind, spec.name, config, method, base_model),
        kind_label=KINDS[kind],
        task=spec.name,
        task_type=task_type,
        num_labels=spec.num_labels,
        config=config,
        dataset_repo=dataset_repo,
        dataset_hash=dataset_hash,
        backbone=backbone,
        base_model=base_model if kind == "unlearned" else None,
        method=method if kind == "unlearned" else None,
        method_params=provenance.get("method_params"),
        method_citation=method_citation if kind == "unlearned" else None,
        seed=seed,
        unlearn_time_s=unlearn_time_s,
        recipe=provenance.get("recipe"),
        results=rows,
        auto_class=_auto_class(spec),
        auto_module=_auto_module(spec),
        citation=MUBENCH_CITATION,
    )


def read_results(card: ModelCard) -> dict[str, float]:
    """The card's ``model-index`` scores as a flat ``{metric: value}`` dict: the inverse of the ``results``
    given to :func:`render_model_card`."""
    return {r.metric_type: float(r.metric_value) for r in card.data.eval_results or []}


def read_provenance(card: ModelCard) -> dict[str, Any]:
    """What the card says about the model: its ``mubench`` block, completed from ``model-index`` and
    ``base_model`` for cards written by other tools (``kind``, ``task``, ``config``, ``method`` ...)."""
    info = dict(card.data.get("mubench") or {})
    results = card.data.eval_results or []
    if not info.get("config"):
        info["config"] = next((r.dataset_config for r in results if r.dataset_config), None)
    if not info.get("dataset"):
        info["dataset"] = next((r.dataset_type for r in results), None)
    if not info.get("task") and info.get("config"):
        try:
            info["task"] = task_of_config(str(info["config"]))
        except MubenchError:  # a card from another tool, with its own config names
            info["task"] = None
    if not info.get("kind"):
        info["kind"] = "unlearned" if card.data.base_model else "unknown"
    return info
