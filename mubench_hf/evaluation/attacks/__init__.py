"""Attacks on the forgetting (is it robust, or only hidden?): the forget metric after weights are rounded to 8
and 4 bits (:mod:`.quantize`) and after a few relearning steps on part of Df (:mod:`.relearn`), with the share
of the removed knowledge each brings back (:mod:`.run`). Opt-in (:mod:`.settings`); both task kinds are
reached through ``TaskKind.forget_scores``."""

from .quantize import round_to_nearest, round_weights_, rounded_copy
from .relearn import relearn_parts, relearned_copy
from .run import attack_metrics, recovery_share
from .settings import ATTACKS, AttackSettings, as_attack_settings, parse_attacks

__all__ = [
    "ATTACKS",
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
