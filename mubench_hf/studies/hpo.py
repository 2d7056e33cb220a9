"""``mubench study hpo``: each method's hyper-parameters searched with Optuna (TPE), on validation only.

For every method, a study in a real database (``--storage``, SQLite in the study folder by default,
``postgresql://…`` for a cluster) searches the method's declared space (:mod:`.hpo_space`: learning rate
and training length by default, plus its own knobs such as SalUn's mask ratio, SCRUB's α/γ, SSD's α/λ).
Each trial minimises the *validation gap to retrain*, as ``lr-search`` does::

    |Acc_Df(unlearned) − Acc_Df(retrain)| + |Acc_val(unlearned) − Acc_val(retrain)|

and reports the same gap every ``--report-every`` steps while it trains, so a median pruner can stop a
trial that lags behind the earlier ones. The retrain reference is trained once (the study's sweep) and
reused by every trial.

``--trials`` is each method's budget, counted in the database: a killed search run again goes on from
the trials it finished, and ``--workers N`` (or the same command started on several machines with one
``--storage``) shares the budget between processes. The study of a method is named after the config,
seed and the plain cell's settings (model, recipe, splits and reference checksums), so a different
setup starts a new study in the same database.

Writes ``results.csv``/``results.md`` (every trial, the best marked, the importances in the notes),
``hpo.png`` and ``hyperparameters.yaml``, the best trial's settings per method, ready for a grid file's
``hyperparameters`` key or ``--hyperparameters``.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from ..errors import MubenchError
from ..sweeps.files import value_checksum
from .common import StudyOptions, StudyResult, base_cell, cell_record, metrics_of
from .hpo_space import resolve_space
from .hpo_storage import check_storage_url, default_storage
from .hpo_worker import HpoJob, MethodSearch, open_study, work, work_in_process

STUDY = "hpo"


def study_name(config: str, seed: int, method: str, settings: dict[str, Any]) -> str:
    """The Optuna study of ``method``: one per config, seed and plain-cell settings."""
    return f"mubench-hpo/{config}/seed{seed}/{method}/{value_checksum(settings)[:12]}"


def retrain_accuracies(grid: Any, config: str) -> tuple[float, float]:
    """The retrain model's forget and validation accuracy (from the sweep's retrain row)."""
    metrics = metrics_of(cell_record(grid, "retrain", config))
    values = (metrics.get("forget_accuracy"), metrics.get("validation_accuracy"))
    if any(v is None for v in values):
        raise MubenchError(
            f"the retrain row of {grid.output} has no forget/validation accuracy; the search needs a task "
            "with a validation split"
        )
    return float(values[0]), float(values[1])


def prepare_job(
    options: StudyOptions,
    *,
    trials: int,
    timeout_s: float | None,
    storage: str | None,
    report_every: int,
    pruning_warmup_trials: int,
    threads: int,
) -> tuple[HpoJob, str]:
    """Run the sweep the search needs (splits, base and retrain models) and describe the search."""
    if trials < 1:
        raise MubenchError(f"--trials must be at least 1, got {trials}")
    if timeout_s is not None and timeout_s <= 0:
        raise MubenchError(f"--timeout must be positive seconds, got {timeout_s:g}")
    if report_every < 0:
        raise MubenchError(f"--report-every must be >= 0 (0: no pruning), got {report_every}")
    url = check_storage_url(storage) if storage else default_storage(options.folder(STUDY))
    try:  # here, before any training
        import optuna  # noqa: F401
    except ImportError as err:
        raise MubenchError(f"mubench study hpo needs Optuna ({err}): pip install 'mubench-hf[hpo]'") from None

    folder = options.folder(STUDY)
    grid = options.grid(folder / "sweep")
    # only the references are trained: the trials replace the plain cells of the methods
    options.sweep(options.grid(folder / "sweep", methods=["retrain"], hyperparameters={}, unlearn_args={}))
    config = grid.configs[0]
    retrain = retrain_accuracies(grid, config)
    searches = []
    for method in options.methods:
        cell = base_cell(grid, method, config)
        searches.append(
            MethodSearch(
                method=method,
                study_name=study_name(config, grid.seeds[0], method, cell.settings),
                cell=cell,
                space=tuple(resolve_space(method, cell.arguments)),
                retrain=retrain,
                # one set of trial folders per database: trial numbers restart in another one
                folder=str(folder / "trials" / value_checksum(url)[:8] / method),
            )
        )
    job = HpoJob(
        storage=url, searches=tuple(searches), trials=trials, timeout_s=timeout_s,
        report_every=report_every, seed=options.seed, pruning_warmup_trials=pruning_warmup_trials,
        threads=threads,
    )  # fmt: skip
    return job, config


def run_workers(job: HpoJob, workers: int, show_progress: bool, log: Any) -> None:
    """This process is worker 0; ``workers - 1`` more processes share the storage."""
    if workers < 1:
        raise MubenchError(f"--workers must be at least 1, got {workers}")
    context = multiprocessing.get_context("spawn")  # no forked torch/SQLite state in the children
    others = [context.Process(target=work_in_process, args=(job, i)) for i in range(1, workers)]
    for process in others:
        process.start()
    try:
        work(job, 0, show_progress=show_progress, log=log)
    finally:
        for process in others:
            process.join()
    failed = [i for i, p in enumerate(others, start=1) if p.exitcode != 0]
    if failed:
        raise MubenchError(f"hpo worker(s) {failed} exited with an error; their trials stay in {job.storage}")


def run(
    options: StudyOptions,
    trials: int = 20,
    timeout_s: float | None = None,
    storage: str | None = None,
    workers: int = 1,
    report_every: int = 10,
    pruning_warmup_trials: int = 4,
    threads: int = 1,
) -> StudyResult:
    """Search every method of ``options`` (see the module docstring) and write the summary."""
    from .hpo_summary import summarize

    if workers < 1:  # checked before the sweep trains anything
        raise MubenchError(f"--workers must be at least 1, got {workers}")
    job, config = prepare_job(
        options, trials=trials, timeout_s=timeout_s, storage=storage, report_every=report_every,
        pruning_warmup_trials=pruning_warmup_trials, threads=threads,
    )  # fmt: skip
    run_workers(job, workers, options.show_progress, options.log)
    studies = {search.method: open_study(job, search) for search in job.searches}
    folder = options.folder(STUDY)
    rows, findings, csv_path, md_path, figure = summarize(
        studies, folder, config, options.seed, f"Optuna search on {config} (seed {options.seed})"
    )
    return StudyResult(rows, csv_path, md_path, figure, [*findings, f"storage: {job.storage}"])
