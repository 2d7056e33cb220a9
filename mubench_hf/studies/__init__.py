"""MU-Bench's analyses as commands (``mubench study NAME``): each writes a table (CSV and Markdown) and a
figure into ``<output>/<name>/``, is resumable (its sweeps and variant cells are reused when finished),
and runs on any task (digits by default, offline).

* ``peft``: LoRA unlearning with 10/20/50 % of the parameters trainable vs full fine-tuning (:mod:`.peft`);
* ``curriculum``: SuperLoss-weighted per-sample losses vs the plain method (:mod:`.curriculum`);
* ``scalability``: deletion ratio 1 … 10 % and backbone width, metrics and unlearning time (:mod:`.scalability`);
* ``bias``: forget sets skewed toward one class vs uniform ones of the same size (:mod:`.bias`);
* ``lr-search``: each method's learning rate picked on validation only, for a grid file (:mod:`.lr_search`);
* ``hpo``: each method's declared search space searched with Optuna (TPE, pruning) in a database (:mod:`.hpo`).
"""

from __future__ import annotations

from .common import StudyOptions, StudyResult

#: study name -> (module, one-line description)
STUDIES: dict[str, tuple[str, str]] = {
    "peft": ("mubench_hf.studies.peft", "LoRA with 10/20/50 % of parameters trainable vs full fine-tuning"),
    "curriculum": ("mubench_hf.studies.curriculum", "SuperLoss curriculum weighting vs the plain method"),
    "scalability": ("mubench_hf.studies.scalability", "deletion ratio 1-10 % and model width: metrics, time"),
    "bias": ("mubench_hf.studies.bias", "forget sets skewed toward one class vs uniform at the same size"),
    "lr-search": (
        "mubench_hf.studies.lr_search",
        "each method's learning rate picked on validation, never test",
    ),
    "hpo": (
        "mubench_hf.studies.hpo",
        "Optuna search of each method's hyper-parameters on validation, in a resumable database",
    ),
}

__all__ = ["STUDIES", "StudyOptions", "StudyResult"]
