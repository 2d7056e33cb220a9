"""U-LiRA's shadow models and the NeurIPS'23 epsilon score, made with the sweep machinery.

Shadow pair ``k`` is one seed of a sweep over methods ``[M, retrain]`` on one deletion config: the
seed's base model (trained on all of train, Df included) unlearned with ``M``, and the seed's retrain
model (trained from scratch on Dr, Df never seen). ``mubench run`` already makes and caches exactly
these (``base/seed<s>``, ``retrain/<config>/seed<s>``, ``cells/<config>/seed<s>/<method>``), resumes
after a stop and reuses what an earlier sweep finished, so no training loop lives here.

Cost: ``K`` shadows train ``2 K`` models with the base recipe (K base models, K retrain models) and run
the method ``K`` times, i.e. about ``2 K x`` the base model's training time plus ``K`` unlearning runs;
the scoring itself (Gaussian fits, attacks) takes seconds. ``ulira.json`` records the measured times.
Measured: 3 shadows of grad ascent on digits_del5 (tiny ResNet, 3-epoch base recipe) took 5.9 CPU
minutes in all (37 minutes of wall time on a 2-core machine shared with a load average of ~17);
Fashion-MNIST's base model takes 8 minutes (one epoch) on 2 such cores (see
``FASHION_MNIST_RECIPE``), so its shadows are a job for a sweep backend with more cores.

Variant (documented, not hidden): Hayes et al. draw a different random forget set per shadow from a
pool of target examples; here every shadow forgets the same Df of the config (as the NeurIPS'23
challenge's models do) and the shadows differ by seed (initialisation, data order, the method's own
randomness), so the Gaussians describe the training randomness of each target example.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ..metrics.epsilon_score import DEFAULT_STATISTIC, KAGGLE_COPY_ATTACKS, epsilon_score, output_statistic
from ..metrics.ulira import ulira_from_logits
from .sweep_outputs import RETRAIN, StackedOutputs, sweep_outputs

DEFAULT_SHADOWS = 4
RESULT_FILE = "ulira.json"


def shadow_seeds(shadows: int, first_seed: int = 0) -> list[int]:
    """The seeds of ``shadows`` shadow pairs: ``first_seed, first_seed + 1, ...``."""
    if isinstance(shadows, bool) or not isinstance(shadows, int) or shadows < 3:
        raise MubenchError(
            f"U-LiRA needs at least 3 shadows (leave-one-out fits on 2 or more), got {shadows!r}"
        )
    return list(range(first_seed, first_seed + shadows))


def shadow_grid(
    task: str,
    method: str,
    *,
    output: str | os.PathLike,
    ratio: int | float | str = 5,
    shadows: int = DEFAULT_SHADOWS,
    first_seed: int = 0,
    model: str | None = None,
    split_seed: int = 42,
    base_recipe: Mapping[str, Any] | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
) -> Any:
    """The sweep grid whose cells are the shadows: methods ``[method, retrain]`` on one ratio, one seed
    per shadow. Validated like any grid (a typo in a setting fails before training)."""
    from ..sweeps.grid import make_grid

    if method == RETRAIN:
        raise MubenchError(
            "U-LiRA compares an unlearning method with retrain: pick a method other than retrain"
        )
    values: dict[str, Any] = {
        "task": task,
        "methods": [method, RETRAIN],
        "ratios": [ratio],
        "seeds": shadow_seeds(shadows, first_seed),
        "output": str(output),
        "split_seed": split_seed,
        "base_recipe": dict(base_recipe or {}),
    }
    if model is not None:
        values["model"] = model
    if hyperparameters:
        values["hyperparameters"] = {method: dict(hyperparameters)}
    return make_grid(values)


def evidence_from_outputs(
    stacked: StackedOutputs,
    *,
    fixed_variance: bool = True,
    epsilon_attacks: Sequence[str] | None = None,
    delta: float | None = None,
    seed: int = 0,
    epsilon_protocol: str = "official",
) -> dict[str, Any]:
    """U-LiRA and the epsilon score of stacked sweep outputs, as flat report keys. The epsilon score
    follows the organisers' released scorer (``epsilon_protocol="official"``); ``epsilon_attacks`` picks
    the attacks of ``"kaggle_copy"`` only (the official rules are fixed; their default set is accepted)."""
    if epsilon_protocol == "official" and epsilon_attacks is not None:
        if tuple(epsilon_attacks) != KAGGLE_COPY_ATTACKS:
            raise MubenchError(
                f"epsilon attacks {list(epsilon_attacks)} apply to the kaggle_copy epsilon protocol only; "
                "the official protocol's decision rules are fixed"
            )
        epsilon_attacks = None
    statistic = DEFAULT_STATISTIC.get(epsilon_protocol, "logit_confidence")
    lira = ulira_from_logits(
        stacked.unlearned_logits, stacked.retrained_logits, stacked.labels, fixed_variance=fixed_variance
    )
    eps = epsilon_score(
        output_statistic(stacked.unlearned_logits, stacked.labels, statistic),
        output_statistic(stacked.retrained_logits, stacked.labels, statistic),
        retain_accuracy_unlearned=stacked.retain_accuracy_unlearned,
        retain_accuracy_retrained=stacked.retain_accuracy_retrained,
        test_accuracy_unlearned=stacked.test_accuracy_unlearned,
        test_accuracy_retrained=stacked.test_accuracy_retrained,
        protocol=epsilon_protocol,
        attacks=epsilon_attacks,
        delta=delta,
        seed=seed,
    )
    finite = eps.epsilons[eps.epsilons < float("inf")]
    return {
        "ulira_accuracy": lira.accuracy,
        "ulira_auc": lira.auc,
        "ulira_worst_example_accuracy": float(lira.per_example_accuracy.max()),
        "ulira_shadows": lira.num_shadows,
        "ulira_examples": lira.num_examples,
        "ulira_fixed_variance": lira.fixed_variance,
        "epsilon_score": eps.score,
        "epsilon_forgetting_quality": eps.forgetting_quality,
        "epsilon_retain_ratio": eps.retain_ratio,
        "epsilon_test_ratio": eps.test_ratio,
        "epsilon_median": float(sorted(eps.epsilons)[len(eps.epsilons) // 2]),
        "epsilon_infinite_share": float((eps.epsilons == float("inf")).mean()),
        "epsilon_max_finite": float(finite.max()) if finite.size else None,
        "epsilon_attacks": list(eps.attacks),
        "epsilon_protocol": eps.protocol,
        "epsilon_peaky_share": float(eps.peaky.mean()) if eps.peaky is not None else 0.0,
        "seeds": list(stacked.seeds),
    }


def shadow_cost(grid: Any, method: str) -> dict[str, float]:
    """Measured training time of the shadows: base and retrain models (their ``train_results.json``)
    and the method's cells (their ``cell.json`` wall time)."""
    from ..sweeps.references import base_dir, retrain_dir
    from .sweep_outputs import cell_folder

    def read(path: Path, key: str) -> float:
        try:
            return float(json.loads(path.read_text()).get(key) or 0.0)
        except (OSError, ValueError):
            return 0.0

    config = grid.configs[0]
    base = sum(read(base_dir(grid, s) / "train_results.json", "train_runtime") for s in grid.seeds)
    retrain = sum(
        read(retrain_dir(grid, config, s) / "train_results.json", "train_runtime") for s in grid.seeds
    )
    unlearn = sum(
        read(cell_folder(grid.output, config, s, method) / "cell.json", "wall_s") for s in grid.seeds
    )
    return {
        "shadow_trainings": 2 * len(grid.seeds),
        "shadow_base_train_s": base,
        "shadow_retrain_train_s": retrain,
        "shadow_unlearn_s": unlearn,
    }


def run_ulira(
    grid: Any,
    *,
    show_progress: bool = True,
    backend: Any = None,
    fixed_variance: bool = True,
    epsilon_attacks: Sequence[str] | None = None,
    log: Any = print,
    epsilon_protocol: str = "official",
) -> dict[str, Any]:
    """Train (or reuse) the shadows of ``grid`` (see :func:`shadow_grid`) with ``run_grid``, then score
    U-LiRA and the epsilon score; writes ``ulira.json`` into the grid's output folder."""
    from ..sweeps.runner import run_grid

    methods = [m for m in grid.methods if m != RETRAIN]
    if len(methods) != 1 or RETRAIN not in grid.methods or len(grid.configs) != 1:
        raise MubenchError(
            "a U-LiRA grid runs one method and retrain on one config (build it with shadow_grid)"
        )
    method, config = methods[0], grid.configs[0]
    result = run_grid(grid, show_progress=show_progress, backend=backend, log=log)
    failed = [f"seed {r['seed']} {r['method']}" for r in result.failed]
    if failed:
        raise MubenchError(
            f"shadow cells failed ({', '.join(failed)}); see {grid.output}/cells and run again"
        )
    return score_sweep(
        grid.output, config, method, seeds=grid.seeds, fixed_variance=fixed_variance,
        epsilon_attacks=epsilon_attacks, cost=shadow_cost(grid, method), epsilon_protocol=epsilon_protocol,
    )  # fmt: skip


def score_sweep(
    output: str | os.PathLike,
    config: str,
    method: str,
    *,
    seeds: Sequence[int] | None = None,
    fixed_variance: bool = True,
    epsilon_attacks: Sequence[str] | None = None,
    cost: Mapping[str, float] | None = None,
    epsilon_protocol: str = "official",
) -> dict[str, Any]:
    """U-LiRA and the epsilon score of the finished cells of an existing sweep folder (no training);
    written to ``<output>/ulira/<config>/<method>/ulira.json``."""
    stacked = sweep_outputs(output, config, method, seeds)
    results = {
        "config": config,
        "method": method,
        **evidence_from_outputs(
            stacked,
            fixed_variance=fixed_variance,
            epsilon_attacks=epsilon_attacks,
            epsilon_protocol=epsilon_protocol,
        ),
        **dict(cost or {}),
    }
    folder = Path(output) / "ulira" / config / method
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (RESULT_FILE + ".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / RESULT_FILE)
    results["written_to"] = str(folder / RESULT_FILE)
    return results
