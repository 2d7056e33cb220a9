"""Utility through EleutherAI's lm-evaluation-harness (``pip install 'mubench-hf[lmeval]'``, ``lm_eval``
0.4.13), run in process on the model being scored.

The harness wraps the model we hold (``HFLM(pretrained=<model object>, tokenizer=<tokenizer object>)``:
nothing is loaded again) and runs ``simple_evaluate`` on the tasks asked for:

* any task the harness knows (``mmlu``, ``wmdp_bio``, ``wmdp_cyber`` …) works unchanged; its data comes from
  the Hub through the harness, so it needs the network;
* a domain task's question splits (``forget_mcq``, ``utility_mcq``: ``tasks/mcq.py``) run as local tasks
  named ``<task>_<split>`` (``wmdp_pydocs_forget_mcq``). They are given to the harness as task configs in
  memory, not as files: ``custom_dataset`` returns the split's rows, ``doc_to_text`` / ``doc_to_choice`` /
  ``doc_to_target`` name its ``prompt`` / ``choices`` / ``answer`` columns, ``output_type: multiple_choice``
  with the metric ``acc``. The prompt already holds the rendering (the WMDP or MMLU template of the task),
  so the harness scores exactly the strings our own scorer (``kinds/generation/mcq.py``) scores.

Every result becomes a report key ``lm_eval/<task>/<metric>`` (``acc``; a metric under a filter other than
the harness's ``none`` is ``<metric>_<filter>``); standard errors are left out. A group (``mmlu``) reports its
aggregate only, not its 57 subtasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import datasets

from ..errors import MubenchError
from ..metrics.catalog_mcq import lm_eval_key
from ..modalities.base import ANSWER_COLUMN, CHOICES_COLUMN, PROMPT_COLUMN
from ..tasks.mcq import is_mcq_split

LOCAL_SPLITS = ("forget_mcq", "utility_mcq")
INSTALL_HINT = "pip install 'mubench-hf[lmeval]' (lm-eval 0.4.13)"


def parse_task_list(text: str) -> list[str]:
    """``"mmlu, wmdp_bio"`` → ``["mmlu", "wmdp_bio"]`` (each once, in order); an empty list is refused."""
    names = list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    if not names:
        raise MubenchError(
            "--lm-eval needs task names, comma-separated (e.g. mmlu,wmdp_bio or wmdp_pydocs_forget_mcq)"
        )
    return names


def local_tasks(task_name: str, splits: Mapping[str, Any]) -> dict[str, datasets.Dataset]:
    """The local harness tasks of a config's splits: ``<task>_<split>`` → the split's question rows."""
    out = {}
    for split in LOCAL_SPLITS:
        ds = splits.get(split)
        if ds is None:
            continue
        ds = ds.with_format(None) if hasattr(ds, "with_format") else ds
        if is_mcq_split(ds):
            out[f"{task_name}_{split}"] = ds.select_columns([PROMPT_COLUMN, CHOICES_COLUMN, ANSWER_COLUMN])
    return out


def local_task_config(name: str, rows: datasets.Dataset) -> dict[str, Any]:
    """The harness task config of a local multiple-choice task (module docstring), its data in memory."""
    return {
        "task": name,
        "custom_dataset": lambda **_: datasets.DatasetDict({"test": rows}),
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": PROMPT_COLUMN,
        "doc_to_choice": CHOICES_COLUMN,
        "doc_to_target": ANSWER_COLUMN,
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0},
    }


def _import_harness() -> tuple[Any, Any, Any]:
    try:
        from lm_eval import simple_evaluate
        from lm_eval.models.huggingface import HFLM
        from lm_eval.tasks import TaskManager
    except ImportError as err:
        raise MubenchError(
            f"--lm-eval needs lm-evaluation-harness, which is not installed ({err}); {INSTALL_HINT}"
        ) from None
    return simple_evaluate, HFLM, TaskManager


def results_as_metrics(results: Mapping[str, Mapping[str, Any]], wanted: Sequence[str]) -> dict[str, float]:
    """``simple_evaluate``'s ``results`` of the tasks in ``wanted`` as ``lm_eval/<task>/<metric>`` keys."""
    out: dict[str, float] = {}
    for task in wanted:
        for key, value in (results.get(task) or {}).items():
            if "," not in key or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            metric, _, filtering = key.partition(",")
            if metric.endswith("_stderr"):
                continue
            out[lm_eval_key(task, metric if filtering == "none" else f"{metric}_{filtering}")] = float(value)
    return out


def run_lm_eval(
    model: Any,
    tokenizer: Any,
    tasks: Sequence[str],
    *,
    local: Mapping[str, datasets.Dataset] | None = None,
    limit: int | None = None,
    batch_size: int = 8,
    seed: int = 0,
) -> dict[str, float]:
    """Run the harness on ``model`` (module docstring); ``local``: the local tasks by name
    (:func:`local_tasks`); ``limit``: at most that many questions per task (the harness's ``--limit``)."""
    simple_evaluate, HFLM, TaskManager = _import_harness()
    local = dict(local or {})
    if limit is not None and limit < 1:
        raise MubenchError(f"--lm-eval-limit must be a positive number of questions, got {limit}")
    if batch_size < 1:
        raise MubenchError(f"--lm-eval-batch-size must be > 0, got {batch_size}")
    harness_names = [t for t in tasks if t not in local]
    # the harness indexes its ~12k task files only when one of its own tasks is asked for
    manager = TaskManager(include_defaults=bool(harness_names))
    unknown = [t for t in harness_names if t not in manager.all_tasks]
    if unknown:
        mine = f"; local tasks of this config: {sorted(local)}" if local else ""
        raise MubenchError(f"lm-eval knows no task {unknown} (see `lm-eval ls tasks`){mine}")
    specs: list[Any] = [local_task_config(t, local[t]) if t in local else t for t in tasks]
    was_training = model.training
    model.eval()
    try:
        lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
        evaluated = simple_evaluate(model=lm, tasks=specs, limit=limit, task_manager=manager, log_samples=False,
                                    bootstrap_iters=0, random_seed=seed, numpy_random_seed=seed,
                                    torch_random_seed=seed, fewshot_random_seed=seed)  # fmt: skip
    except (
        OSError
    ) as err:  # a harness task's data not reachable (offline Hub, no cache): connection/file errors
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        mine = f", or this config's local tasks {sorted(local)}" if local else ""
        raise MubenchError(
            f"lm-eval could not load the data of {harness_names} ({type(err).__name__}: {first}); the harness "
            f"reads its tasks' data from the Hub: allow network access (unset HF_HUB_OFFLINE){mine}"
        ) from None
    finally:
        model.train(was_training)
    if evaluated is None:  # a non-zero rank of a distributed run
        return {}
    return results_as_metrics(evaluated["results"], tasks)
