"""The unlearning report of a classification task: one prediction pass per split, every metric, one flat dict.

``classification_report(trainer, ...)`` (what ``evaluation.evaluate_unlearning`` calls for classification
tasks) works with any ``transformers.Trainer`` whose model is a classifier. It

1. runs ``trainer.predict`` once on each split (forget, retain, test, and validation/OOD when given)
   and a seeded, randomly initialised copy of the architecture on the forget split (ZRF's teacher);
2. takes the original model's test accuracy (the MU-Bench score's anchor) from the argument, the base
   model's card, or a quick evaluation of the base model; with the base model at hand, also its forget
   accuracy (``original_forget_accuracy``: before and after in one row);
3. with a retrain reference (a model folder, a ``predictions.npz``, or a folder holding one) adds forget
   quality, the gap to retrain and the reference's own metrics (``retrain_*``);
4. logs the dict through the trainer and writes ``unlearning_results.json`` and ``predictions.npz``
   into ``output_dir``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn
from transformers import Trainer

from ...columns import column_numpy
from ...errors import MubenchError
from ...metrics import compute_unlearning_metrics
from ...metrics.report_warnings import add_report_warnings
from ...modeling import fresh_model, load_like
from ...tasks import LABEL_COLUMN
from .anchor import card_test_accuracy
from .predictions import (
    PREDICTIONS_FILE,
    SplitPredictions,
    load_predictions,
    logits_of_model,
    predict_split,
    sample_ids_of,
    save_predictions,
)
from .reference_outputs import load_once, reference_logits

RESULTS_FILE = "unlearning_results.json"
REQUIRED = ("forget", "retain", "test")
OPTIONAL = ("validation", "ood")

RetrainReference = str | os.PathLike | Mapping[str, SplitPredictions]


def config_name_of(dataset: Any) -> str | None:
    """The dataset config a split was loaded from (``load_dataset(repo, "digits_del5")`` records it)."""
    info = getattr(dataset, "info", None)
    name = getattr(info, "config_name", None)
    return name if name and name != "default" else None


def classification_report(
    trainer: Trainer,
    splits: Mapping[str, Any],
    *,
    retrain: RetrainReference | None = None,
    original_test_accuracy: float | None = None,
    base_model: str | os.PathLike | nn.Module | None = None,
    unlearn_time_s: float | None = None,
    output_dir: str | os.PathLike | None = None,
    extra: Mapping[str, Any] | None = None,
    log: bool = True,
    add_metrics: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Score ``trainer.model`` on ``splits`` (see the module docstring). Returns the flat dict.

    ``add_metrics`` (the relearn time, measured above this layer) gets the metrics once they are complete
    and returns keys to add before they are logged and written."""
    missing = [name for name in REQUIRED if splits.get(name) is None]
    if missing:
        raise MubenchError(
            f"the unlearning report needs the {', '.join(missing)} split(s); pass them (e.g. splits= the "
            "DatasetDict of load_dataset(repo, '<task>_del<p>'))"
        )
    names = [n for n in (*REQUIRED, *OPTIONAL) if splits.get(n) is not None]
    predictions = {name: predict_split(trainer, splits[name], name) for name in names}
    config = config_name_of(splits["forget"])
    seed = int(trainer.args.seed)

    teacher_logits = _random_teacher_logits(trainer, splits["forget"], seed)
    anchor = _original_test_accuracy(trainer, splits["test"], original_test_accuracy, base_model)
    reference, reference_meta = (
        (None, {}) if retrain is None else _load_reference(trainer, splits, retrain, names)
    )
    if reference is not None:
        _check_reference(reference, reference_meta, predictions, config)

    metrics: dict[str, Any] = compute_unlearning_metrics(
        {n: p.logits for n, p in predictions.items()},
        {n: p.labels for n, p in predictions.items()},
        original_test_accuracy=anchor,
        # MU-Bench's score allows grad_ascent / neggrad a larger test-accuracy change
        method=(extra or {}).get("method"),
        random_teacher_logits=teacher_logits,
        retrain_logits=None
        if reference is None
        else {n: reference[n].logits for n in names if n in reference},
        seed=seed,
    )
    if anchor is not None:
        metrics["original_test_accuracy"] = anchor
    # before/after on Df in one row (one pass of θo over the forget split, the smallest one)
    original_forget = original_forget_accuracy(trainer, splits["forget"], base_model)
    if original_forget is not None:
        metrics["original_forget_accuracy"] = original_forget
    if unlearn_time_s is not None:
        metrics["unlearn_time_s"] = float(unlearn_time_s)
        retrain_time = reference_meta.get("train_time_s")
        if retrain_time:
            metrics["unlearn_time_fraction_of_retrain"] = float(unlearn_time_s) / float(retrain_time)

    if add_metrics is not None:
        metrics.update(add_metrics(metrics))
    add_report_warnings(
        metrics,
        kind="classification",
        split_rows={name: len(p.labels) for name, p in predictions.items()},
        num_labels=int(predictions["forget"].logits.shape[1]),
        method=(extra or {}).get("method"),
    )

    if log:
        trainer.log({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
    if output_dir is not None and trainer.is_world_process_zero():
        meta = {"config": config, "train_time_s": unlearn_time_s, **dict(extra or {})}
        _write_outputs(Path(output_dir), metrics, predictions, meta)
    return metrics


def original_forget_accuracy(
    trainer: Trainer, forget: Any, base_model: str | os.PathLike | nn.Module | None
) -> float | None:
    """The original model's accuracy on Df (``None`` without the original model)."""
    if base_model is None:
        return None
    # the original model's logits are the same in every report on these rows: computed once (reference cache)
    logits = reference_logits(trainer, base_model, forget, "forget", load=_load_like)
    return float(np.mean(logits.argmax(axis=1) == predict_labels(forget)))


def _random_teacher_logits(trainer: Trainer, forget: Any, seed: int) -> np.ndarray:
    student = trainer.accelerator.unwrap_model(trainer.model)
    teacher = fresh_model(student, seed).to(trainer.args.device)
    teacher.requires_grad_(False)
    return logits_of_model(trainer, teacher, forget, "forget")


def _original_test_accuracy(
    trainer: Trainer, test: Any, given: float | None, base_model: str | os.PathLike | nn.Module | None
) -> float | None:
    if given is not None:
        return float(given)
    if base_model is None:
        return None
    if not isinstance(base_model, nn.Module):
        from_card = card_test_accuracy(base_model)
        if from_card is not None:
            return from_card
    logits = reference_logits(trainer, base_model, test, "test", load=_load_like)
    labels = predict_labels(test)
    return float(np.mean(logits.argmax(axis=1) == labels))


def predict_labels(dataset: Any) -> np.ndarray:
    """The labels of a classification split, as int64."""
    return column_numpy(dataset, LABEL_COLUMN).astype(np.int64)


def _load_like(trainer: Trainer, path: str | os.PathLike) -> nn.Module:
    """Load a checkpoint of the same architecture as the trainer's model, on the trainer's device."""
    student = trainer.accelerator.unwrap_model(trainer.model)
    base = student.get_base_model() if hasattr(student, "get_base_model") else student
    if not (Path(path) / "adapter_config.json").is_file():
        return load_like(base, path, trainer.args.device)
    from peft import PeftModel

    loaded = PeftModel.from_pretrained(type(base).from_pretrained(_adapter_base(path)), str(path))
    loaded.requires_grad_(False)
    return loaded.to(trainer.args.device).eval()


def _adapter_base(path: str | os.PathLike) -> str:
    from peft import PeftConfig

    return PeftConfig.from_pretrained(str(path)).base_model_name_or_path


def check_reference_source(retrain: RetrainReference) -> None:
    """Refuse a retrain reference that cannot be read, before any training or scoring starts."""
    if isinstance(retrain, Mapping):
        return
    path = Path(retrain)
    # a model folder: transformers' (config.json) or a diffusers pipeline's (model_index.json: text-to-image)
    markers = (PREDICTIONS_FILE, "config.json", "model_index.json")
    if path.is_file() or any((path / marker).is_file() for marker in markers):
        return
    what = (
        "does not exist"
        if not path.exists()
        else "is not a predictions file, nor a folder holding one or a model"
    )
    raise MubenchError(
        f"retrain reference {str(path)!r} {what}: pass the retrain model's folder (written by "
        f"'mubench retrain'), its {PREDICTIONS_FILE}, or a folder holding one"
    )


def _load_reference(
    trainer: Trainer, splits: Mapping[str, Any], retrain: RetrainReference, names: list[str]
) -> tuple[dict[str, SplitPredictions], dict[str, Any]]:
    check_reference_source(retrain)
    if isinstance(retrain, Mapping):
        return dict(retrain), {}
    path = Path(retrain)
    if path.is_file():
        return load_predictions(path)
    if (path / PREDICTIONS_FILE).is_file():
        return load_predictions(path / PREDICTIONS_FILE)
    # a model folder (config.json): run it on every split, once per process for the same rows (cache)
    load = load_once(_load_like)
    reference = {
        name: SplitPredictions(
            logits=reference_logits(trainer, path, splits[name], name, load=load),
            labels=predict_labels(splits[name]),
            sample_ids=sample_ids_of(splits[name]),
        )
        for name in names
    }
    meta = {}
    results = path / "train_results.json"
    if results.is_file():
        meta["train_time_s"] = json.loads(results.read_text()).get("train_runtime")
    return reference, meta


def _check_reference(
    reference: Mapping[str, SplitPredictions],
    meta: Mapping[str, Any],
    predictions: Mapping[str, SplitPredictions],
    config: str | None,
) -> None:
    ref_config = meta.get("config")
    if config and ref_config and ref_config != config:
        raise MubenchError(
            f"retrain reference is for config {ref_config!r}, but this model is evaluated on {config!r}: "
            "use the retrain model of the same task and deletion config"
        )
    for name in REQUIRED:
        if name not in reference:
            raise MubenchError(f"retrain reference has no {name!r} split: it needs forget, retain and test")
    for name, pred in predictions.items():
        ref = reference.get(name)
        if ref is None:
            continue
        ref = reference[name] = rows_of(ref, pred.sample_ids)  # a bounded report: the reference's same rows
        if ref.logits.shape != pred.logits.shape:
            raise MubenchError(
                f"retrain reference's {name} split has logits of shape {ref.logits.shape} but this model's "
                f"has {pred.logits.shape}: the reference was made for a different task or config, or on fewer "
                "rows (a max_eval_rows sample: make the reference on every row)"
            )
        if (
            ref.sample_ids is not None
            and pred.sample_ids is not None
            and not np.array_equal(np.sort(ref.sample_ids), np.sort(pred.sample_ids))
        ):
            raise MubenchError(
                f"retrain reference's {name} split holds other samples than this one: the reference was "
                "made for a different task or config"
            )
        if ref.sample_ids is not None and pred.sample_ids is not None:
            # align the reference's rows with ours by sample id
            order = np.argsort(ref.sample_ids)[np.argsort(np.argsort(pred.sample_ids))]
            reference[name].logits = ref.logits[order]  # type: ignore[index]
            reference[name].labels = ref.labels[order]  # type: ignore[index]
            reference[name].sample_ids = ref.sample_ids[order]  # type: ignore[index]


def rows_of(reference: SplitPredictions, sample_ids: np.ndarray | None) -> SplitPredictions:
    """The reference's rows with these sample ids, when it holds more rows than the report scores (a
    reference made on the full split, scored against a ``max_eval_rows`` sample); else the reference."""
    if sample_ids is None or reference.sample_ids is None or len(reference.sample_ids) <= len(sample_ids):
        return reference
    position = {int(s): i for i, s in enumerate(reference.sample_ids)}
    if any(int(s) not in position for s in sample_ids):
        return reference  # other rows: refused by the checks below
    keep = np.array([position[int(s)] for s in sample_ids], dtype=np.int64)
    return SplitPredictions(
        logits=reference.logits[keep], labels=reference.labels[keep], sample_ids=reference.sample_ids[keep]
    )


def _write_outputs(
    output_dir: Path,
    metrics: Mapping[str, Any],
    predictions: Mapping[str, SplitPredictions],
    meta: Mapping[str, Any],
) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    tmp = output_dir / (RESULTS_FILE + ".tmp")
    tmp.write_text(json.dumps(dict(metrics), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, output_dir / RESULTS_FILE)
    save_predictions(output_dir / PREDICTIONS_FILE, predictions, meta)
