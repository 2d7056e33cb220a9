"""Where ``mubench study hpo`` keeps its studies: Optuna's RDB storage (SQLite by default, PostgreSQL for
a cluster), and the trial budget that several workers share.

Every trial lives in the database, so a killed search resumes where it stopped and several processes
(or machines) work on one study. The budget (``--trials``) counts the study's trials that finished
(complete or pruned) or are running; failed ones are retried. Two workers may ask for a new trial at
the same moment: the trial number the storage hands out decides which of them is inside the budget,
and a trial past it stops at once (marked failed, with ``surplus`` in its attributes), so the finished
trials sum to the budget exactly.

A worker that was killed leaves its trial *running* in the database. A worker on the same machine
that finds such a trial of a process that no longer exists marks it failed at once; from other
machines the storage's heartbeat does it after :data:`GRACE_PERIOD_S`.
"""

from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path
from typing import Any

from ..errors import MubenchError

SCHEMES = ("sqlite", "postgresql", "mysql")
HEARTBEAT_S = 20
GRACE_PERIOD_S = 60
WORKER_ATTR = "worker"
SURPLUS_ATTR = "surplus"


def default_storage(folder: Path) -> str:
    """The SQLite file beside the study's tables."""
    return f"sqlite:///{(folder / 'hpo.db').resolve()}"


def check_storage_url(url: str) -> str:
    """``url`` when it names a database SQLAlchemy can reach (``sqlite:///file.db``, ``postgresql://...``)."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if "://" not in url or scheme not in SCHEMES:
        raise MubenchError(
            f"--storage takes a database URL ({', '.join(s + '://…' for s in SCHEMES)}, e.g. "
            f"sqlite:///hpo.db or postgresql://user@host/db), got {url!r}"
        )
    return url


def open_storage(url: str) -> Any:
    """Optuna's ``RDBStorage`` on ``url`` (the SQLite file's folder is created), with heartbeats."""
    import optuna

    check_storage_url(url)
    engine: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # several workers write to one file: wait for the lock instead of failing at once
        engine = {"connect_args": {"timeout": 60}}
    else:
        engine = {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():  # heartbeats are marked experimental; they are what resuming needs
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_PERIOD_S
            )
    except ImportError as err:  # the database's driver (e.g. psycopg2 for PostgreSQL) is missing
        raise MubenchError(
            f"--storage {url.split('://', 1)[0]}://…: {err} (pip install 'mubench-hf[hpo]')"
        ) from err


def worker_id() -> str:
    """This process, as ``host:pid`` (recorded on each trial it runs)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def fail_dead_trials(study: Any) -> int:
    """Mark failed the running trials of processes on this machine that no longer exist; their number."""
    from optuna.trial import TrialState

    host, failed = socket.gethostname(), 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = str(trial.user_attrs.get(WORKER_ATTR, ""))
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            # Optuna has no public call to end another process's trial; its storage API is the way
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            failed += 1
    return failed


def counted(trial: Any) -> bool:
    """A trial that uses up the budget: finished (complete, pruned) or running, and not a surplus one."""
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    return trial.state in states and not trial.user_attrs.get(SURPLUS_ATTR)


def remaining(study: Any, budget: int) -> int:
    """Trials still to start before the study holds ``budget`` counted ones."""
    return budget - sum(counted(t) for t in study.get_trials(deepcopy=False))


def is_surplus(study: Any, number: int, budget: int) -> bool:
    """Whether trial ``number`` is past the budget: ``budget`` counted trials were handed out before it."""
    earlier = [t for t in study.get_trials(deepcopy=False) if t.number < number and counted(t)]
    return len(earlier) >= budget
