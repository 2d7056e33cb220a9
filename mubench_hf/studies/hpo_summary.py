"""What ``mubench study hpo`` writes from its studies: every trial, the best one per method, the parameter
importances, a figure and ``hyperparameters.yaml`` (the picks, in the form a grid's ``hyperparameters``
key takes).

Everything is read back from the storage, so the summary covers the trials of every worker and of every
earlier (killed or finished) run. Importances (Optuna's fANOVA, seeded) need at least two complete
trials whose parameters vary; otherwise the summary says so instead.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..sweeps.files import write_text_if_changed
from .common import write_table

PICKED_FILE = "hyperparameters.yaml"
FIGURE_FILE = "hpo.png"
MIN_TRIALS_FOR_IMPORTANCE = 2


def trial_rows(method: str, study: Any) -> list[dict[str, Any]]:
    """One row per trial that is not a surplus one: number, state, value, parameters, accuracies."""
    from optuna.trial import TrialState

    from .hpo_storage import SURPLUS_ATTR, WORKER_ATTR
    from .hpo_worker import KEPT_METRICS

    rows = []
    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get(SURPLUS_ATTR):
            continue
        row: dict[str, Any] = {"method": method, "trial": trial.number, "state": trial.state.name.lower()}
        # a pruned trial has no final value; its last report and step say how far it got
        row["validation_gap"] = trial.value if trial.state is TrialState.COMPLETE else None
        last = max(trial.intermediate_values, default=None)
        row["pruned_at_step"] = last if trial.state is TrialState.PRUNED else None
        row["last_reported_gap"] = None if last is None else trial.intermediate_values[last]
        row.update({f"param:{k}": v for k, v in trial.params.items()})
        row.update({name: trial.user_attrs.get(name) for name in KEPT_METRICS})
        row["worker"] = trial.user_attrs.get(WORKER_ATTR)
        rows.append(row)
    return rows


def best_params(study: Any) -> tuple[int, float, dict[str, Any]] | None:
    """(number, value, params) of the study's best complete trial, or ``None`` when none completed."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    best = study.best_trial
    return best.number, float(best.value), dict(best.params)


def importances(study: Any, seed: int) -> tuple[dict[str, float], str | None]:
    """fANOVA importances of the study's parameters, or ``({}, why not)``."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        return {}, f"{len(complete)} complete trial(s); importances need {MIN_TRIALS_FOR_IMPORTANCE}"
    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (RuntimeError, ValueError) as err:  # e.g. every trial drew the same values
        return {}, f"importances could not be computed: {err}"
    return {name: float(value) for name, value in found.items()}, None


def _number(value: Any) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def write_picked(folder: Path, picks: dict[str, dict[str, Any]], config: str, seed: int) -> Path:
    """``hyperparameters.yaml``: ``method: {name: value, ...}`` per method with a complete trial."""
    lines = [
        f"# picked by mubench study hpo (Optuna TPE) on {config}, seed {seed}: validation gap to retrain, "
        "test unused",
        *(
            f"{method}: {{{', '.join(f'{k}: {_number(v)}' for k, v in params.items())}}}"
            for method, params in picks.items()
        ),
    ]
    path = folder / PICKED_FILE
    write_text_if_changed(path, "\n".join(lines) + "\n")
    return path


def figure(rows: list[dict[str, Any]], weights: dict[str, dict[str, float]], path: Path, title: str) -> Path:
    """Left: each trial's validation gap and the best so far, per method; right: parameter importances."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (history, bars) = plt.subplots(1, 2, figsize=(10, 3.8))
    for method in dict.fromkeys(row["method"] for row in rows):
        points = sorted(
            (r["trial"], r["validation_gap"])
            for r in rows
            if r["method"] == method and r["state"] == "complete" and r["validation_gap"] is not None
        )
        if not points:
            continue
        (line,) = history.plot([p[0] for p in points], [p[1] for p in points], "o", alpha=0.5, label=method)
        best = [min(p[1] for p in points[: i + 1]) for i in range(len(points))]
        history.step([p[0] for p in points], best, where="post", color=line.get_color())
    history.set_xlabel("trial")
    history.set_ylabel("validation gap to retrain")
    history.set_title("trials (line: best so far)")
    history.grid(alpha=0.3)
    if history.get_legend_handles_labels()[0]:
        history.legend(fontsize=8)
    labels = [f"{m}: {p}" for m, found in weights.items() for p in found]
    values = [v for found in weights.values() for v in found.values()]
    if labels:
        bars.barh(range(len(labels)), values)
        bars.set_yticks(range(len(labels)), labels, fontsize=8)
        bars.invert_yaxis()
    else:
        bars.text(0.5, 0.5, "no importances yet\n(need 2 complete trials)", ha="center", va="center")
    bars.set_title("parameter importance (fANOVA)")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summarize(
    studies: dict[str, Any], folder: Path, config: str, seed: int, title: str
) -> tuple[list[dict[str, Any]], list[str], Path, Path, Path]:
    """Tables, picks, importances and the figure from ``studies`` (method -> Optuna study).

    Returns (rows, findings, csv path, markdown path, figure path)."""
    rows: list[dict[str, Any]] = []
    picks: dict[str, dict[str, Any]] = {}
    weights: dict[str, dict[str, float]] = {}
    findings: list[str] = []
    for method, study in studies.items():
        method_rows = trial_rows(method, study)
        best = best_params(study)
        states = [r["state"] for r in method_rows]
        counts = ", ".join(f"{states.count(s)} {s}" for s in dict.fromkeys(states)) or "no trials"
        if best is None:
            findings.append(f"{method}: no complete trial ({counts})")
        else:
            number, value, params = best
            picks[method] = params
            shown = ", ".join(f"{k} = {_number(v)}" for k, v in params.items())
            findings.append(f"{method}: best trial {number}, validation gap {value:.4f}: {shown} ({counts})")
        for row in method_rows:
            row["best"] = best is not None and row["trial"] == best[0]
        found, why_not = importances(study, seed)
        if found:
            weights[method] = found
            findings.append(f"{method} importances: " + ", ".join(f"{k} {v:.2f}" for k, v in found.items()))
        else:
            findings.append(f"{method} importances: none ({why_not})")
        rows += method_rows
    for row in rows:  # params differ per method: empty cells where a method has no such knob
        for key, value in row.items():
            if isinstance(value, float) and math.isnan(value):
                row[key] = None
    picked = write_picked(folder, picks, config, seed)
    notes = [
        "Each method's trials minimise the validation gap to retrain (|ΔAcc_Df| + |ΔAcc_val|); the test "
        "split is not used to choose (its accuracy is shown for information).",
        *findings,
        f"Picks: {picked.name} (a grid file's hyperparameters key).",
    ]
    csv_path, md_path = write_table(rows, folder, title, notes)
    figure_path = figure(rows, weights, folder / FIGURE_FILE, title)
    return rows, findings, csv_path, md_path, figure_path
