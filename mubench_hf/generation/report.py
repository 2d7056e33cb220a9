"""The unlearning report of a generation task: ``evaluate_unlearning`` hands over here (by task kind).

It calls :func:`mubench_hf.evaluation.generation.generation_report` on the trainer's model with

* the splits as strings (the ``prompt`` / ``completion`` rows behind the tokenising transform): forget,
  retain (a fixed, seeded subset of at most ``RETAIN_ROWS`` rows: greedy generation on every retain row
  would cost more than the unlearning itself; TOFU scores 400 retain rows too), the task's test split as the
  holdout (never-trained rows: the non-members of the MIAs) and the other evaluation splits the config has
  (validation, real_authors, world_facts);
* the original model θo (loaded from the folder the trainer's model came from), for ``original_<metric>``;
* the retrain reference (its model folder), for forget quality and privleak;

and writes ``unlearning_results.json`` and ``generations.jsonl`` into ``output_dir``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ..errors import MubenchError

RESULTS_FILE = "unlearning_results.json"
RETAIN_ROWS = 200
RETAIN_SUBSET_SEED = 0
HOLDOUT = "test"
EXTRA_SPLITS = ("validation", "real_authors", "world_facts")


def _raw(split: Any) -> Any:
    """The stored columns of a split, without the tokenising transform."""
    return split.with_format(None) if hasattr(split, "with_format") else split


def report_splits(splits: Mapping[str, Any], retain_rows: int | None = None) -> dict[str, Any]:
    """The string splits the generation report scores (see the module docstring)."""
    retain_rows = RETAIN_ROWS if retain_rows is None else retain_rows
    out: dict[str, Any] = {}
    for name in ("forget", "retain", HOLDOUT, *EXTRA_SPLITS):
        split = splits.get(name)
        if split is None:
            continue
        split = _raw(split)
        if name == "retain" and len(split) > retain_rows:
            rng = np.random.default_rng(RETAIN_SUBSET_SEED)
            split = split.select(np.sort(rng.choice(len(split), size=retain_rows, replace=False)))
        out[name] = split
    return out


def _load_model(like: nn.Module, path: str | os.PathLike, device: Any) -> nn.Module:
    base = like.get_base_model() if hasattr(like, "get_base_model") else like
    model = type(base).from_pretrained(str(path))
    model.requires_grad_(False)
    return model.to(device).eval()


def _retrain_folder(retrain: Any) -> Path | None:
    if retrain is None or isinstance(retrain, Mapping):
        return None
    path = Path(retrain)
    folder = path if path.is_dir() else path.parent
    if not (folder / "config.json").is_file():
        raise MubenchError(
            f"retrain reference {str(retrain)!r}: a generation task's report needs the retrain model's folder "
            "(written by 'mubench retrain'), not a predictions file"
        )
    return folder


def generation_unlearning_report(
    trainer: Any,
    splits: Mapping[str, Any],
    *,
    retrain: Any = None,
    base_model: Any = None,
    unlearn_time_s: float | None = None,
    output_dir: str | os.PathLike | None = None,
    extra: Mapping[str, Any] | None = None,
    log: bool = True,
    **_: Any,
) -> dict[str, Any]:
    """Score ``trainer.model`` on a generation task's splits (see the module docstring)."""
    from ..evaluation.generation import generation_report

    source = {**dict(getattr(trainer, "_report_source", None) or {}), **dict(splits)}
    chosen = report_splits(source)
    if "forget" not in chosen:
        raise MubenchError("the generation report needs the forget split")
    model = trainer.accelerator.unwrap_model(trainer.model)
    device = trainer.args.device
    original = None
    if isinstance(base_model, nn.Module):
        original = base_model
    elif base_model is not None and Path(base_model).is_dir():
        original = _load_model(model, base_model, device)
    folder = _retrain_folder(retrain)
    retrain_model = _load_model(model, folder, device) if folder is not None else None
    was_training = model.training
    model.eval()
    try:
        metrics: dict[str, Any] = generation_report(
            model,
            trainer.processing_class,
            chosen,
            original_model=original,
            retrain_model=retrain_model,
            holdout_split=HOLDOUT if HOLDOUT in chosen else None,
            batch_size=max(1, min(64, int(trainer.args.per_device_eval_batch_size))),
            output_dir=output_dir if output_dir is not None and trainer.is_world_process_zero() else None,
            seed=int(trainer.args.seed),
            progress=False,
        )
    finally:
        model.train(was_training)
    if unlearn_time_s is not None:
        metrics["unlearn_time_s"] = float(unlearn_time_s)
        results = folder / "train_results.json" if folder is not None else None
        if results is not None and results.is_file():
            retrain_time = json.loads(results.read_text()).get("train_runtime")
            if retrain_time:
                metrics["unlearn_time_fraction_of_retrain"] = float(unlearn_time_s) / float(retrain_time)
    if log:
        trainer.log({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
    if output_dir is not None and trainer.is_world_process_zero():
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / (RESULTS_FILE + ".tmp")
        payload = {**metrics, **{k: v for k, v in dict(extra or {}).items() if k not in metrics}}
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, out / RESULTS_FILE)
    return metrics
