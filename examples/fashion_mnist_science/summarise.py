"""The README's tables of the Fashion-MNIST science run, and the paper's claims checked against them.

    python examples/fashion_mnist_science/summarise.py runs/fashion_mnist_science/lr-search/sweep

Reads the sweep's results.csv (mean, std and the 95 % t-interval over seeds of every metric, and whether a
method can be told apart from retrain) and prints Markdown: per deletion config, each method's gap to
retrain, forget and test accuracy and MIA efficacy as ``mean [low, high]``; then each method's mean rank
by gap to retrain over the random configs and on the class-wise one, and the two claims of MU-Bench
(RandLabel and SalUn most effective; BadT and SCRUB reach chance on Df) with what the numbers say.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

from mubench_hf.splits.layout import is_class_config

RETRAIN = "retrain"
NUM_LABELS = 10  # Fashion-MNIST
# MU-Bench's score zeroes forget accuracies below chance by more than 20 % of chance: the same tolerance
# is used here to say a method "reaches chance" (forget accuracy at most 1.2 / K).
CHANCE_TOLERANCE = 0.2
SHOWN = ("gap_to_retrain", "forget_accuracy", "test_accuracy", "mia_efficacy")
HEADERS = {
    "gap_to_retrain": "gap to retrain ↓",
    "forget_accuracy": "forget acc",
    "test_accuracy": "test acc",
    "mia_efficacy": "MIA efficacy",
}


def read_rows(sweep: Path) -> list[dict[str, str]]:
    with (sweep / "results.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(row: dict[str, str], name: str) -> float | None:
    value = row.get(name, "")
    return float(value) if value not in ("", None) else None


def interval(row: dict[str, str], metric: str) -> str:
    mean = number(row, f"{metric}_mean")
    if mean is None:
        return "–"
    low, high = number(row, f"{metric}_seeds_ci_low"), number(row, f"{metric}_seeds_ci_high")
    return f"{mean:.3f}" if low is None or high is None else f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def config_order(config: str) -> tuple[bool, float]:
    """del1, del5, del10 then the class-wise configs."""
    suffix = config.rsplit("_", 1)[-1]
    return is_class_config(config), float(suffix.removeprefix("del").removeprefix("class"))


def config_tables(rows: list[dict[str, str]]) -> list[str]:
    lines: list[str] = []
    configs = sorted({r["config"] for r in rows}, key=config_order)
    for config in configs:
        in_config = [r for r in rows if r["config"] == config]
        ranked = sorted(
            (r for r in in_config if r["method"] != RETRAIN),
            key=lambda r: (
                number(r, "gap_to_retrain_mean") if number(r, "gap_to_retrain_mean") is not None else 9
            ),
        )
        reference = [r for r in in_config if r["method"] == RETRAIN]
        lines += [
            f"**{config}** (seeds: {max(int(r['n_seeds']) for r in in_config)}; "
            "mean [95 % t-interval over seeds])",
            "",
            "| method | " + " | ".join(HEADERS[m] for m in SHOWN) + " | ≈ retrain |",
            "|---|" + "---:|" * len(SHOWN) + "---|",
        ]
        for row in [*reference, *ranked]:
            same = {"True": "yes", "False": "no"}.get(row.get("same_as_retrain", ""), "–")
            cells = " | ".join(interval(row, m) for m in SHOWN)
            lines.append(f"| {row['method']} | {cells} | {same if row['method'] != RETRAIN else 'ref'} |")
        lines.append("")
    return lines


def ranks(rows: list[dict[str, str]], configs: list[str]) -> dict[str, float]:
    """Each method's mean rank by gap to retrain over ``configs`` (1 = closest to retrain)."""
    placed: dict[str, list[int]] = defaultdict(list)
    for config in configs:
        scored = [r for r in rows if r["config"] == config and r["method"] != RETRAIN]
        scored = [r for r in scored if number(r, "gap_to_retrain_mean") is not None]
        for place, row in enumerate(sorted(scored, key=lambda r: number(r, "gap_to_retrain_mean")), 1):
            placed[row["method"]].append(place)
    return {method: sum(p) / len(p) for method, p in placed.items()}


def claims(rows: list[dict[str, str]]) -> list[str]:
    configs = sorted({r["config"] for r in rows}, key=config_order)
    kinds = {
        "random deletion": [c for c in configs if not is_class_config(c)],
        "class-wise deletion": [c for c in configs if is_class_config(c)],
    }
    lines = ["| method | " + " | ".join(f"mean rank, {k}" for k in kinds if kinds[k]) + " |"]
    lines.append("|---|" + "---:|" * sum(1 for k in kinds if kinds[k]))
    mean_ranks = {kind: ranks(rows, cs) for kind, cs in kinds.items() if cs}
    methods = sorted(
        {m for r in mean_ranks.values() for m in r},
        key=lambda m: (sum(r.get(m, 99) for r in mean_ranks.values()), m),
    )
    for method in methods:
        lines.append(
            f"| {method} | "
            + " | ".join(f"{r[method]:.1f}" if method in r else "–" for r in mean_ranks.values())
            + " |"
        )
    lines.append("")
    for kind, by_method in mean_ranks.items():
        order = sorted(by_method, key=by_method.get)
        top = ", ".join(f"{m} ({by_method[m]:.1f})" for m in order[:3])
        places = {m: order.index(m) + 1 for m in ("random_label", "salun") if m in by_method}
        verdict = "holds" if places and max(places.values()) <= 2 else "does not hold"
        lines.append(
            f"- *RandLabel and SalUn most effective* ({kind}): closest to retrain on mean rank: {top}; "
            + ", ".join(f"{m} ranks {p} of {len(order)}" for m, p in places.items())
            + f" — {verdict}."
        )
    ceiling = (1 + CHANCE_TOLERANCE) / NUM_LABELS
    for kind, kind_configs in kinds.items():
        for method in ("bad_teaching", "scrub"):
            found = [r for r in rows if r["method"] == method and r["config"] in kind_configs]
            if not found:
                continue
            values = ", ".join(f"{r['config']} {interval(r, 'forget_accuracy')}" for r in found)
            reached = all((number(r, "forget_accuracy_mean") or 1.0) <= ceiling for r in found)
            lines.append(
                f"- *{method} reaches chance on Df* ({kind}; chance {1 / NUM_LABELS:.2f}, within 20 %: "
                f"≤ {ceiling:.2f}): forget accuracy {values} — {'holds' if reached else 'does not hold'}."
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sweep", type=Path, help="the grid's sweep folder (holds results.csv)")
    rows = read_rows(parser.parse_args().sweep)
    print("\n".join([*config_tables(rows), *claims(rows)]))


if __name__ == "__main__":
    main()
