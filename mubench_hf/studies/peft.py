"""``mubench study peft``: unlearning through LoRA adapters with 10, 20 and 50 % of the parameters
trainable, against full fine-tuning, per method (MU-Bench's PEFT analysis).

For each share the LoRA rank is the smallest that reaches it on the backbone (the head, outside the
backbone, is trained in full and counts towards the share; see :func:`mubench_hf.lora.rank_for_share`);
the table reports the share actually measured on the wrapped model. As in MU-Bench's LoRA configs,
``lora_alpha = r`` (MU-Bench picks the rank per backbone by hand; here it is computed). The full
fine-tuning rows are the plain sweep cells.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from .common import (
    StudyOptions,
    StudyResult,
    base_cell,
    cell_record,
    line_figure,
    run_variant,
    table_row,
    train_and_score,
    variant_cell,
    write_table,
)

SHARES = (0.1, 0.2, 0.5)


def measured_share(model: Any, rank: int) -> float:
    """Trainable parameters of ``model`` wrapped with LoRA of ``rank`` ÷ its parameters before wrapping."""
    import copy

    from ..lora import apply_lora

    _, plan = apply_lora(copy.deepcopy(model), r=rank, alpha=rank)
    return plan.trainable_share


def run(options: StudyOptions, shares: tuple[float, ...] = SHARES) -> StudyResult:
    from ..kinds.classification import build_model
    from ..lora import rank_for_share
    from ..tasks import get_task

    folder = options.folder("peft")
    grid = options.grid(folder / "sweep")
    options.sweep(grid)
    base = build_model(get_task(grid.task), str(base_cell(grid, "retrain").base_dir))
    rows = []
    for method in options.methods:
        rows.append(table_row({"method": method, "tuning": "full", "target_share": 1.0, "lora_rank": None,
                               "trainable_share": 1.0}, cell_record(grid, method)))  # fmt: skip
        for share in shares:
            rank = rank_for_share(base, share)
            cell = variant_cell(base_cell(grid, method), folder / f"lora{int(share * 100)}" / method,
                                {"lora_rank": rank, "lora_alpha": rank})  # fmt: skip
            options.log(f"peft: {method} with LoRA rank {rank} (target {share:.0%} trainable)")
            record = run_variant(cell, partial(train_and_score, lora_rank=rank))
            rows.append(table_row({"method": method, "tuning": f"lora {share:.0%}", "target_share": share,
                                   "lora_rank": rank, "trainable_share": measured_share(base, rank)}, record))  # fmt: skip
    findings = _findings(rows)
    csv_path, md_path = write_table(
        rows, folder, f"PEFT study on {grid.configs[0]} (seed {grid.seeds[0]}, {grid.model})", findings
    )
    figure = line_figure(
        rows, x="trainable_share", series="method", panels=("forget_accuracy", "test_accuracy", "gap_to_retrain"),
        path=folder / "peft.png", title="LoRA share vs full fine-tuning", x_label="trainable share",
    )  # fmt: skip
    return StudyResult(rows, csv_path, md_path, figure, findings)


def _findings(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method and r.get("gap_to_retrain") is not None]
        if not mine:
            continue
        best = min(mine, key=lambda r: r["gap_to_retrain"])
        shares = ", ".join(f"{r['tuning']}: {r['trainable_share']:.1%}" for r in mine if r["lora_rank"])
        lines.append(
            f"{method}: closest to retrain with {best['tuning']} (gap {best['gap_to_retrain']:.4f}); "
            f"measured trainable shares {shares}."
        )
    return lines
