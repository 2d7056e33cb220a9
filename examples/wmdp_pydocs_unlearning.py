"""WMDP-style unlearning, offline: forget the docstrings of Python's network/security modules (``wmdp_pydocs``)
and watch the forget-domain questions fall while the kept-domain questions hold.

    python examples/wmdp_pydocs_unlearning.py [--output wmdp_pydocs_out] [--methods rmu,npo,grad_diff,grad_ascent]

Steps (each a ``mubench`` command, printed before it runs): build the deletion repo with the task's upstream
order (``wmdp_pydocs_del10`` forgets the whole forget corpus), train the base model (tiny:gpt2 with the task's
recipe) and the retrain model (the same recipe on the retain corpus only), unlearn with each method, and
score every model with lm-evaluation-harness on the two local question sets (``--lm-eval``). The table
shows our own multiple-choice accuracies (the report's ``forget_mcq_accuracy`` / ``utility_mcq_accuracy``)
beside the harness's, which must agree. About 20 minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CONFIG = "wmdp_pydocs_del10"
LOCAL_TASKS = "wmdp_pydocs_forget_mcq,wmdp_pydocs_utility_mcq"
#: Per method, the flags of its unlearning run (tuned by hand on this task; the base recipe's lr is 5e-3).
#: RMU steers the output of the last of tiny:gpt2's two blocks (measured: the first moved forget accuracy
#: less, 0.75, at the same settings).
METHOD_FLAGS = {
    "rmu": ["--rmu_layer", "1", "--steering_coeff", "20", "--retain_weight", "10", "--learning_rate", "1e-3",
            "--num_train_epochs", "5"],
    "npo": ["--learning_rate", "1e-3", "--num_train_epochs", "5", "--retain_weight", "5"],
    "grad_diff": ["--learning_rate", "1e-3", "--num_train_epochs", "5"],
    "grad_ascent": ["--learning_rate", "5e-4", "--num_train_epochs", "3"],
}  # fmt: skip
KEYS = ("forget_mcq_accuracy", "utility_mcq_accuracy", "lm_eval/wmdp_pydocs_forget_mcq/acc",
        "lm_eval/wmdp_pydocs_utility_mcq/acc")  # fmt: skip


def run(*args: str) -> None:
    command = [str(Path(sys.executable).with_name("mubench")), *args]
    print("$ mubench " + " ".join(args), flush=True)
    subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})


def results(folder: Path) -> dict:
    return json.loads((folder / "unlearning_results.json").read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output", default="wmdp_pydocs_out", help="working folder (default wmdp_pydocs_out)"
    )
    parser.add_argument("--methods", default="rmu,npo,grad_diff,grad_ascent",
                        help=f"comma-separated methods, of {sorted(METHOD_FLAGS)}")  # fmt: skip
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHOD_FLAGS]
    if unknown:
        parser.error(f"unknown methods {unknown}; known: {sorted(METHOD_FLAGS)}")
    out = Path(args.output)
    repo, base, retrain = out / "repo", out / "base", out / "retrain"
    if not (repo / "mubench.json").is_file():
        run("build-splits", "--task", "wmdp_pydocs", "--output", str(repo), "--ratios", "10", "--order", "upstream",
            "--quiet")  # fmt: skip
    if not (base / "config.json").is_file():
        run("train-base", "--dataset", str(repo), "--task", "wmdp_pydocs", "--model", "tiny:gpt2", "--output_dir",
            str(base), "--disable_tqdm", "true")  # fmt: skip
    if not (retrain / "config.json").is_file():
        run("retrain", "--dataset", str(repo), "--config", CONFIG, "--model", str(base), "--output_dir", str(retrain),
            "--disable_tqdm", "true")  # fmt: skip
    rows = {}
    for method in methods:
        folder = out / method
        run("unlearn", "--dataset", str(repo), "--config", CONFIG, "--model", str(base), "--method", method,
            "--output_dir", str(folder), "--unlearning_report", "false", "--disable_tqdm", "true",
            *METHOD_FLAGS[method])  # fmt: skip
        run("evaluate", "--model", str(folder), "--dataset", str(repo), "--config", CONFIG, "--retrain", str(retrain),
            "--base-model", str(base), "--max-new-tokens", "16", "--lm-eval", LOCAL_TASKS)  # fmt: skip
        rows[method] = results(folder)
    first = next(iter(rows.values()))
    print(
        f"\n{'model':<12} {'forget MCQ':>10} {'utility MCQ':>11} {'forget (lm-eval)':>16} {'utility (lm-eval)':>17}"
    )
    print(
        f"{'base':<12} {first['original_forget_mcq_accuracy']:>10.3f} {first['original_utility_mcq_accuracy']:>11.3f}"
    )
    print(
        f"{'retrain':<12} {first['retrain_forget_mcq_accuracy']:>10.3f} {first['retrain_utility_mcq_accuracy']:>11.3f}"
    )
    for method, r in rows.items():
        print(f"{method:<12} " + " ".join(f"{r[k]:>{w}.3f}" for k, w in zip(KEYS, (10, 11, 16, 17))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
