"""One worker of ``mubench study hpo``: it takes trials of each method's study until the budget is used.

A trial is the method's plain sweep cell with the sampled settings, trained and scored like any cell
(its files in ``trials/<method>/<number>/``); its value is the validation gap to retrain
(|ΔAcc_Df| + |ΔAcc_val|, the lr-search criterion), so the test split is never read to choose. Its
accuracies are kept as the trial's attributes (test accuracy for information only).

Several workers run :func:`work` on the same storage at once (processes here, or on other machines):
the database hands each one its own trials, and the budget is shared (see :mod:`.hpo_storage`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ..sweeps.cells import Cell, unlearn_cell
from .hpo_pruning import add_gap_reporter
from .hpo_space import Parameter
from .hpo_storage import SURPLUS_ATTR, WORKER_ATTR, fail_dead_trials, is_surplus, open_storage, remaining
from .hpo_storage import worker_id as this_worker
from .lr_search import validation_gap

#: The trial attributes copied from a trial's report (test accuracy is shown, never used to choose).
KEPT_METRICS = ("forget_accuracy", "validation_accuracy", "test_accuracy", "gap_to_retrain", "unlearn_time_s")


@dataclass(frozen=True)
class MethodSearch:
    """What a worker needs to search one method (plain data: it is sent to worker processes)."""

    method: str
    study_name: str
    cell: Cell  # the plain sweep cell the trials vary
    space: tuple[Parameter, ...]
    retrain: tuple[float, float]  # the retrain model's forget and validation accuracy
    folder: str  # trials/<method>/


@dataclass(frozen=True)
class HpoJob:
    """The whole search, as every worker sees it."""

    storage: str
    searches: tuple[MethodSearch, ...]
    trials: int
    timeout_s: float | None
    report_every: int
    seed: int
    pruning_warmup_trials: int
    threads: int = 1  # torch CPU threads of each worker process


class SurplusTrial(MubenchError):
    """A trial started after the budget was used up by other workers (stopped before any work)."""


def open_study(job: HpoJob, search: MethodSearch, worker: int = 0) -> Any:
    """The method's study on the job's storage (created on first use): TPE seeded by the seed, the
    worker and the trials already there (a resumed run samples anew), a median pruner."""
    import optuna

    storage = open_storage(job.storage)
    existing = optuna.create_study(
        storage=storage, study_name=search.study_name, direction="minimize", load_if_exists=True
    )
    offset = len(existing.get_trials(deepcopy=False))
    sampler = optuna.samplers.TPESampler(seed=job.seed + 1000 * worker + offset)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=job.pruning_warmup_trials)
    return optuna.load_study(study_name=search.study_name, storage=storage, sampler=sampler, pruner=pruner)


def objective(job: HpoJob, search: MethodSearch) -> Any:
    """The function Optuna calls with each trial of ``search``'s study."""

    def run(trial: Any) -> float:
        trial.set_user_attr(WORKER_ATTR, this_worker())
        if is_surplus(trial.study, trial.number, job.trials):
            trial.set_user_attr(SURPLUS_ATTR, True)
            trial.study.stop()
            raise SurplusTrial(f"trial {trial.number} starts after the budget of {job.trials} was used up")
        params = {p.name: p.suggest(trial) for p in search.space}
        folder = Path(search.folder) / f"{trial.number:04d}"  # numbers are unique within the study
        cell = replace(
            search.cell,
            arguments={**search.cell.arguments, **params},
            identity={**search.cell.identity, "variant": {"hpo_trial": trial.number}},
            output_dir=str(folder),
            save_model=False,
        )
        folder.mkdir(parents=True, exist_ok=True)
        report = unlearn_cell(
            cell,
            before_training=lambda trainer: add_gap_reporter(
                trainer, trial, job.report_every, search.retrain
            ),
        )
        for name in KEPT_METRICS:
            if isinstance(report.get(name), (int, float)):
                trial.set_user_attr(name, float(report[name]))
        value = validation_gap(report)
        if value is None:
            raise MubenchError(
                f"{search.method} trial {trial.number}: the report lacks forget or validation accuracy "
                "(of the model or its retrain reference), so the validation gap cannot be computed"
            )
        return value

    return run


def search_method(
    job: HpoJob, search: MethodSearch, worker: int = 0, progress: Any = None, log: Any = None
) -> None:
    """Run trials of one method until its study holds ``job.trials`` of them (or the timeout passes)."""
    from optuna.trial import TrialState

    study = open_study(job, search, worker)
    recovered = fail_dead_trials(study)
    if recovered and log:
        log(f"hpo: {search.method}: {recovered} trial(s) of a killed worker marked failed")
    deadline = None if job.timeout_s is None else time.monotonic() + job.timeout_s
    run = objective(job, search)

    def after(_: Any, trial: Any) -> None:  # this worker's own trial, whatever the others finished
        if trial.user_attrs.get(SURPLUS_ATTR):
            return
        if progress is not None and trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            progress.update(1)
        if log is not None:
            log(f"hpo: {search.method} trial {trial.number}: {describe(trial)}")

    # at most `trials` attempts per worker: a method that always fails must not loop for ever
    for _ in range(job.trials):
        if remaining(study, job.trials) <= 0 or (deadline is not None and time.monotonic() >= deadline):
            break
        study.optimize(run, n_trials=1, catch=(Exception,), callbacks=[after], gc_after_trial=True)


def describe(trial: Any) -> str:
    """One line on a finished trial: its state and its (last reported) validation gap."""
    from optuna.trial import TrialState

    if trial.state is TrialState.COMPLETE:
        return f"complete, validation gap {trial.value:.4f}"
    if trial.state is TrialState.PRUNED and trial.intermediate_values:
        step = max(trial.intermediate_values)
        return f"pruned at step {step} (validation gap {trial.intermediate_values[step]:.4f} there)"
    return trial.state.name.lower()


def work(job: HpoJob, worker: int = 0, show_progress: bool = False, log: Any = None) -> None:
    """Search every method of ``job`` in turn (what each worker process runs)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own lines say what each trial did
    for search in job.searches:
        progress = None
        if show_progress:
            from tqdm.auto import tqdm

            done = job.trials - remaining(open_study(job, search, worker), job.trials)
            progress = tqdm(total=job.trials, initial=max(done, 0), desc=f"hpo {search.method}")
        try:
            search_method(job, search, worker, progress, log)
        finally:
            if progress is not None:
                progress.close()


def work_in_process(job: HpoJob, worker: int) -> None:
    """The entry point of an extra worker process (torch threads as in the main process)."""
    import torch

    torch.set_num_threads(job.threads)
    work(job, worker, log=lambda line: print(f"[worker {worker}] {line}", flush=True))
