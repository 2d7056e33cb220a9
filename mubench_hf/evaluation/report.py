"""The unlearning report: every metric of an unlearned model, one flat dict, whatever its task kind.

``evaluate_unlearning(trainer, splits, ...)`` works with any ``transformers.Trainer``
(``UnlearnTrainer.evaluate_unlearning()`` calls it with the trainer's own splits). The task's kind
(``mubench_hf.kinds``) scores it: a classification task with one prediction pass per split (accuracies,
the MU-Bench score, knowledge gap, ZRF, MIA, forget quality and the gap to a retrain reference; see
``mubench_hf.kinds.classification.report``), a generation task with greedy generations and teacher-forced
answer statistics (ROUGE-L, truth ratio, forget quality, model utility, sequence MIAs; see
``mubench_hf.kinds.generation``). The kind logs the dict through the trainer and writes
``unlearning_results.json`` (and its per-sample outputs) into ``output_dir``.

When asked (``relearn=True`` or a :class:`~mubench_hf.evaluation.relearn.RelearnSettings`) a classification report adds
the relearn time: optimizer steps of fine-tuning a copy on Df until the original model's forget accuracy is
back (``relearn_*`` keys, capped; see :mod:`mubench_hf.evaluation.relearn`). It needs the original model.

When asked (``attacks=``, or the trainer's ``UnlearnConfig.attacks``) a report of either kind adds the forget
metric after attacks on the forgetting: weights rounded to 8/4 bits, a few relearning steps on part of Df,
Df asked again in other words (generation tasks; ``<metric>_after_<attack>``, ``<metric>_recovery_<attack>``;
see :mod:`mubench_hf.evaluation.attacks`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from torch import nn
from transformers import Trainer

from ..errors import MubenchError
from ..kinds import get_kind
from ..kinds.classification.report import (  # noqa: F401  (importable from here)
    OPTIONAL,
    REQUIRED,
    RESULTS_FILE,
    RetrainReference,
    _load_reference,
    check_reference_source,
    config_name_of,
    original_forget_accuracy,
    predict_labels,
)
from ..kinds.reference_cache import directory as reference_cache_directory
from ..splits.layout import task_of_config
from ..tasks import get_task
from .attacks import as_attack_settings, attack_metrics, relearn_parts
from .eval_sample import SAMPLE_KEY, bounded_splits
from .relearn import as_settings, relearn_steps


def task_kind_of(trainer: Trainer, splits: Mapping[str, Any]) -> str:
    """The kind of task being scored: the trainer's objective's, else the task of the splits' config."""
    kind = getattr(getattr(trainer, "objective", None), "kind", None)
    if kind:
        return kind
    config = config_name_of(splits.get("forget"))
    if config:
        try:
            return get_task(task_of_config(config)).kind
        except (MubenchError, KeyError):
            return "classification"  # a task this install does not know: scored as classification
    return "classification"


def evaluate_unlearning(
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
    relearn: Any = None,
    generation: Any = None,
    record: Mapping[str, Any] | None = None,
    max_eval_rows: int | None = None,
    eval_sample_seed: int | None = None,
    report_cache_dir: str | os.PathLike | None = None,
    attacks: Any = None,
) -> dict[str, Any]:
    """Score ``trainer.model`` on ``splits`` with the report of its task's kind (see the module docstring).

    ``generation`` are the report's settings where the kind has some (a generation task's
    ``GenerationSettings`` or a dict of its fields; ``None``: what ``trainer.args`` asks for, else the
    defaults); a kind whose report takes none refuses them. ``record`` holds entries measured by the caller
    (the checkpoint selection of a curve) that go into the returned dict and ``unlearning_results.json``
    as they are. ``max_eval_rows`` bounds every scored split to a seeded sample (``eval_sample_seed``;
    see :mod:`mubench_hf.evaluation.eval_sample`), ``report_cache_dir`` keeps the reference models' values
    on disk (:mod:`mubench_hf.kinds.reference_cache`); ``None``: what ``trainer.args`` asks for.
    ``attacks`` (names such as ``"quant8,quant4,relearn"``, an ``AttackSettings`` or a dict of
    its fields; ``None``: what ``trainer.args`` asks for) adds the attack keys. Returns the flat dict."""
    relearn_settings = as_settings(relearn)  # a bad setting fails before any prediction pass
    attack_settings = as_attack_settings(attacks, trainer.args)
    kind = get_kind(task_kind_of(trainer, splits))
    splits, sample = bounded_splits(trainer, splits, max_eval_rows, eval_sample_seed)
    if sample is not None:  # what was scored travels with the report, into the results file
        record = {**dict(record or {}), SAMPLE_KEY: sample}
    if report_cache_dir is None:
        report_cache_dir = getattr(trainer.args, "report_cache_dir", None)
    if relearn_settings is not None and not kind.measures_relearn:
        raise MubenchError("relearn_steps is measured on classification tasks only (forget accuracy)")
    if attack_settings is not None and not kind.attack_metrics:
        raise MubenchError(
            f"attacks on the forgetting are not scored for {kind.name} tasks (no attack_metrics)"
        )
    if attack_settings is not None and "paraphrase" in attack_settings.attacks and not kind.probe_metrics:
        kind.probe_scores(trainer, trainer.model, splits, seed=0)  # refused, with the reason, before any pass
    if attack_settings is not None and "relearn" in attack_settings.attacks:
        relearn_parts(  # too few rows (or documents) fail here
            len(splits["forget"]), attack_settings.relearn_share, 0,
            groups=kind.relearn_groups(splits["forget"], splits),
        )  # fmt: skip
    add_metrics = None
    if relearn_settings is not None or record or attack_settings is not None:
        seed = int(trainer.args.seed)

        def add_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
            added: dict[str, Any] = dict(record or {})
            if relearn_settings is not None:
                added.update(_relearn_metrics(
                    trainer, splits["forget"], base_model, relearn_settings, seed,
                    metrics.get("original_forget_accuracy"),
                ))  # fmt: skip
            if attack_settings is not None:
                added.update(attack_metrics(
                    trainer, kind, splits["forget"], attack_settings, {**metrics, **added},
                    report_settings=generation, seed=seed, splits=splits, original=base_model,
                ))  # fmt: skip
            return added

    with reference_cache_directory(report_cache_dir):
        return kind.report(
            trainer,
            splits,
            retrain=retrain,
            original_test_accuracy=original_test_accuracy,
            base_model=base_model,
            unlearn_time_s=unlearn_time_s,
            output_dir=output_dir,
            extra=extra,
            log=log,
            settings=generation,
            add_metrics=add_metrics,
        )


def _relearn_metrics(
    trainer: Trainer,
    forget: Any,
    base_model: str | os.PathLike | nn.Module | None,
    settings: Any,
    seed: int,
    target: float | None = None,
) -> dict[str, float]:
    """The ``relearn_*`` keys (see :mod:`mubench_hf.evaluation.relearn`); the target is the original
    model's own accuracy on this forget split (``target``, measured here when not given)."""
    if base_model is None:
        raise MubenchError(
            "relearn_steps needs the original model (its forget accuracy is the target): pass base_model= "
            "(mubench evaluate --base-model BASE_DIR)"
        )
    if target is None:  # the report measures it once and passes it; others let it be measured here
        target = original_forget_accuracy(trainer, forget, base_model)
    assert target is not None
    result = relearn_steps(
        trainer.accelerator.unwrap_model(trainer.model),
        forget,
        data_collator=trainer.data_collator,
        original_forget_accuracy=target,
        settings=settings,
        seed=seed,
        use_cpu=bool(trainer.args.use_cpu),
    )
    return {**result.as_metrics(), "original_forget_accuracy": target}
