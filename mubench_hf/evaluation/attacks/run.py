"""Run the attacks on an unlearned model and report the forget metric after each (the report's keys).

For each attack ``a`` asked for and each of the kind's attack metrics ``m`` (``TaskKind.attack_metrics``:
forget accuracy for classification; forget ROUGE-L, answer probability and extraction strength for generation):

* ``m_after_a``: ``m`` of the attacked model, scored once on the forget rows (all of Df for ``quant8`` and
  ``quant4``; for ``relearn`` the part of Df the attack did not train on);
* ``m_recovery_a``, the recovery share: ``(m_after_a − m) / (m_original − m)``, with ``m`` the unlearned and
  ``m_original`` the original model's value from the report (``original_<m>``, on all of Df). 0 = the attack
  brought nothing back, 1 = it brought back all that unlearning removed (above 1: more than that; below 0:
  the attack removed more). ``None`` without the original model's value, or when unlearning changed nothing
  (``m_original == m``). For ``relearn`` the unlearned and original values are the report's on all of Df (a
  seeded random part of Df scores the same in expectation; the report scores each model once per split);

and ``attacks_time_s``, the wall time of all attacks together (attacking and scoring), beside
``unlearn_time_s``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from torch import nn

from .quantize import rounded_copy
from .relearn import relearn_parts, relearned_copy
from .settings import AttackSettings


def recovery_share(after: float | None, unlearned: float | None, original: float | None) -> float | None:
    """``(after − unlearned) / (original − unlearned)`` (module docstring); ``None`` when undefined."""
    if after is None or unlearned is None or original is None or original == unlearned:
        return None
    return (float(after) - float(unlearned)) / (float(original) - float(unlearned))


def attack_metrics(
    trainer: Any,
    kind: Any,
    forget: Any,
    settings: AttackSettings,
    metrics: Mapping[str, Any],
    *,
    report_settings: Any = None,
    seed: int = 42,
) -> dict[str, Any]:
    """The keys of the module docstring for ``trainer.model`` (unlearned) on the forget rows ``forget``;
    ``metrics`` is the report so far (its unlearned and ``original_`` values)."""
    start = time.perf_counter()
    model: nn.Module = trainer.accelerator.unwrap_model(trainer.model)
    device = next(model.parameters()).device
    out: dict[str, Any] = {}

    def record(attack: str, attacked: nn.Module, rows: Any) -> None:
        scores = kind.forget_scores(trainer, attacked.to(device), rows, report_settings)
        for name in kind.attack_metrics:
            after = scores.get(name)
            out[f"{name}_after_{attack}"] = after
            out[f"{name}_recovery_{attack}"] = recovery_share(
                after, metrics.get(name), metrics.get(f"original_{name}")
            )

    for attack, bits in settings.quant_bits.items():
        record(attack, rounded_copy(model, bits), forget)
    if "relearn" in settings.attacks:
        train_rows, scored_rows = relearn_parts(len(forget), settings.relearn_share, seed)
        relearned = relearned_copy(
            model, forget.select(train_rows), data_collator=trainer.data_collator, settings=settings,
            seed=seed, use_cpu=bool(trainer.args.use_cpu),
        )  # fmt: skip
        record("relearn", relearned, forget.select(scored_rows))
    out["attacks_time_s"] = time.perf_counter() - start
    return out
