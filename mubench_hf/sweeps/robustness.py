"""The leaderboard's "Robustness of the forgetting" tables of one deletion config: for each method, its kind's
headline forget metrics (forget accuracy; forget ROUGE-L, or on a MUSE-shaped task VerbMem and KnowMem on the
forget documents) before and after unlearning, then after each attack that was run (weights rounded to 8 and 4
bits, relearned on part of Df, Df asked in other words) with the share of the removed knowledge it brought back
(:mod:`mubench_hf.evaluation.attacks`). Only configs whose cells ran attacks (``--attacks`` in
``unlearn_args``) get them."""

from __future__ import annotations

from typing import Any

from ..evaluation.attacks.settings import ATTACKS
from ..kinds import get_kind

TITLES = {"quant8": "8-bit", "quant4": "4-bit", "relearn": "relearned", "paraphrase": "paraphrased"}


def _mean(row: dict[str, Any], key: str) -> str:
    value = row.get(f"{key}_mean")
    return "–" if value is None else f"{value:.3f}"


def _table(rows: list[dict[str, Any]], metric: str) -> str | None:
    attacks = [a for a in ATTACKS if any(r.get(f"{metric}_after_{a}_mean") is not None for r in rows)]
    if not attacks:
        return None
    header = ["method", f"{metric} before", metric]
    for attack in attacks:
        header += [f"{TITLES[attack]}", f"recovered ({TITLES[attack]})"]
    lines = [
        f"Robustness of the forgetting: `{metric}` of the attacked model, and the share of what unlearning "
        "removed that the attack brings back, (after − unlearned) / (before − unlearned): 0 = nothing, "
        "1 = all. 8-/4-bit: weights rounded to nearest, scored on Df; relearned: a few optimizer steps on part "
        "of Df, scored on the rest (by document on a MUSE-shaped task); paraphrased: the unlearned model on "
        "Df's prompts reworded (the task's paraphrased questions, else seeded templates).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in rows:
        cells = [str(row["method"]), _mean(row, f"original_{metric}"), _mean(row, metric)]
        for attack in attacks:
            cells += [_mean(row, f"{metric}_after_{attack}"), _mean(row, f"{metric}_recovery_{attack}")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def robustness_table(rows: list[dict[str, Any]], kind: str) -> str | None:
    """The Markdown tables of one config's aggregated rows (means over seeds) in their ranked order, one per
    metric of the kind's ``robustness_metrics`` that some row holds an attack's value of (a TOFU-shaped
    task: forget ROUGE-L; a MUSE-shaped one: VerbMem and KnowMem on the forget documents), or ``None`` when
    no row holds any."""
    spec = get_kind(kind)
    metrics = spec.robustness_metrics or spec.attack_metrics[:1]
    tables = [table for metric in metrics if (table := _table(rows, metric)) is not None]
    return "\n\n".join(tables) if tables else None
