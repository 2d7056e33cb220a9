"""Per-model outputs of a sweep, stacked over seeds: the input of U-LiRA and of the epsilon score.

A sweep (``mubench run``) writes, for every finished cell, ``cells/<config>/seed<s>/<method>/
predictions.npz``: the logits of that cell's model on every split, with each row's ``sample_id``. The
``retrain`` cell of a seed holds the reference model retrained without Df for that seed. So a sweep
over seeds S with methods ``[M, retrain]`` is exactly what both attacks need: for each seed one model
that saw Df and unlearned it with M, and one that never saw Df, all on the same forget rows.

:func:`sweep_outputs` reads them back, aligns every model's forget rows on ``sample_id`` (so the
columns of the stacked arrays are the same examples), and keeps the retain and test accuracies of
every model (the epsilon score's utility ratios).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MubenchError
from ..evaluation.predictions import PREDICTIONS_FILE, SplitPredictions, load_predictions

RETRAIN = "retrain"


@dataclass(frozen=True)
class StackedOutputs:
    """Forget-set logits of K unlearned and K retrained models over the same examples.

    ``unlearned_logits`` and ``retrained_logits`` have shape ``(K, examples, classes)``; row ``k`` of both
    comes from seed ``seeds[k]``. ``labels`` and ``sample_ids`` describe the columns. The accuracies
    have one entry per model.
    """

    unlearned_logits: np.ndarray
    retrained_logits: np.ndarray
    labels: np.ndarray
    sample_ids: np.ndarray
    seeds: tuple[int, ...]
    retain_accuracy_unlearned: np.ndarray
    retain_accuracy_retrained: np.ndarray
    test_accuracy_unlearned: np.ndarray
    test_accuracy_retrained: np.ndarray


def cell_folder(output: str | Path, config: str, seed: int, method: str) -> Path:
    """Where a sweep keeps the files of one cell (as ``mubench run`` lays them out)."""
    return Path(output) / "cells" / config / f"seed{seed}" / method


def _seeds_in(output: Path, config: str, method: str) -> list[int]:
    folder = output / "cells" / config
    seeds = []
    for child in sorted(folder.glob("seed*")) if folder.is_dir() else []:
        tail = child.name[len("seed") :]
        if tail.lstrip("-").isdigit() and (child / method / PREDICTIONS_FILE).is_file():
            if (child / RETRAIN / PREDICTIONS_FILE).is_file():
                seeds.append(int(tail))
    return sorted(seeds)


def _read(folder: Path) -> dict[str, SplitPredictions]:
    path = folder / PREDICTIONS_FILE
    if not path.is_file():
        raise MubenchError(
            f"{path} is missing: that cell has not finished (run the sweep again to finish it)"
        )
    return load_predictions(path)[0]


def _sorted_forget(predictions: dict[str, SplitPredictions], where: Path) -> SplitPredictions:
    """The forget rows in ``sample_id`` order (the common column order of every model)."""
    forget = predictions.get("forget")
    if forget is None:
        raise MubenchError(f"{where} holds no forget split")
    if forget.sample_ids is None:
        return forget
    rows = np.argsort(forget.sample_ids, kind="stable")
    return SplitPredictions(forget.logits[rows], forget.labels[rows], forget.sample_ids[rows])


def sweep_outputs(
    output: str | Path, config: str, method: str, seeds: Sequence[int] | None = None
) -> StackedOutputs:
    """Stack the forget-set logits of ``method``'s cells and the ``retrain`` cells of ``config`` over
    ``seeds`` (default: every seed of the folder where both cells are finished)."""
    output = Path(output)
    if method == RETRAIN:
        raise MubenchError("the method must be an unlearning method: its models are compared with retrain's")
    chosen = list(seeds) if seeds is not None else _seeds_in(output, config, method)
    if not chosen:
        raise MubenchError(
            f"{output} holds no finished {method!r} and 'retrain' cells of {config!r} on the same seed; run "
            f"'mubench run --task ... --methods {method},retrain --seeds ...' (or mubench ulira) first"
        )
    first: SplitPredictions | None = None
    stacks: dict[str, list] = {k: [] for k in ("u", "r", "ra_u", "ra_r", "ta_u", "ta_r")}
    for seed in chosen:
        for kind, name in (("u", method), ("r", RETRAIN)):
            folder = cell_folder(output, config, seed, name)
            predictions = _read(folder)
            forget = _sorted_forget(predictions, folder)
            if first is None:
                first = forget
            elif forget.sample_ids is not None and not np.array_equal(forget.sample_ids, first.sample_ids):
                raise MubenchError(
                    f"{folder}: its forget rows are other samples than those of the first cell read; every "
                    "model must be scored on the same deletion config"
                )
            stacks[kind].append(forget.logits)
            for split, key in (("retain", "ra"), ("test", "ta")):
                if split not in predictions:
                    raise MubenchError(f"{folder / PREDICTIONS_FILE} holds no {split} split")
                stacks[f"{key}_{kind}"].append(predictions[split].accuracy)
    assert first is not None
    shapes = {np.shape(x) for x in stacks["u"] + stacks["r"]}
    if len(shapes) != 1:
        raise MubenchError(f"the cells' forget logits have different shapes {sorted(shapes)}: other configs?")
    return StackedOutputs(
        unlearned_logits=np.stack(stacks["u"]),
        retrained_logits=np.stack(stacks["r"]),
        labels=first.labels,
        sample_ids=first.sample_ids if first.sample_ids is not None else np.arange(len(first.labels)),
        seeds=tuple(chosen),
        retain_accuracy_unlearned=np.array(stacks["ra_u"]),
        retain_accuracy_retrained=np.array(stacks["ra_r"]),
        test_accuracy_unlearned=np.array(stacks["ta_u"]),
        test_accuracy_retrained=np.array(stacks["ta_r"]),
    )
