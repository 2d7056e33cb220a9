"""Run the attacks on an unlearned model and report the forget metric after each (the report's keys).

For each attack ``a`` asked for and each of the kind's attack metrics ``m`` (``TaskKind.attack_metrics``:
forget accuracy for classification; forget ROUGE-L, answer probability and extraction strength for generation):

* ``m_after_a``: ``m`` of the attacked model, scored once on the forget rows (all of Df for ``quant8`` and
  ``quant4``; for ``relearn`` the part of Df the attack did not train on, split by document on a MUSE-shaped
  task: ``TaskKind.relearn_groups``); for ``paraphrase`` ``m`` of the
  unlearned model itself on the rephrased probes of Df (``TaskKind.probe_metrics``: a generation task's forget
  metrics on its forget rows reworded, or a MUSE-shaped task's VerbMem and KnowMem on the reworded probes of
  its forget documents; :mod:`mubench_hf.kinds.generation.probes`);
* ``m_recovery_a``, the recovery share: ``(m_after_a − m) / (m_original − m)``, with ``m`` the unlearned and
  ``m_original`` the original model's value from the report (``original_<m>``, on all of Df). 0 = the attack
  brought nothing back, 1 = it brought back all that unlearning removed (above 1: more than that; below 0:
  the attack removed more). ``None`` without the original model's value, or when unlearning changed nothing
  (``m_original == m``). For ``relearn`` the unlearned and original values are those of the scored part of
  Df (each model scored once more on it: a part, above all a few documents of a MUSE-shaped task, can score
  far from the whole).
  For ``paraphrase`` the probes are new text to both models (a rewording lowers the original model's own
  value: the demo's 0.97 forget ROUGE-L is 0.46 on its reworded questions), so the share compares the part
  of each model's level that unlearning removed on each wording: ``1 − [(o_p − m_p) / o_p] / [(m_original
  − m) / m_original]``, with ``m_p`` and ``o_p`` the unlearned and the original model on the probes (``o_p``
  is reported as ``original_m_after_paraphrase``) and ``m``, ``m_original`` the report's values on the
  trained wording. 0 = the rewording shows as large a part removed as the trained wording, 1 = on the probes
  the unlearned model is at the original model's level; ``None`` without the original model, or when the
  original model scores 0 on the probes. Levels, not differences: a difference would shrink with the
  original's level on the probes and read a model that answers none of them as recovering;

and ``attacks_time_s``, the wall time of all attacks together (attacking and scoring), beside
``unlearn_time_s``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from ...modeling import load_like
from .quantize import rounded_copy
from .relearn import relearn_parts, relearned_copy
from .settings import AttackSettings


def recovery_share(after: float | None, unlearned: float | None, original: float | None) -> float | None:
    """``(after − unlearned) / (original − unlearned)`` (module docstring); ``None`` when undefined."""
    if after is None or unlearned is None or original is None or original == unlearned:
        return None
    return (float(after) - float(unlearned)) / (float(original) - float(unlearned))


def paraphrase_share(
    after: float | None, original_after: float | None, unlearned: float | None, original: float | None
) -> float | None:
    """``1 − [(original_after − after) / original_after] / [(original − unlearned) / original]`` (module
    docstring): the part of the original model's level that unlearning removed on the probes, against the
    part it removed on the trained wording; ``None`` when undefined."""
    if None in (after, original_after, unlearned, original):
        return None
    if float(original_after) == 0 or float(original) == 0 or original == unlearned:
        return None
    removed_on_probes = (float(original_after) - float(after)) / float(original_after)
    removed_as_trained = (float(original) - float(unlearned)) / float(original)
    return 1.0 - removed_on_probes / removed_as_trained


def _original_module(model: nn.Module, original: Any, device: Any) -> nn.Module | None:
    """The original model as a module: ``original`` itself, or loaded from its folder with the class of
    ``model``, as the reports load it; ``None`` without one (a Hub id is not fetched)."""
    if original is None or isinstance(original, nn.Module):
        return original
    return load_like(model, original, device) if Path(original).is_dir() else None


def attack_metrics(
    trainer: Any,
    kind: Any,
    forget: Any,
    settings: AttackSettings,
    metrics: Mapping[str, Any],
    *,
    report_settings: Any = None,
    seed: int = 42,
    splits: Mapping[str, Any] | None = None,
    original: Any = None,
) -> dict[str, Any]:
    """The keys of the module docstring for ``trainer.model`` (unlearned) on the forget rows ``forget``;
    ``metrics`` is the report so far (its unlearned and ``original_`` values); ``splits`` are the report's
    (the paraphrase attack's KnowMem probes come from them; ``None``: the forget rows alone); ``original``:
    the original model (a module or its folder), which the paraphrase attack scores on the probes too."""
    start = time.perf_counter()
    model: nn.Module = trainer.accelerator.unwrap_model(trainer.model)
    device = next(model.parameters()).device
    out: dict[str, Any] = {}

    def record(
        attack: str, scores: Mapping[str, Any], names: tuple[str, ...], reference: Mapping[str, Any] = metrics
    ) -> None:
        for name in names:
            if name not in scores:
                continue  # a metric the task has none of (KnowMem outside MUSE-shaped tasks, ROUGE-L in them)
            after = scores.get(name)
            out[f"{name}_after_{attack}"] = after
            out[f"{name}_recovery_{attack}"] = recovery_share(
                after, reference.get(name), reference.get(f"original_{name}")
            )

    def scored(copy: nn.Module, rows: Any) -> Mapping[str, Any]:
        return kind.forget_scores(trainer, copy.to(device), rows, report_settings, splits=splits)

    for attack, bits in settings.quant_bits.items():
        record(attack, scored(rounded_copy(model, bits), forget), kind.attack_metrics)
    # the relearning and paraphrase shares' reference, loaded once and only for them
    needs_original = "relearn" in settings.attacks or "paraphrase" in settings.attacks
    reference_model = _original_module(model, original, device) if needs_original else None
    if "relearn" in settings.attacks:
        groups = kind.relearn_groups(forget, splits)
        train_rows, scored_rows = relearn_parts(len(forget), settings.relearn_share, seed, groups=groups)
        relearned = relearned_copy(
            model, forget.select(train_rows), data_collator=trainer.data_collator, settings=settings,
            seed=seed, use_cpu=bool(trainer.args.use_cpu),
        )  # fmt: skip
        rest = forget.select(scored_rows)
        # the share's reference: the unlearned and the original model on the same rows (a few documents of
        # a MUSE-shaped task score far from all of Df)
        on_rest = dict(scored(model, rest))
        if reference_model is not None:
            on_rest.update({f"original_{k}": v for k, v in scored(reference_model, rest).items()})
        record("relearn", scored(relearned, rest), kind.attack_metrics, on_rest)
    if "paraphrase" in settings.attacks:  # the unlearned model itself, asked in other words
        scores = kind.probe_scores(
            trainer, model, {**dict(splits or {}), "forget": forget}, report_settings, seed=seed,
            source=settings.paraphrase_source, original=reference_model,
        )  # fmt: skip
        for name in kind.probe_metrics:
            if name not in scores:
                continue
            after, original_after = scores[name], scores.get(f"original_{name}")
            out[f"{name}_after_paraphrase"] = after
            out[f"original_{name}_after_paraphrase"] = original_after
            out[f"{name}_recovery_paraphrase"] = paraphrase_share(
                after, original_after, metrics.get(name), metrics.get(f"original_{name}")
            )
    out["attacks_time_s"] = time.perf_counter() - start
    return out
