"""``mubench study lr-search``: each method's learning rate chosen on validation only, never on test.

For every method the plain sweep cell (the method's learning rate as the grid gives it: its quick
setting or its config default, factor 1) and one variant cell per other factor (the learning rate ×
factor, default ×0.3 and ×3) run on one config and seed. The pick minimises the *validation gap to
retrain*::

    |Acc_Df(unlearned) − Acc_Df(retrain)| + |Acc_val(unlearned) − Acc_val(retrain)|

Forget accuracy is measured on training rows (Df) and utility on the validation split, so the test
split is never read to choose; its accuracy stays in the table for information only. Ties go to the
smaller learning rate. A method whose pick lies at the edge of the common factors gets its own, wider
ones (``--method-factors bad_teaching=3,10,30``). SSD takes no gradient steps: its searched value is the selection weighting α
instead (``SEARCHED``).

Writes ``results.csv``/``results.md`` (every candidate, the pick marked), a figure, and
``hyperparameters.yaml``, a mapping ``method -> {learning_rate: best}`` that a grid file's
``hyperparameters`` key takes as it is (``mubench run GRID.yaml``).
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

from ..errors import MubenchError
from .common import (
    StudyOptions,
    StudyResult,
    base_cell,
    cell_record,
    line_figure,
    metrics_of,
    run_variant,
    table_row,
    train_and_score,
    variant_cell,
    write_table,
)

FACTORS = (0.3, 1.0, 3.0)
#: Methods whose searched value is not the learning rate (they take no gradient steps).
SEARCHED = {"ssd": "selection_weighting"}
PICKED_FILE = "hyperparameters.yaml"


def searched_parameter(method: str) -> str:
    return SEARCHED.get(method, "learning_rate")


def start_value(method: str, arguments: dict[str, Any]) -> float:
    """The value factor 1 stands for: the cell's own argument, else the method config's default."""
    from ..trainers import get_spec

    name = searched_parameter(method)
    if name in arguments:
        return float(arguments[name])
    for item in fields(get_spec(method).config):
        if item.name == name:
            return float(item.default)
    raise MubenchError(f"method {method!r} has no {name!r} setting to search")


def validation_gap(metrics: dict[str, float]) -> float | None:
    """|ΔAcc_Df| + |ΔAcc_val| against the retrain model (``None`` when a number is missing)."""
    names = (
        "forget_accuracy",
        "retrain_forget_accuracy",
        "validation_accuracy",
        "retrain_validation_accuracy",
    )
    values = [metrics.get(name) for name in names]
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    forget, retrain_forget, validation, retrain_validation = values
    return abs(forget - retrain_forget) + abs(validation - retrain_validation)


def pick(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per method, the candidate with the smallest validation gap (ties: the smaller value)."""
    chosen: dict[str, dict[str, float]] = {}
    for method in dict.fromkeys(row["method"] for row in rows):
        scored = [r for r in rows if r["method"] == method and r.get("validation_gap") is not None]
        if scored:
            best = min(scored, key=lambda r: (r["validation_gap"], r["value"]))
            chosen[method] = {best["parameter"]: best["value"]}
    return chosen


def run(
    options: StudyOptions,
    factors: tuple[float, ...] = FACTORS,
    method_factors: dict[str, tuple[float, ...]] | None = None,
    forget_class: int | str | None = None,
) -> StudyResult:
    """``method_factors`` replaces ``factors`` for the methods it names (a method whose best value lay at
    the edge of the common grid gets its own, wider one). ``forget_class`` searches on the class-wise
    config ``<task>_class<k>`` instead of ``<task>_del<ratio>``: the sweep (splits, models, plain cells of
    both configs) is shared with the random-deletion search, and the tables, variants and
    ``hyperparameters.yaml`` go to a subfolder named after the config, ready for a grid file's
    ``class_wise_hyperparameters`` key."""
    method_factors = dict(method_factors or {})
    unknown = sorted(set(method_factors) - set(options.methods))
    if unknown:
        raise MubenchError(
            f"--method-factors names {', '.join(unknown)}, not among --methods ({', '.join(options.methods)})"
        )
    for own in (factors, *method_factors.values()):
        if any(not f > 0 for f in own):
            raise MubenchError(f"--factors must be positive, got {', '.join(f'{f:g}' for f in own)}")
    study = options.folder("lr-search")
    if forget_class is None:
        grid = options.grid(study / "sweep")
        config, folder = grid.configs[0], study
    else:
        grid = options.grid(study / "sweep", classes=[forget_class])
        config = grid.configs[-1]  # the ratio's config comes first, the class-wise one last
        folder = study / config
    options.sweep(grid)
    rows: list[dict[str, Any]] = []
    for method in options.methods:
        plain = base_cell(grid, method, config)
        parameter = searched_parameter(method)
        start = start_value(method, plain.arguments)
        # the plain cell (factor 1) is always a candidate: the sweep runs it anyway
        for factor in sorted({1.0, *method_factors.get(method, factors)}):
            value = float(f"{start * factor:.6g}")
            if factor == 1.0:
                record = cell_record(grid, method, config)
            else:
                cell = variant_cell(
                    replace(plain, arguments={**plain.arguments, parameter: value}),
                    folder / f"x{factor:g}" / method,
                    {parameter: value},
                )
                options.log(f"lr-search: {method} with {parameter}={value:g} (×{factor:g})")
                record = run_variant(cell, train_and_score)
            row = table_row(
                {"method": method, "parameter": parameter, "factor": factor, "value": value}, record
            )
            metrics = metrics_of(record)
            row["validation_accuracy"] = metrics.get("validation_accuracy")
            row["validation_gap"] = validation_gap(metrics)
            rows.append(row)
    chosen = pick(rows)
    for row in rows:
        row["picked"] = chosen.get(row["method"], {}).get(row["parameter"]) == row["value"]
    _write_picked(folder, chosen, config, grid.seeds[0])
    findings = [
        f"{method}: {name} = {value:g}" for method, picks in chosen.items() for name, value in picks.items()
    ]
    notes = [
        "Picked by the validation gap to retrain (|ΔAcc_Df| + |ΔAcc_val|); the test split is not used to choose.",
        *findings,
    ]
    csv_path, md_path = write_table(
        rows, folder, f"Learning-rate search on {config} (seed {grid.seeds[0]}, {grid.model})", notes
    )
    figure = line_figure(
        rows, x="factor", series="method", panels=("validation_gap", "forget_accuracy", "validation_accuracy"),
        path=folder / "lr_search.png", title="Learning rate × factor (validation only)", x_label="factor",
    )  # fmt: skip
    return StudyResult(rows, csv_path, md_path, figure, findings)


def _write_picked(folder: Any, chosen: dict[str, dict[str, float]], config: str, seed: int) -> None:
    from ..sweeps.files import write_text_if_changed

    lines = [
        f"# picked by mubench study lr-search on {config}, seed {seed}: validation gap to retrain, test unused",
        *(
            f"{method}: {{{', '.join(f'{k}: {v:g}' for k, v in picks.items())}}}"
            for method, picks in chosen.items()
        ),
    ]
    write_text_if_changed(folder / PICKED_FILE, "\n".join(lines) + "\n")
