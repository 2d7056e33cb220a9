"""One step of a request chain (sequential unlearning): what the cell of step i does, and when its stored
record still holds.

Step i loads its step config (``<task>_req<k>x<p>_step<i>``: ``forget`` = Df_i, ``forget_cumulative`` =
Df_≤i, ``retain`` = Dr_i), starts from the model that step i−1 saved (step 1: the base model θo), runs the
method on Df_i, or on Df_≤i when the method declares ``sequential_forget="cumulative"``, and scores the
result on Df_≤i against the retrain model of step i (trained from scratch on Dr_i). The rows of Df_≤i are
then split into those requested earlier (Df_<i) and now (Df_i): ``earlier_forget_*`` says how much of the
earlier requests' forgetting survives step i, ``new_forget_*`` how well request i itself was forgotten.
The report's ``original_*`` values are θo's, so each step's row reads against the model before any request.

The unlearned model is saved in the cell's folder (the next step starts from it) and its weights digest
recorded; step i records the digest of the model it started from, so a redone step i−1 makes step i run
again, and a damaged model makes its step run again.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MubenchError
from .files import file_checksum, read_json_or_none
from .grid_values import RETRAIN
from .references import weights_digest

MODEL_WEIGHTS = "model_weights"  # record key: digest of the model this step saved
START_WEIGHTS = "start_weights"  # record key: digest of the model this step started from
CELL_FILE = "cell.json"  # a cell's record (defined here: cells.py imports this module)


def model_digest(folder: str | Path) -> str | None:
    """The weights digest of the model saved in ``folder`` (``None`` when it holds none)."""
    root = Path(folder)
    if not (root / "config.json").is_file():
        return None
    return weights_digest({p.name: file_checksum(p) for p in sorted(root.iterdir()) if p.is_file()})


def _stored_record(folder: str | Path) -> dict[str, Any] | None:
    record = read_json_or_none(Path(folder) / CELL_FILE)
    return record if isinstance(record, dict) and record.get("status") == "done" else None


def step_is_current(cell: Any, record: dict[str, Any]) -> bool:
    """Whether a finished step record still holds: its saved model is intact, and the step before it
    (when there is one) still holds the model this step started from."""
    if cell.method == RETRAIN:
        return True  # scores the retrain model of its step: it starts from no earlier step
    saved = record.get(MODEL_WEIGHTS)
    if not isinstance(saved, str):
        return False
    try:
        if model_digest(cell.output_dir) != saved:
            return False
    except OSError:
        return False
    previous = cell.step.get("previous")
    if previous is None:
        return record.get(START_WEIGHTS) is None
    before = _stored_record(previous)
    return before is not None and before.get(MODEL_WEIGHTS) == record.get(START_WEIGHTS)


def _start_model(cell: Any) -> tuple[str, str | None]:
    """The folder step i starts from and its digest: step i−1's saved model (checked), or θo."""
    previous = cell.step.get("previous")
    if previous is None:
        return cell.base_dir, None
    before = _stored_record(previous)
    digest = model_digest(previous)
    if before is None or digest is None or before.get(MODEL_WEIGHTS) != digest:
        raise MubenchError(
            f"step {cell.step['step']} of request schedule {cell.step['schedule']} starts from the model of "
            f"step {cell.step['step'] - 1} ({previous}), which did not finish or was changed since; "
            "rerun the sweep: it redoes that step first"
        )
    return previous, digest


def _view(splits: Any, forget: str) -> Any:
    """``splits`` with ``forget`` as the forget split, without the train and cumulative splits."""
    from datasets import DatasetDict

    from ..splits.requests import CUMULATIVE_SPLIT

    chosen = {name: split for name, split in splits.items() if name not in ("train", CUMULATIVE_SPLIT)}
    chosen["forget"] = splits[forget]
    return DatasetDict(chosen)


def run_step(cell: Any) -> dict[str, Any]:
    """Run step ``cell.step['step']`` of a request chain (see the module docstring); returns its metrics,
    with the digests of the models it started from and saved (strings, kept out of the metrics)."""
    from ..evaluation.attacks.settings import AttackSettings
    from ..pipeline import prepare, score, unlearning_trainer
    from ..splits.requests import CUMULATIVE_SPLIT
    from ..tasks import SAMPLE_ID_COLUMN
    from ..trainers import get_spec
    from ..trainers.registry import SEQUENTIAL_CUMULATIVE

    step = cell.step
    original = step["original_dir"]
    anchor = (read_json_or_none(Path(original) / "train_results.json") or {}).get("test_accuracy")
    extra: dict[str, Any] = {
        "method": cell.method,
        "request_schedule": step["schedule"],
        "request_step": step["step"],
    }
    retrain = cell.method == RETRAIN
    start, start_digest = (cell.retrain_dir, None) if retrain else _start_model(cell)
    prepared = prepare(
        cell.dataset_repo, cell.config, start, task=cell.task, processor=original, cache_dir=cell.cache_dir,
        required=("forget", CUMULATIVE_SPLIT, "retain", "test"),
    )  # fmt: skip
    new_ids = np.asarray(prepared.raw["forget"][SAMPLE_ID_COLUMN], dtype=np.int64)
    trainer = None
    if retrain:
        unlearn_time = (read_json_or_none(Path(cell.retrain_dir) / "train_results.json") or {}).get(
            "train_runtime"
        )
        extra["kind"] = "retrain"
    else:
        spec = get_spec(cell.method)
        forget = CUMULATIVE_SPLIT if spec.sequential_forget == SEQUENTIAL_CUMULATIVE else "forget"
        extra["unlearned_split"] = forget
        args = spec.config(
            **{
                "report_to": "none", "save_strategy": "no", "logging_strategy": "no", "disable_tqdm": True,
                **cell.arguments,
                "method": cell.method, "output_dir": cell.output_dir, "retrain_reference": cell.retrain_dir,
                "seed": cell.seed, "original_test_accuracy": anchor, "report_cache_dir": cell.report_cache_dir,
            }
        )  # fmt: skip
        trainer = unlearning_trainer(
            dataclasses.replace(prepared, splits=_view(prepared.splits, forget)), args
        )
        _quiet(trainer)
        trainer.train()
        unlearn_time = trainer.unlearn_time_s
        prepared = dataclasses.replace(prepared, model=trainer.accelerator.unwrap_model(trainer.model))
    scored = dataclasses.replace(
        prepared, splits=_view(prepared.splits, CUMULATIVE_SPLIT), raw=_view(prepared.raw, CUMULATIVE_SPLIT)
    )
    report = score(
        scored, output_dir=cell.output_dir, retrain=retrain_reference(cell.retrain_dir, scored.raw["forget"]),
        original_test_accuracy=anchor,
        base_model=original, unlearn_time_s=unlearn_time, extra=extra, seed=cell.seed,
        max_eval_rows=cell.arguments.get("max_eval_rows"), eval_sample_seed=cell.arguments.get("eval_sample_seed"),
        report_cache_dir=cell.report_cache_dir,
        attacks=AttackSettings.from_args(cell.arguments) if cell.arguments.get("attacks") else None,
    )  # fmt: skip
    report.update(request_metrics(Path(cell.output_dir), new_ids))
    if trainer is not None:
        trainer.create_model_card(report=report)  # names the step config: leaderboards group by it
        trainer.save_model(cell.output_dir)  # the next step starts from it
        report[MODEL_WEIGHTS] = model_digest(cell.output_dir)
        report[START_WEIGHTS] = start_digest
    return report


def retrain_reference(folder: str, forget: Any) -> Any:
    """What the report compares step i with: the retrain model of the cumulative config ``<task>_del<i·p>``.

    A classification retrain model keeps its outputs on its own config's splits (``predictions.npz``,
    named after that config); they are handed over as they are, once their forget rows are checked to be
    exactly Df_≤i, the rows scored here. Otherwise the model folder itself (the report runs it)."""
    from ..evaluation.predictions import PREDICTIONS_FILE, load_predictions
    from ..tasks import SAMPLE_ID_COLUMN

    path = Path(folder) / PREDICTIONS_FILE
    if not path.is_file():
        return folder
    reference, _ = load_predictions(path)
    ids = reference["forget"].sample_ids if "forget" in reference else None
    scored = np.asarray(forget[SAMPLE_ID_COLUMN], dtype=np.int64)
    if ids is None or not np.array_equal(np.asarray(ids), scored):
        raise MubenchError(
            f"the retrain model {folder} was not scored on the rows requested so far ({len(scored)} rows): "
            "its forget split differs; delete the folder and rerun the sweep to train it again"
        )
    return reference


def _quiet(trainer: Any) -> None:
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def request_metrics(folder: Path, new_ids: np.ndarray) -> dict[str, float]:
    """``new_forget_*`` (on Df_i) and ``earlier_forget_*`` (on Df_<i; none at step 1) from the per-row
    outputs the report wrote on Df_≤i: accuracy for a classification task (``predictions.npz``), ROUGE-L
    recall for a generation task (``generations.jsonl``)."""
    from ..evaluation.predictions import PREDICTIONS_FILE, load_predictions
    from ..kinds.generation.report import GENERATIONS_FILE

    if (folder / PREDICTIONS_FILE).is_file():
        predictions, _ = load_predictions(folder / PREDICTIONS_FILE)
        forget = predictions["forget"]
        if forget.sample_ids is None:
            raise MubenchError(f"{folder / PREDICTIONS_FILE} has no sample ids for the forget split")
        values = (forget.logits.argmax(axis=1) == forget.labels).astype(float)
        ids, metric = np.asarray(forget.sample_ids), "accuracy"
    elif (folder / GENERATIONS_FILE).is_file():
        from ..metrics.generative.rouge import rouge_l_recalls

        rows = [
            json.loads(line) for line in (folder / GENERATIONS_FILE).read_text(encoding="utf-8").splitlines()
        ]
        rows = [row for row in rows if row.get("split") == "forget"]
        values = rouge_l_recalls([r["prediction"] for r in rows], [r["reference"] for r in rows])
        ids, metric = np.array([r["sample_id"] for r in rows], dtype=np.int64), "rouge_l"
    else:
        raise MubenchError(f"the report wrote no per-row outputs in {folder} to split by request")
    is_new = np.isin(ids, new_ids)
    out = {f"new_forget_{metric}": float(values[is_new].mean())}
    if (~is_new).any():
        out[f"earlier_forget_{metric}"] = float(values[~is_new].mean())
    return out
