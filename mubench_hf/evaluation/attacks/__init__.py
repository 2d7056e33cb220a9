"""Attacks on the forgetting (is it robust, or only hidden?): the forget metric after weights are rounded to 8
and 4 bits (:mod:`.quantize`), after a few relearning steps on part of Df (:mod:`.relearn`) and on Df asked
again in other words (``paraphrase``: TOFU's paraphrased questions, seeded template rewordings, MUSE's KnowMem
questions reworded; :mod:`mubench_hf.kinds.generation.probes`), with the share of the removed knowledge each
brings back (:mod:`.run`). Opt-in (:mod:`.settings`). The weight attacks reach both task kinds through
``TaskKind.forget_scores``; the paraphrase attack reaches generation tasks through ``TaskKind.probe_scores``
(a classifier is asked nothing to reword: the reason is in that method's docstring)."""

from .quantize import round_to_nearest, round_weights_, rounded_copy
from .relearn import relearn_parts, relearned_copy
from .run import attack_metrics, recovery_share
from .settings import (
    ATTACKS,
    PROBE_ATTACKS,
    WEIGHT_ATTACKS,
    AttackSettings,
    as_attack_settings,
    parse_attacks,
)

__all__ = [
    "ATTACKS",
    "PROBE_ATTACKS",
    "WEIGHT_ATTACKS",
    "AttackSettings",
    "as_attack_settings",
    "attack_metrics",
    "parse_attacks",
    "recovery_share",
    "relearn_parts",
    "relearned_copy",
    "round_to_nearest",
    "round_weights_",
    "rounded_copy",
]
