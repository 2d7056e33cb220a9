"""The declarations of MUSE's metrics (Shi et al. 2024), computed by the generation report on MUSE-shaped
tasks (``muse_news``, ``muse_books``, ``muse_manpages``): VerbMem, KnowMem on the forget and retain
documents. PrivLeak is the generation report's ``privleak`` (:mod:`.catalog_generation`), MUSE's formula
with a *measured* retrain AUC. The MUSE leaderboard section (``mubench_hf.sweeps.outputs``) lays these out
with PrivLeak; metrics declared later with a ``column`` (attacks, plugins) join it before the time.
"""

from __future__ import annotations

from .declarations import MetricSpec, declare

KIND = "generation"
MUSE = "MUSE (Shi et al., arXiv:2407.06460; swj0419/muse_bench)"

declare(
    MetricSpec(
        name="verbmem_forget", kind=KIND, split="verbmem", reads=("verbmem", "forget"),
        label="VerbMem on the forget documents (ROUGE-L F1)", higher_is_better=None,
        reference=f"{MUSE} metrics/verbmem.py: ROUGE-L F1 without stemming of greedy continuations of forget-text "
        "prefixes, against the true continuation cut to the generation budget",
        column="VerbMem",
    )
)  # fmt: skip
declare(
    MetricSpec(
        name="knowmem_forget", kind=KIND, split="knowmem", reads=("knowmem", "forget"),
        label="KnowMem on the forget documents (ROUGE-L F1)", higher_is_better=None,
        reference=f"{MUSE} metrics/knowmem.py: ROUGE-L F1 without stemming of few-shot answers (cut at the "
        "stop strings) to questions about the forget documents",
        column="KnowMem forget",
    )
)  # fmt: skip
declare(
    MetricSpec(
        name="knowmem_retain", kind=KIND, split="knowmem", reads=("knowmem", "retain"),
        label="KnowMem on the retain documents (ROUGE-L F1; MUSE's utility preservation)", higher_is_better=True,
        reference=f"{MUSE} metrics/knowmem.py on the retain QA: MUSE's utility preservation",
        column="KnowMem retain ↑",
    )
)  # fmt: skip
