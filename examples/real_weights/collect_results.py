"""The Markdown table of a real-weights run (``minilm_movie_snippets.sh``, ``smollm2_authors.sh``).

Reads ``OUT/base/train_results.json``, each method's ``unlearning_results.json`` (with the retrain model's
metrics, ``retrain_*``, for a classification run) and
``OUT/times.tsv`` (step, wall s, user s, system s, as ``/usr/bin/time`` wrote them); a classification run gets
forget / retain / test accuracy, gap to retrain and MIA efficacy, a generation run forget and retain
ROUGE-L (the retrain model's from ``OUT/retrain-evaluation``) and forget quality:

    python examples/real_weights/collect_results.py OUT --methods grad_ascent,npo
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

CLASSIFICATION = ("forget_accuracy", "retain_accuracy", "test_accuracy", "gap_to_retrain", "mia_efficacy")
GENERATION = ("forget_rouge_l", "retain_rouge_l", "forget_quality", "model_utility")


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _times(out: Path) -> dict[str, tuple[float, float]]:
    """step -> (wall s, CPU s = user + system)."""
    times = {}
    for line in (out / "times.tsv").read_text().splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            times[parts[0]] = (float(parts[1]), float(parts[2]) + float(parts[3]))
    return times


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "–"


def table(out: Path, methods: list[str]) -> str:
    """The run's table: one row each for the base model, the retrain model and every method."""
    reports = {m: _read(out / m / "unlearning_results.json") for m in methods}
    generation = any("forget_rouge_l" in r for r in reports.values())
    keys = GENERATION if generation else CLASSIFICATION
    times = _times(out)
    first = next((r for r in reports.values() if r), {})
    if generation:
        base = {k: first.get(f"original_{k}") for k in keys}
        retrain = _read(out / "retrain-evaluation" / "unlearning_results.json")
    else:  # the base's accuracies from its training run; the retrain model's metrics as the reports scored it
        base = _read(out / "base" / "train_results.json")
        retrain = {k: first.get(f"retrain_{k}") for k in keys}
    rows = [("base (before)", base, "base"), ("retrain", {**retrain, "gap_to_retrain": 0.0}, "retrain")]
    rows += [(m, reports[m], m) for m in methods]
    header = "| model | " + " | ".join(keys) + " | wall s | CPU s |"
    lines = [header, "|" + "---|" * (len(keys) + 3)]
    for name, values, step in rows:
        wall, cpu = times.get(step, (None, None))
        seconds = [f"{t:.0f}" if t is not None else "–" for t in (wall, cpu)]
        cells = [_cell(values.get(k)) for k in keys] + seconds
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    total = sum(cpu for _, cpu in times.values())
    lines.append(f"\nCPU time of every step together: {total:.0f} s ({total / 60:.1f} min)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the run's folder")
    parser.add_argument("--methods", required=True, help="comma-separated methods, in table order")
    args = parser.parse_args()
    print(table(Path(args.out), [m for m in args.methods.split(",") if m]))


if __name__ == "__main__":
    main()
