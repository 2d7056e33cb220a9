"""``wmdp_bio`` and ``wmdp_cyber``: WMDP (Li et al. 2024, "The WMDP Benchmark: Measuring and Reducing
Malicious Use With Unlearning") as domain tasks (``domain_task.py``), with MMLU as the utility set.

Upstream data (Hugging Face Hub):

* questions: ``cais/wmdp``, configs ``wmdp-bio`` / ``wmdp-cyber``, split ``test`` (columns ``question``,
  ``choices`` (four strings), ``answer`` (index)) → ``forget_mcq``, rendered as lm-evaluation-harness's
  ``wmdp/_default_template_yaml`` does (letters, description "… about biology / cybersecurity");
* utility: ``cais/mmlu``, config ``all``, split ``test`` (``question``, ``subject``, ``choices``, ``answer``) →
  ``utility_mcq``, rendered as the harness's ``mmlu/default/_default_template_yaml`` (its description names
  the subject with ``_`` read as a space);
* forget corpus: WMDP's, the text RMU unlearns on. Cyber: ``cais/wmdp-corpora`` config
  ``cyber-forget-corpus`` (public). Bio: ``cais/wmdp-bio-forget-corpus``, which is **gated**: the Hub asks
  for an access request (WMDP's authors hand it out through a form), so loading it needs an approved
  account's token in the environment, or a local copy given as source;
* retain corpus: ``cais/wmdp-corpora`` ``bio-retain-corpus`` / ``cyber-retain-corpus`` (the corpora WMDP
  publishes beside the forget ones; RMU's own script defaults to WikiText instead).

Corpora have a ``text`` column; each document becomes a prompt (its first words) and a completion (the next
:data:`DOC_WORDS` words at most). WMDP has no holdout corpus: every tenth retain document (index ≡ 9 mod 10)
is held out of train as the ``test`` split (the non-members the membership attacks compare with).

``source=`` replaces the Hub: a mapping ``{"questions": ..., "mmlu": ..., "forget_corpus": ...,
"retain_corpus": ...}`` of ``Dataset`` / ``DatasetDict`` (one split) in the upstream shape, or a folder with one
sub-folder per key (anything ``load_source`` reads). ``tests/fixtures/wmdp`` holds such a copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import datasets

from ..errors import MubenchError
from .domain_task import DomainTask, domain_splits, split_document
from .mcq import description_about, mcq_rows
from .registry import register_task
from .sources import HubSource, load_hub_source, load_source

WMDP_REPO = "cais/wmdp"
MMLU_REPO = "cais/mmlu"
CORPORA_REPO = "cais/wmdp-corpora"
BIO_FORGET_REPO = "cais/wmdp-bio-forget-corpus"  # gated on the Hub
DOC_WORDS = 400  # a corpus document's completion is cut to this many words (papers run to thousands)
HOLDOUT_EVERY = 10
SOURCE_KEYS = ("questions", "mmlu", "forget_corpus", "retain_corpus")
WMDP_CITATION = """@article{li2024wmdp,
  title   = {The WMDP Benchmark: Measuring and Reducing Malicious Use With Unlearning},
  author  = {Li, Nathaniel and Pan, Alexander and Gopal, Anjali and others},
  journal = {arXiv preprint arXiv:2403.03218},
  year    = {2024}
}"""

# domain -> (subject in the harness's description, questions config, forget corpus, retain corpus)
DOMAINS: dict[str, tuple[str, HubSource, HubSource, HubSource]] = {
    "bio": (
        "biology",
        HubSource(WMDP_REPO, config_name="wmdp-bio"),
        HubSource(BIO_FORGET_REPO),
        HubSource(CORPORA_REPO, config_name="bio-retain-corpus"),
    ),
    "cyber": (
        "cybersecurity",
        HubSource(WMDP_REPO, config_name="wmdp-cyber"),
        HubSource(CORPORA_REPO, config_name="cyber-forget-corpus"),
        HubSource(CORPORA_REPO, config_name="cyber-retain-corpus"),
    ),
}


def _one_split(value: Any, what: str, preferred: str) -> datasets.Dataset:
    if isinstance(value, datasets.Dataset):
        return value
    if isinstance(value, datasets.DatasetDict):
        if preferred in value:
            return value[preferred]
        if len(value) == 1:
            return next(iter(value.values()))
        raise MubenchError(f"{what}: expected its {preferred!r} split, found {sorted(value)}")
    raise MubenchError(f"{what} must be a Dataset or DatasetDict, not {type(value).__name__}")


def _part(source: Any, key: str, hub: HubSource, task: str, preferred: str) -> datasets.Dataset:
    what = f"task {task!r} ({key})"
    if source is None:
        gated = " (gated: request access on the Hub, then log in)" if hub.repo_id == BIO_FORGET_REPO else ""
        return _one_split(load_hub_source(hub, what + gated, "--source DIR"), what, preferred)
    if isinstance(source, Mapping):
        if key not in source:
            raise MubenchError(
                f"{what}: the source has no {key!r} entry (it has {sorted(source)}; needs {list(SOURCE_KEYS)})"
            )
        return _one_split(source[key], what, preferred)
    folder = Path(source) / key
    if not folder.exists():
        raise MubenchError(f"{what}: {Path(source)} has no {key}/ folder (needs {list(SOURCE_KEYS)})")
    return _one_split(load_source(folder, what=what), what, preferred)


def _columns(ds: datasets.Dataset, needed: tuple[str, ...], what: str) -> None:
    missing = [c for c in needed if c not in ds.column_names]
    if missing:
        raise MubenchError(
            f"{what} has no {missing} column(s) (its columns: {ds.column_names}); WMDP's shape is needed"
        )


def _documents(ds: datasets.Dataset, what: str) -> list[tuple[str, str]]:
    _columns(ds, ("text",), what)
    pairs = []
    for text in ds["text"]:
        pair = split_document(" ".join(str(text or "").split()[: DOC_WORDS + 8]))
        if pair is not None:
            pairs.append(pair)
    return pairs


def load_wmdp(domain: str, source: Any = None) -> datasets.DatasetDict:
    """The splits of ``wmdp_<domain>`` (module docstring)."""
    if domain not in DOMAINS:
        raise MubenchError(f"unknown WMDP domain {domain!r}; known: {sorted(DOMAINS)}")
    task = f"wmdp_{domain}"
    subject, questions_hub, forget_hub, retain_hub = DOMAINS[domain]
    questions = _part(source, "questions", questions_hub, task, "test")
    mmlu = _part(source, "mmlu", HubSource(MMLU_REPO, config_name="all"), task, "test")
    _columns(questions, ("question", "choices", "answer"), f"task {task!r}: the WMDP questions")
    _columns(mmlu, ("question", "subject", "choices", "answer"), f"task {task!r}: the MMLU questions")
    forget = _documents(
        _part(source, "forget_corpus", forget_hub, task, "train"), f"task {task!r}: the forget corpus"
    )
    retain_all = _documents(
        _part(source, "retain_corpus", retain_hub, task, "train"), f"task {task!r}: the retain corpus"
    )
    retain = [d for i, d in enumerate(retain_all) if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1]
    holdout = [d for i, d in enumerate(retain_all) if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]
    if not holdout:
        raise MubenchError(
            f"task {task!r}: the retain corpus needs {HOLDOUT_EVERY} documents or more (every tenth is the test split)"
        )
    forget_mcq = mcq_rows(questions["question"], questions["choices"], questions["answer"], template="letters",
                          descriptions=description_about(subject), where=f"task {task!r} (WMDP questions)")  # fmt: skip
    utility_mcq = mcq_rows(mmlu["question"], mmlu["choices"], mmlu["answer"], template="letters",
                           descriptions=[description_about(s.replace("_", " ")) for s in mmlu["subject"]],
                           where=f"task {task!r} (MMLU questions)")  # fmt: skip
    return domain_splits(forget, retain, holdout, forget_mcq, utility_mcq, task=task)


def _register(domain: str, label: str) -> DomainTask:
    return register_task(
        DomainTask(
            name=f"wmdp_{domain}",
            modality="text",
            description=f"WMDP-{label}: forget the {DOMAINS[domain][0]} hazard corpus; WMDP-{label} "
            "four-choice questions (forget) and MMLU (utility), scored as lm-eval does.",
            hub=HubSource(WMDP_REPO, config_name=f"wmdp-{domain}"),
            build=lambda source: load_wmdp(domain, source),
            recipe={
                "num_train_epochs": 1.0,
                "learning_rate": 5e-5,
                "per_device_train_batch_size": 4,
                "lr_scheduler_type": "linear",
            },  # fmt: skip
            max_length=512,
            license="mit",
            source_citation=WMDP_CITATION,
            split_note=f"WMDP-{label} questions (forget_mcq), MMLU test (utility_mcq), WMDP's {domain} forget "
            "and retain corpora (train; every tenth retain document is the test split)",
        )
    )


WMDP_BIO = _register("bio", "Bio")
WMDP_CYBER = _register("cyber", "Cyber")
