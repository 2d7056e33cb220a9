"""Which attacks on the forgetting a report runs, and how (``AttackSettings``); opt-in, off by default.

``attacks`` names any of ``quant8``, ``quant4`` (weights rounded to 8 / 4 bits), ``relearn`` (a few
optimizer steps on a seeded part of Df) and ``paraphrase`` (the forget set asked again in other words:
generation tasks only, see ``mubench_hf.kinds.generation.probes``); the relearning's step count, share of Df,
learning rate and batch size, and where the paraphrase attack's probes come from, are settings too. They reach the report from ``mubench evaluate --attacks ...`` and from an
``UnlearnConfig`` (``mubench unlearn --attacks ...``, a grid's ``unlearn_args``), like the generation settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from ...errors import MubenchError
from ...kinds.generation.probes import PROBE_SOURCES

#: the attacks, in report order; ``quant<b>`` rounds weights to b bits
ATTACKS = ("quant8", "quant4", "relearn", "paraphrase")
#: the attacks that change the model's weights (every kind with attack metrics); the others re-ask Df
WEIGHT_ATTACKS = ("quant8", "quant4", "relearn")
#: the attacks that ask the unchanged model rephrased probes (kinds with ``probe_metrics``)
PROBE_ATTACKS = ("paraphrase",)
QUANT_BITS = {"quant8": 8, "quant4": 4}
#: UnlearnConfig field -> AttackSettings field (how the settings travel in a trainer's arguments)
ARG_FIELDS = {
    "attacks": "attacks",
    "relearn_attack_steps": "relearn_steps",
    "relearn_attack_share": "relearn_share",
    "relearn_attack_lr": "relearn_learning_rate",
    "relearn_attack_batch_size": "relearn_batch_size",
    "paraphrase_attack_source": "paraphrase_source",
}


def parse_attacks(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"quant8,quant4"`` or a list of names -> a tuple in report order; an unknown name lists the known."""
    if value is None:
        return ()
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [str(n).strip() for n in names if str(n).strip()]
    unknown = sorted(set(names) - set(ATTACKS))
    if unknown:
        raise MubenchError(f"unknown attack(s) {unknown}; known attacks: {list(ATTACKS)} (comma-separated)")
    return tuple(a for a in ATTACKS if a in names)


@dataclass(frozen=True)
class AttackSettings:
    """The attacks to run (``attacks``) and the relearning attack's settings (module docstring).

    ``relearn_steps`` optimizer steps (AdamW, constant ``relearn_learning_rate``, batch ``relearn_batch_size``)
    on a seeded ``relearn_share`` of the forget rows; the forget metric is then measured on the others.
    Defaults: 10 steps on half of Df at 1e-4, batches of 8.

    ``paraphrase_source``: ``"auto"`` (a row's own paraphrased prompt where the task has one, TOFU's
    paraphrased questions, else a seeded template rewording) or ``"templates"`` (always the templates).
    """

    attacks: tuple[str, ...] = ()
    relearn_steps: int = 10
    relearn_share: float = 0.5
    relearn_learning_rate: float = 1e-4
    relearn_batch_size: int = 8
    paraphrase_source: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "attacks", parse_attacks(self.attacks))
        for name in ("relearn_steps", "relearn_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MubenchError(f"{name} must be a whole number >= 1, got {value!r}")
        if not 0.0 < float(self.relearn_share) < 1.0:
            raise MubenchError(
                f"relearn_share must lie in (0, 1): the part of Df relearned on; the rest is scored, got "
                f"{self.relearn_share!r}"
            )
        if not float(self.relearn_learning_rate) > 0:
            raise MubenchError(f"relearn_learning_rate must be > 0, got {self.relearn_learning_rate!r}")
        if self.paraphrase_source not in PROBE_SOURCES:
            raise MubenchError(
                f"paraphrase_source must be one of {list(PROBE_SOURCES)}, got {self.paraphrase_source!r}"
            )

    @property
    def quant_bits(self) -> dict[str, int]:
        """The rounding attacks asked for: name -> bits."""
        return {a: QUANT_BITS[a] for a in self.attacks if a in QUANT_BITS}

    @classmethod
    def from_args(cls, args: Any) -> AttackSettings:
        """What an ``UnlearnConfig`` (or a dict of its fields) asks for; arguments without them: none."""

        def get(name: str) -> Any:
            return args.get(name) if isinstance(args, Mapping) else getattr(args, name, None)

        given = {field: get(arg) for arg, field in ARG_FIELDS.items()}
        return cls(**{k: v for k, v in given.items() if v is not None})


def as_attack_settings(value: Any, trainer_args: Any = None) -> AttackSettings | None:
    """``None``: what ``trainer_args`` ask for (none for plain arguments); a string or list of names, a
    mapping of fields, or an ``AttackSettings``. ``None`` when no attack is asked for."""
    if value is None:
        settings = AttackSettings.from_args(trainer_args) if trainer_args is not None else AttackSettings()
    elif isinstance(value, AttackSettings):
        settings = value
    elif isinstance(value, Mapping):
        unknown = sorted(set(value) - set(asdict(AttackSettings())))
        if unknown:
            raise MubenchError(
                f"unknown attack setting(s) {unknown}; known: {sorted(asdict(AttackSettings()))}"
            )
        settings = AttackSettings(**value)
    elif isinstance(value, (str, list, tuple)):
        settings = replace(AttackSettings(), attacks=parse_attacks(value))
    else:
        raise MubenchError(
            f"attacks must be names ('quant8,quant4,relearn,paraphrase'), a mapping or AttackSettings, got "
            f"{value!r}"
        )
    return settings if settings.attacks else None
