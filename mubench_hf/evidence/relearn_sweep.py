"""Relearn time over a finished sweep (``mubench run --relearn-steps``): a pass after the cells.

Relearning needs the unlearned model's weights, so ``--relearn-steps`` turns ``save_models`` on; the
retrain rows use the retrain reference model of their seed. Each finished cell gets ``relearn.json``
(the ``relearn_*`` keys of :mod:`mubench_hf.evidence.relearn`) and the folder gets ``relearn.csv``,
one row per cell. A cell whose weights were not saved (an older sweep run without ``--save-models``)
is listed as skipped with the reason; the pass never retrains a cell. Cells that already hold a
``relearn.json`` made with the same settings are reused.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .relearn import RelearnSettings

RELEARN_FILE = "relearn.json"
RELEARN_CSV = "relearn.csv"


def _model_dir(grid: Any, config: str, seed: int, method: str) -> Path | None:
    from ..sweeps.references import retrain_dir
    from .sweep_outputs import RETRAIN, cell_folder

    folder = (
        retrain_dir(grid, config, seed)
        if method == RETRAIN
        else cell_folder(grid.output, config, seed, method)
    )
    return folder if (folder / "config.json").is_file() else None


def relearn_cell(
    grid: Any, config: str, seed: int, method: str, settings: RelearnSettings, *, use_cpu: bool = False
) -> dict[str, Any]:
    """The ``relearn_*`` keys of one cell (its saved model, or the seed's retrain model)."""
    from ..evaluation.report import _relearn_metrics
    from ..pipeline import prepare, scoring_trainer
    from ..sweeps.references import base_dir, cache_dir, splits_dir

    model = _model_dir(grid, config, seed, method)
    if model is None:
        return {"status": "skipped", "reason": "no saved model weights (run the sweep with --save-models)"}
    prepared = prepare(str(splits_dir(grid)), config, str(model), task=grid.task, cache_dir=cache_dir(grid))
    with tempfile.TemporaryDirectory() as scratch:
        trainer = scoring_trainer(prepared, scratch, seed=seed, use_cpu=use_cpu)
        metrics = _relearn_metrics(
            trainer, prepared.splits["forget"], str(base_dir(grid, seed)), settings, seed
        )
    return {"status": "done", **metrics}


def relearn_sweep(grid: Any, settings: RelearnSettings, *, show_progress: bool = True) -> Path:
    """Relearn time of every finished cell of ``grid``; writes ``relearn.json`` per cell and
    ``relearn.csv`` in the folder (returned)."""
    from ..sweeps.cells import CELL_FILE, is_done
    from ..sweeps.files import read_json_or_none
    from .sweep_outputs import cell_folder

    wanted = {"settings": asdict(settings)}
    rows = []
    cells = [(c, s, m) for s in grid.seeds for c in grid.configs for m in grid.methods]
    for config, seed, method in tqdm(cells, desc="relearn", disable=not show_progress):
        folder = cell_folder(grid.output, config, seed, method)
        if not is_done(read_json_or_none(folder / CELL_FILE)):
            rows.append({"config": config, "seed": seed, "method": method, "status": "skipped",
                         "reason": "the cell has not finished"})  # fmt: skip
            continue
        stored = read_json_or_none(folder / RELEARN_FILE)
        if (
            isinstance(stored, dict)
            and stored.get("settings") == wanted["settings"]
            and stored.get("status") == "done"
        ):
            result = stored
        else:
            result = {**relearn_cell(grid, config, seed, method, settings), **wanted}
            tmp = folder / (RELEARN_FILE + ".tmp")
            tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, folder / RELEARN_FILE)
        rows.append({"config": config, "seed": seed, "method": method,
                     **{k: v for k, v in result.items() if k != "settings"}})  # fmt: skip
    columns = ["config", "seed", "method", "status", "relearn_steps", "relearn_reached", "relearn_cap",
               "relearn_target_accuracy", "relearn_final_forget_accuracy", "original_forget_accuracy", "reason"]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path = Path(grid.output) / RELEARN_CSV
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
