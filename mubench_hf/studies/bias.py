"""``mubench study bias``: forget sets skewed toward one class against a uniform forget set of the same size.

Definition. With deletion ratio ``p`` the forget set has the ``k`` rows MU-Bench's ratio rule gives
(for ``p ≤ 10``: ``⌊p/10 · m⌋`` with ``m`` = 10 % of the ``n`` train rows), the first ``k`` of a deletion
order. The *uniform* forget set draws the ``k`` rows uniformly at random (its share of class ``c`` is then about the class's share of the data);
a forget set *skewed toward class c at share s* draws ``round(s·k)`` rows from class ``c`` and the rest
uniformly from the other classes. Everything else (the base recipe, the methods, the seed) is the same,
and each variant gets its own retrain model (trained without its own forget set), so the gap to retrain
is measured against the right reference. MU-Bench (Cheng and Amiri, 2024) lists "susceptibility to
dataset biases" among the under-investigated aspects it analyses; this study measures it as the
concentration of the forget set on one class, the numbers saying what it does on the chosen task.

Each variant's deletion order is written with ``build_splits(order=...)`` into its own folder; the
splits, reference models and cells are made and reused exactly as a sweep's are.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MubenchError
from ..sweeps.files import read_json_or_none, value_checksum, write_json_atomic
from ..sweeps.references import check_reference, references_of, splits_dir
from ..sweeps.runner import cells_of, finish_cell, make_one_reference
from .common import StudyOptions, StudyResult, line_figure, table_row, write_table

SHARES = (0.25, 0.5, 1.0)
ORDER_RECORD = "order.json"


def forget_order(labels: np.ndarray, k: int, share: float | None, target: int, seed: int) -> np.ndarray:
    """A deletion order (a permutation of the train rows) whose first ``k`` rows are the forget set:
    ``round(share·k)`` from class ``target`` and the rest from the others, or uniform when ``share`` is None."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    if share is None:
        return rng.permutation(n)
    in_class = np.flatnonzero(labels == target)
    others = np.flatnonzero(labels != target)
    wanted = round(share * k)
    if wanted > len(in_class) or k - wanted > len(others):
        raise MubenchError(
            f"a forget set of {k} rows with {share:.0%} from class {target} needs {wanted} rows of that class; "
            f"the train split has {len(in_class)}: use a smaller --ratio or share"
        )
    chosen = np.concatenate(
        [rng.choice(in_class, wanted, replace=False), rng.choice(others, k - wanted, replace=False)]
    )
    chosen = rng.permutation(chosen)
    rest = rng.permutation(np.setdiff1d(np.arange(n), chosen))
    return np.concatenate([chosen, rest])


def check_shares(shares: tuple[float, ...], natural: float, target: int, k: int) -> None:
    """Refuse shares that do not skew the forget set toward ``target``: a share below the class's share of
    the data leans away from it (``--shares 1.5`` is 1.5 %, not 1.5x or 150 %), and one that rounds to no
    row of a ``k``-row forget set has none of the class at all."""
    low = [s for s in shares if s < natural or round(s * k) < 1]
    if low:
        raise MubenchError(
            f"--shares {', '.join(f'{s * 100:g}' for s in low)} (percent of the forget set) lie below class "
            f"{target}'s share of the train split ({natural:.1%}, what the uniform forget set already has), so "
            f"they would not skew the {k}-row forget set toward it; give percentages from "
            f"{max(natural, 1 / k) * 100:.1f} to 100, e.g. 25,50,100"
        )


def _ensure_splits(grid: Any, order: np.ndarray) -> str:
    """The variant's splits, built from ``order`` unless the folder already holds exactly them."""
    from ..splits import build_splits
    from ..sweeps.summary import task_hashes

    record_path = Path(grid.output) / ORDER_RECORD
    digest = value_checksum([int(i) for i in order])
    stored = read_json_or_none(record_path)
    hashes = task_hashes(Path(grid.output))
    if (
        isinstance(stored, dict)
        and stored.get("order") == digest
        and stored.get("content_hash") == hashes.get(grid.task)
    ):
        return stored["content_hash"]
    result = build_splits(
        grid.task,
        splits_dir(grid),
        ratios=grid.ratios,
        order=[int(i) for i in order],
        overwrite=True,
        show_progress=False,
    )
    write_json_atomic(record_path, {"order": digest, "content_hash": result.content_hash})
    return result.content_hash


def _run_variant(options: StudyOptions, grid: Any, order: np.ndarray) -> list[dict[str, Any]]:
    """Splits, reference models and cells of one variant, resumably (the sweep's own pieces)."""
    import datasets
    import transformers

    datasets.disable_progress_bars()  # as run_grid does: the study's own lines say what is going on
    transformers.utils.logging.disable_progress_bar()
    splits_hash = _ensure_splits(grid, order)
    digests = {}
    for reference in references_of(grid, splits_hash):
        digest, _ = check_reference(reference)
        digests[reference.folder] = digest or make_one_reference(reference)
    return [finish_cell(cell)[0] for cell in cells_of(grid, splits_hash, digests)]


def run(options: StudyOptions, shares: tuple[float, ...] = SHARES, target: int = 0) -> StudyResult:
    from ..splits.ratios import forget_count
    from ..tasks import get_task

    task = get_task(options.task)
    labels = np.asarray(task.load()["train"][task.label_column])
    if target not in set(labels.tolist()):
        raise MubenchError(
            f"class {target} does not occur in {task.name}'s train split; give one of {sorted(set(labels.tolist()))}"
        )
    k = forget_count(Fraction(str(options.ratio)), task.deletion_order_size(len(labels)), len(labels))
    if k < 1:
        raise MubenchError(f"--ratio {options.ratio:g} % of {len(labels)} rows is an empty forget set")
    natural = float(np.mean(labels == target))
    check_shares(shares, natural, target, k)
    folder = options.folder("bias")
    rows = []
    variants: list[tuple[str, float | None]] = [
        ("uniform", None),
        *((f"class{target}_{s:g}", s) for s in shares),
    ]
    for name, share in variants:
        grid = options.grid(folder / name)
        order = forget_order(labels, k, share, target, options.seed)
        actual = float(np.mean(labels[order[:k]] == target))
        options.log(f"bias: {name} forget set ({k} rows, {actual:.0%} class {target})")
        records = _run_variant(options, grid, order)
        for record in records:
            info = {"variant": name, "class_share": actual, "method": record["method"], "forget_rows": k}
            rows.append(table_row(info, record))
    findings = _findings(rows, natural, target)
    csv_path, md_path = write_table(
        rows, folder, f"Bias study on {task.name}: forget sets skewed toward class {target}", findings
    )
    shown = [r for r in rows if r["method"] != "retrain"]
    figure = line_figure(
        shown, x="class_share", series="method", panels=("forget_accuracy", "test_accuracy", "gap_to_retrain"),
        path=folder / "bias.png", title=f"Forget sets skewed toward class {target}", x_label=f"share of class {target} in the forget set",
    )  # fmt: skip
    (folder / "definition.json").write_text(
        json.dumps(
            {"target_class": target, "forget_rows": k, "natural_share": natural, "shares": list(shares)},
            indent=2,
        )
        + "\n"
    )
    return StudyResult(rows, csv_path, md_path, figure, findings)


def _findings(rows: list[dict[str, Any]], natural: float, target: int) -> list[str]:
    lines = [f"class {target} is {natural:.1%} of the train split (the uniform forget set's expected share)."]
    for method in dict.fromkeys(r["method"] for r in rows if r["method"] != "retrain"):
        mine = sorted(
            (r for r in rows if r["method"] == method and r.get("gap_to_retrain") is not None),
            key=lambda r: r["class_share"],
        )
        if len(mine) < 2:
            continue
        lines.append(
            f"{method}: gap to retrain {mine[0]['gap_to_retrain']:.4f} at {mine[0]['class_share']:.0%} class {target} "
            f"-> {mine[-1]['gap_to_retrain']:.4f} at {mine[-1]['class_share']:.0%}; forget accuracy "
            f"{mine[0]['forget_accuracy']:.4f} -> {mine[-1]['forget_accuracy']:.4f}."
        )
    return lines
