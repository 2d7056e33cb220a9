"""The declarations of the attack keys (opt-in: ``--attacks quant8,quant4,relearn,paraphrase``): the forget
metric after each attack on the forgetting and the share of the removed knowledge it brings back. The report
computes them in ``mubench_hf.evaluation.attacks``; the attack and metric names below are that package's and
the kinds' ``attack_metrics`` / ``probe_metrics`` (a test checks they agree).

``<metric>_after_<attack>``: the forget metric of the attacked model (weights rounded to 8 / 4 bits: all of Df;
relearned on a seeded part of Df: the rest of Df) or of the unlearned model on Df asked in other words
(``paraphrase``, generation tasks only); on a MUSE-shaped task VerbMem and KnowMem on the probes of the scored
forget documents (relearning splits Df by document). ``<metric>_recovery_<attack>``: ``(after − unlearned) /
(original − unlearned)``, 0 = nothing came back, 1 = everything unlearning removed came back; for the paraphrase
attack against the original model on the same probes (``original_<metric>_after_paraphrase``).
"""

from __future__ import annotations

from .declarations import MetricSpec, declare

QUANT = (
    "Zhang et al., ICLR 2025 (arXiv:2410.16454): weights rounded to nearest, per output channel, symmetric"
)
RELEARN = "Hu et al., ICLR 2025 (arXiv:2406.13356): fixed optimizer steps on part of Df, scored on the rest"
PARAPHRASE = (
    "TOFU (Maini et al. 2024) scores Df on paraphrased questions (open-unlearning configs/eval/tofu.yaml, "
    "question_key: paraphrased_question); MUSE (Shi et al. 2024) asks forget documents as KnowMem questions. "
    "Probes: the task's paraphrased prompt, else a seeded template rewording"
)
#: attack -> (how its label reads, its reference, the short column tag)
ATTACKS = {
    "quant8": ("after 8-bit rounding", QUANT, "8-bit"),
    "quant4": ("after 4-bit rounding", QUANT, "4-bit"),
    "relearn": ("after relearning on part of Df", RELEARN, "relearned"),
    "paraphrase": ("on Df asked in other words", PARAPHRASE, "paraphrased"),
}
#: kind -> (metric, its label, its leaderboard title or None); the first is each kind's headline. A generation
#: task reports forget ROUGE-L (TOFU-shaped) or VerbMem and KnowMem on its forget documents (MUSE-shaped)
METRICS = {
    "classification": (("forget_accuracy", "Forget accuracy", "forget acc."),),
    "generation": (
        ("forget_rouge_l", "Forget ROUGE-L recall", "forget ROUGE-L"),
        ("verbmem_forget", "VerbMem on the forget documents", "VerbMem"),
        ("knowmem_forget", "KnowMem on the forget documents", None),
        ("forget_answer_prob", "Forget answer probability", None),
        ("extraction_strength", "Extraction strength", None),
    ),
}
#: kind -> the attacks it is scored under (the paraphrase attack re-asks prompts: generation tasks only)
KIND_ATTACKS = {
    "classification": ("quant8", "quant4", "relearn"),
    "generation": ("quant8", "quant4", "relearn", "paraphrase"),
}


def _declare(name: str, kind: str, split: str | None, label: str, reference: str, column: str | None) -> None:
    declare(MetricSpec(name=name, kind=kind, split=split, label=label, higher_is_better=None,
                       reference=reference, column=column))  # fmt: skip


#: how the recovery share is computed: the weight attacks against the report's values, the paraphrase attack
#: against the original model on the same probes (mubench_hf.evaluation.attacks.run)
SHARE = "(after − unlearned) / (original − unlearned)"
PARAPHRASE_SHARE = (
    "1 − [(original on the probes − after) / original on the probes] / [(original − unlearned) / original]: "
    "the part of the original model's level that unlearning removed on the reworded probes, against the part "
    "it removed on the trained wording"
)

for _kind, _attacks in KIND_ATTACKS.items():
    for _attack in _attacks:
        _how, _reference, _tag = ATTACKS[_attack]
        _share = PARAPHRASE_SHARE if _attack == "paraphrase" else SHARE
        for _metric, _label, _title in METRICS[_kind]:
            _declare(f"{_metric}_after_{_attack}", _kind, "forget", f"{_label} {_how}", _reference,
                     f"{_title} {_tag}" if _title else None)  # fmt: skip
            _declare(f"{_metric}_recovery_{_attack}", _kind, None,
                     f"Share of the removed {_label.lower()} recovered {_how}",
                     f"{_reference}; {_share}", None)  # fmt: skip
            if _attack == "paraphrase":  # the original model on the same probes: the share's reference
                _declare(f"original_{_metric}_after_paraphrase", _kind, "forget",
                         f"{_label} of the original model {_how}", _reference, None)  # fmt: skip
    _declare("attacks_time_s", _kind, None, "Wall time of the attacks on the forgetting (s)",
             "a diagnostic of this package: attacking and scoring, beside unlearn_time_s", None)  # fmt: skip
