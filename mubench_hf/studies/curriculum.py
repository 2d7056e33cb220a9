"""``mubench study curriculum``: curriculum unlearning with SuperLoss-weighted per-sample losses against
the plain method (MU-Bench's curriculum analysis; see :mod:`.superloss` for the weighting and its λ).

The plain rows are the sweep cells; each curriculum row is the same cell with the method's task
objective replaced by its SuperLoss-weighted copy, so every loss term the method builds from per-sample
losses (the forget term, the retain term) is weighted, as in MU-Bench.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from .common import (
    StudyOptions,
    StudyResult,
    base_cell,
    cell_record,
    run_variant,
    table_row,
    train_and_score,
    variant_cell,
    write_table,
)
from .superloss import MUBENCH_LAMBDA, with_superloss


def run(options: StudyOptions, lam: float = MUBENCH_LAMBDA) -> StudyResult:
    folder = options.folder("curriculum")
    grid = options.grid(folder / "sweep")
    options.sweep(grid)
    rows = []
    for method in options.methods:
        rows.append(
            table_row({"method": method, "curriculum": "none", "lambda": None}, cell_record(grid, method))
        )
        cell = variant_cell(base_cell(grid, method), folder / "superloss" / method, {"superloss_lambda": lam})
        options.log(f"curriculum: {method} with SuperLoss (λ = {lam:g})")
        record = run_variant(cell, partial(train_and_score, objective=partial(with_superloss, lam=lam)))
        rows.append(table_row({"method": method, "curriculum": "superloss", "lambda": lam}, record))
    findings = _findings(rows)
    csv_path, md_path = write_table(
        rows, folder, f"Curriculum (SuperLoss) study on {grid.configs[0]} (seed {grid.seeds[0]})", findings
    )
    figure = _figure(rows, folder / "curriculum.png")
    return StudyResult(rows, csv_path, md_path, figure, findings)


def _findings(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for method in dict.fromkeys(r["method"] for r in rows):
        plain, curriculum = (next((r for r in rows if r["method"] == method and r["curriculum"] == c), {})
                             for c in ("none", "superloss"))  # fmt: skip
        if plain.get("gap_to_retrain") is None or curriculum.get("gap_to_retrain") is None:
            continue
        change = curriculum["gap_to_retrain"] - plain["gap_to_retrain"]
        lines.append(
            f"{method}: SuperLoss {'narrows' if change < 0 else 'widens'} the gap to retrain by {abs(change):.4f} "
            f"({plain['gap_to_retrain']:.4f} -> {curriculum['gap_to_retrain']:.4f}); forget accuracy "
            f"{plain['forget_accuracy']:.4f} -> {curriculum['forget_accuracy']:.4f}."
        )
    return lines


def _figure(rows: list[dict[str, Any]], path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    methods = list(dict.fromkeys(r["method"] for r in rows))
    panels = ("forget_accuracy", "test_accuracy", "gap_to_retrain")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    x = np.arange(len(methods))
    for ax, metric in zip(axes[0], panels):
        for offset, kind in ((-0.2, "none"), (0.2, "superloss")):
            values = [next((r.get(metric) for r in rows if r["method"] == m and r["curriculum"] == kind), None)
                      for m in methods]  # fmt: skip
            ax.bar(x + offset, [np.nan if v is None else v for v in values], width=0.4,
                   label="plain" if kind == "none" else "SuperLoss")  # fmt: skip
        ax.set_xticks(x, methods, rotation=20)
        ax.set_title(metric.replace("_", " "))
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Curriculum unlearning (SuperLoss) vs plain")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
