"""The unlearning report of a generation task: ``evaluate_unlearning`` hands over here (by task kind).

It calls :func:`mubench_hf.kinds.generation.report.generation_report` on the trainer's model with

* the splits as strings (the ``prompt`` / ``completion`` rows behind the tokenising transform): forget,
  retain (a fixed, seeded subset of at most ``RETAIN_ROWS`` rows: greedy generation on every retain row
  would cost more than the unlearning itself; TOFU scores 400 retain rows too), the task's test split as the
  holdout (never-trained rows: the non-members of the MIAs) and the other evaluation splits the config has
  (validation, real_authors, world_facts);
* the original model θo (loaded from the folder the trainer's model came from), for ``original_<metric>``;
* the retrain reference (its model folder), for forget quality and privleak;

and writes ``unlearning_results.json`` and ``generations.jsonl`` into ``output_dir``.

How it generates (:class:`GenerationSettings`: generation length, batch size, chat template, context
length) comes from the ``generation`` argument when given (``pipeline.score`` passes it for
``mubench evaluate``), else from the trainer's arguments (``UnlearnConfig.generation_max_new_tokens``,
``generation_batch_size``, ``generation_chat_template``, ``generation_max_length``: ``mubench unlearn``
flags and a grid's ``unlearn_args``), else the defaults below.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ...errors import MubenchError
from ...metrics.generative import DEFAULT_K
from ...modeling import load_like
from ..progress import show_progress
from .mcq import mcq_metrics
from .muse_report import muse_probe_splits
from .report import generation_report

RESULTS_FILE = "unlearning_results.json"
RETAIN_ROWS = 200
RETAIN_SUBSET_SEED = 0
HOLDOUT = "test"
EXTRA_SPLITS = ("validation", "real_authors", "world_facts")
MAX_BATCH_SIZE = 64  # the default batch: per_device_eval_batch_size, capped (generation holds a KV cache)
CHAT_TEMPLATE_MODES = {"auto": None, "on": True, "off": False}


@dataclass(frozen=True)
class GenerationSettings:
    """How the report generates and scores; ``None`` fields take the report's defaults.

    ``batch_size`` None: the trainer's ``per_device_eval_batch_size`` (at most ``MAX_BATCH_SIZE``);
    ``chat_template`` 'auto' (the tokenizer's template when it has one, as training uses it), 'on' or
    'off'; ``max_length`` None: the model's context length; ``k``: the min-k % share.
    """

    max_new_tokens: int = 64
    batch_size: int | None = None
    chat_template: str = "auto"
    max_length: int | None = None
    k: float = DEFAULT_K

    def __post_init__(self) -> None:
        for name in ("max_new_tokens", "batch_size", "max_length"):
            value = getattr(self, name)
            if value is None and name != "max_new_tokens":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MubenchError(f"generation {name} must be a positive integer, got {value!r}")
        if self.chat_template not in CHAT_TEMPLATE_MODES:
            raise MubenchError(
                f"chat_template must be one of {list(CHAT_TEMPLATE_MODES)}, got {self.chat_template!r}"
            )
        if not 0.0 < float(self.k) <= 1.0:
            raise MubenchError(f"the min-k share k must lie in (0, 1], got {self.k!r}")

    @classmethod
    def from_args(cls, args: Any) -> GenerationSettings:
        """The settings an ``UnlearnConfig`` (or a dict of its fields, e.g. a sweep cell's arguments)
        asks for; plain ``TrainingArguments``: the defaults."""
        defaults = cls()

        def get(name: str) -> Any:
            return args.get(name) if isinstance(args, Mapping) else getattr(args, name, None)

        return cls(
            max_new_tokens=get("generation_max_new_tokens") or defaults.max_new_tokens,
            batch_size=get("generation_batch_size"),
            chat_template=get("generation_chat_template") or defaults.chat_template,
            max_length=get("generation_max_length"),
        )


def settings_of(trainer: Any, settings: Any = None) -> GenerationSettings:
    """``settings`` (a ``GenerationSettings`` or a dict of its fields) if given, else what ``trainer.args``
    asks for (module docstring)."""
    if settings is None:
        return GenerationSettings.from_args(trainer.args)
    if isinstance(settings, Mapping):
        return GenerationSettings(**settings)
    if not isinstance(settings, GenerationSettings):
        raise MubenchError(
            "generation settings must be a GenerationSettings or a dict of its fields, got "
            f"{type(settings).__name__}"
        )
    return settings


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
    generation: Any = None,
    add_metrics: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
    **_: Any,
) -> dict[str, Any]:
    """Score ``trainer.model`` on a generation task's splits (see the module docstring); ``generation``: how
    it generates (a ``GenerationSettings`` or a dict of its fields; ``None``: what the trainer's arguments
    ask for)."""
    settings = settings_of(trainer, generation)  # a bad setting fails before any model is loaded
    chosen = report_splits(splits)
    if "forget" not in chosen:
        raise MubenchError("the generation report needs the forget split")
    # a MUSE-shaped task's VerbMem / KnowMem probes about this config's forget and retain documents
    probes = muse_probe_splits(splits, trainer.processing_class, settings.max_new_tokens)
    chosen.update(probes)
    model = trainer.accelerator.unwrap_model(trainer.model)
    device = trainer.args.device
    original = None
    if isinstance(base_model, nn.Module):
        original = base_model
    elif base_model is not None and Path(base_model).is_dir():
        original = load_like(model, base_model, device)
    folder = _retrain_folder(retrain)
    retrain_model = load_like(model, folder, device) if folder is not None else None
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
            batch_size=settings.batch_size
            or max(1, min(MAX_BATCH_SIZE, int(trainer.args.per_device_eval_batch_size))),
            max_new_tokens=settings.max_new_tokens,
            chat_template=CHAT_TEMPLATE_MODES[settings.chat_template],
            max_length=settings.max_length,
            k=settings.k,
            output_dir=output_dir if output_dir is not None and trainer.is_world_process_zero() else None,
            seed=int(trainer.args.seed),
            progress=show_progress(trainer.args),
            # MUSE: VerbMem replaces forget ROUGE-L; the probes are read by their generations only
            generate_splits=list(probes) if probes else None,
            generation_only=list(probes),
        )
        # multiple-choice splits (a WMDP-shaped task's forget_mcq / utility_mcq), scored as lm-eval does
        metrics.update(mcq_metrics(model, trainer.processing_class, splits, original_model=original,
                                   retrain_model=retrain_model))  # fmt: skip
    finally:
        model.train(was_training)
    if unlearn_time_s is not None:
        metrics["unlearn_time_s"] = float(unlearn_time_s)
        results = folder / "train_results.json" if folder is not None else None
        if results is not None and results.is_file():
            retrain_time = json.loads(results.read_text()).get("train_runtime")
            if retrain_time:
                metrics["unlearn_time_fraction_of_retrain"] = float(unlearn_time_s) / float(retrain_time)
    if add_metrics is not None:  # metrics measured above this layer, before they are logged and written
        metrics.update(add_metrics(metrics))
    from ...metrics.report_warnings import add_report_warnings

    add_report_warnings(metrics, kind="generation", split_rows={n: len(s) for n, s in chosen.items()})
    if log:
        trainer.log({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
    if output_dir is not None and trainer.is_world_process_zero():
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / (RESULTS_FILE + ".tmp")
        payload = {**metrics, **{k: v for k, v in dict(extra or {}).items() if k not in metrics}}
        payload.setdefault("generation_settings", dataclasses.asdict(settings))  # how it was generated
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, out / RESULTS_FILE)
    return metrics
