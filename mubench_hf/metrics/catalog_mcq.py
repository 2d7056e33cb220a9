"""The declarations of multiple-choice accuracies: our own (the generation report's ``forget_mcq_accuracy``
and ``utility_mcq_accuracy``, WMDP's and MMLU's roles on a domain task) and the results that
lm-evaluation-harness writes into a report (``mubench evaluate --lm-eval``), under ``lm_eval/<task>/<metric>``.

Harness tasks are open-ended (any of its tasks may be asked for): the ones WMDP's evaluation uses and the
harness versions of our domain tasks' question splits are declared here, so cards and leaderboards label
them; any other ``lm_eval/...`` key is shown under its own name.
"""

from __future__ import annotations

from .declarations import MetricSpec, declare

KIND = "generation"
LM_EVAL = "lm-evaluation-harness 0.4.13 (EleutherAI), multiple_choice"
WMDP = "WMDP (Li et al., arXiv:2403.03218)"
MMLU = "MMLU (Hendrycks et al., ICLR 2021)"
ACC = f"{LM_EVAL} acc: argmax of the choices' summed log-likelihoods"
#: harness task → (readable name, the split whose role it plays): WMDP's questions about the forgotten domain,
#: MMLU's about everything else
HARNESS_TASKS = {
    "wmdp": ("WMDP (all domains)", "forget_mcq"),
    "wmdp_bio": ("WMDP-Bio", "forget_mcq"),
    "wmdp_cyber": ("WMDP-Cyber", "forget_mcq"),
    "wmdp_chem": ("WMDP-Chem", "forget_mcq"),
    "mmlu": ("MMLU", "utility_mcq"),
}
#: our domain tasks, whose question splits run in the harness as local tasks ``<task>_<split>``
DOMAIN_TASKS = ("wmdp_pydocs", "wmdp_bio", "wmdp_cyber")
MCQ_SPLITS = {"forget_mcq": "forget-domain questions", "utility_mcq": "utility questions"}


def lm_eval_key(task: str, metric: str = "acc") -> str:
    """The report key of a harness result: ``lm_eval/<task>/<metric>``."""
    return f"lm_eval/{task}/{metric}"


def _metric(name: str, split: str | None, label: str, higher_is_better: bool | None, reference: str) -> None:
    declare(MetricSpec(name=name, kind=KIND, split=split, label=label, higher_is_better=higher_is_better,
                       reference=reference))  # fmt: skip


# Forget-domain accuracy should come down to the retrained model's (chance, 25 %, for a domain it never saw),
# not below it: neither direction is better by itself.
_metric("forget_mcq_accuracy", "forget_mcq", "Forget-domain MCQ accuracy", None, f"{WMDP}: {ACC}")
_metric(
    "utility_mcq_accuracy", "utility_mcq", "Utility MCQ accuracy", True, f"{MMLU} as WMDP's utility: {ACC}"
)
for _task, (_name, _split) in HARNESS_TASKS.items():
    _metric(lm_eval_key(_task), _split, f"{_name} accuracy (lm-eval)", True if _split == "utility_mcq" else None,
            f"{WMDP if _task.startswith('wmdp') else MMLU}: {ACC}")  # fmt: skip
for _task in DOMAIN_TASKS:
    for _split, _what in MCQ_SPLITS.items():
        _metric(lm_eval_key(f"{_task}_{_split}"), _split, f"{_task} {_what} accuracy (lm-eval)",
                True if _split == "utility_mcq" else None, f"{WMDP}: {ACC}")  # fmt: skip
