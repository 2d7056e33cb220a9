"""``wmdp_pydocs``: an offline, WMDP-shaped stand-in built from the documentation that ships with Python.

WMDP (Li et al. 2024) asks a model to forget a hazardous domain (biosecurity, cybersecurity) given a forget
corpus of its text, and scores it with four-choice questions about that domain, while MMLU's questions about
other subjects measure what it keeps. Here the domains are modules of the standard library, and the text is
their docstrings (``inspect.getdoc`` of every public, documented function and class, as the running
interpreter ships them; licence: PSF-2.0, the Python Software Foundation License of CPython's sources):

* forgotten domain: network and security modules (:data:`FORGET_MODULES`: ssl, hashlib, ipaddress,
  secrets, http.client, smtplib, ftplib): the forget corpus and the ``forget_mcq`` questions;
* kept domain: other modules (:data:`KEPT_MODULES`): the retain corpus and the ``utility_mcq`` questions;
* holdout: modules no model trains on (:data:`HOLDOUT_MODULES`): the ``test`` corpus (non-members).

A document is one object: prompt ``"<module>.<name>:"``, completion its docstring (whitespace collapsed, at
most :data:`MAX_DOC_WORDS` words). A question is WMDP-shaped (``question``, four ``choices``, ``answer``): its
question is the document's own prompt ``"<module>.<name>:"``, its choices the first sentences of that
object's docstring and of three others of the same module (drawn with ``numpy.random.default_rng(seed)``;
their order shuffled with the same generator), rendered in the ``prefix`` form (``tasks/mcq.py``) and
scored as lm-evaluation-harness scores a ``multiple_choice`` task.

The probe is made easy on purpose, and honestly so: it uses the corpus's own wording. A tiny model trained
from scratch cannot answer letter-format questions, and does not carry what it learnt over to a reworded
question either (measured on tiny:gpt2 trained with the task's recipe: 0.37 on the forget questions asked
as ``"Question: What does <module>.<name> do?\\nAnswer:"``, barely above the 0.25 of chance, against 0.87
with the document's prompt). What it can know is the corpus itself, and that is what unlearning must remove.

The content follows the interpreter's version (docstrings change between Python releases): a deletion repo's
manifest hash tells two copies apart. Objects whose first sentence is shorter than :data:`MIN_SENTENCE_WORDS`
words, repeats another's in its module or names its own object are left out (the question would be
answered without knowing the corpus).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Sequence

import datasets
import numpy as np

from ..errors import MubenchError
from .domain_task import DomainTask, domain_splits
from .mcq import mcq_rows
from .registry import register_task

FORGET_MODULES = ("ssl", "hashlib", "ipaddress", "secrets", "http.client", "smtplib", "ftplib")
KEPT_MODULES = ("json", "collections", "functools", "textwrap", "difflib", "heapq", "csv", "argparse", "re")
HOLDOUT_MODULES = ("base64", "calendar", "datetime", "random")
MAX_DOC_WORDS = 16
MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_WORDS = 24
NUM_CHOICES = 4
DEFAULT_SEED = 2024
QUESTION = "{name}:"  # the document's own prompt (module docstring)
#: base and retrain models: ~300 short documents want many passes before a tiny LM recalls them
PYDOCS_RECIPE = dict(num_train_epochs=40.0, learning_rate=5e-3, per_device_train_batch_size=32, warmup_steps=20,
                     lr_scheduler_type="linear")  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# "name(args) -> result " before the first capitalised word: the signature line of a C function's docstring
_SIGNATURE = re.compile(r"^[\w.]+\([^)]*\)(\s*->\s*[^A-Z]*?)?\s+(?=[A-Z])")


def _documented(module_name: str) -> list[tuple[str, str]]:
    """(qualified name, docstring) of the module's public functions and classes, in name order."""
    module = importlib.import_module(module_name)
    root = module_name.split(".")[0]
    out = []
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or not (inspect.isroutine(obj) or inspect.isclass(obj)):
            continue
        # defined here (or in its C accelerator, _socket for socket), not re-exported from elsewhere
        home = getattr(obj, "__module__", None) or ""
        if home.lstrip("_").split(".")[0] != root:
            continue
        doc = inspect.getdoc(obj)
        if doc:
            out.append((f"{module_name}.{name}", " ".join(doc.split())))
    return out


def first_sentence(doc: str) -> str:
    """A docstring's first sentence (at most :data:`MAX_SENTENCE_WORDS` words), without the call signature
    that C functions' docstrings open with (``"close(integer) -> None Close ..."``): a choice must not name
    its object."""
    doc = _SIGNATURE.sub("", doc, count=1)
    sentence = _SENTENCE_END.split(doc, maxsplit=1)[0]
    return " ".join(sentence.split()[:MAX_SENTENCE_WORDS])


def module_documents(module_name: str) -> list[tuple[str, str, str]]:
    """(name, docstring cut to :data:`MAX_DOC_WORDS` words, first sentence) of every usable object."""
    docs, seen = [], set()
    for name, doc in _documented(module_name):
        sentence = first_sentence(doc)
        short = name.rsplit(".", 1)[-1]
        # too short to tell apart, a repeat, or naming its own object (a namedtuple's generated docstring)
        if len(sentence.split()) < MIN_SENTENCE_WORDS or sentence in seen or short in sentence:
            continue
        seen.add(sentence)
        docs.append((name, " ".join(doc.split()[:MAX_DOC_WORDS]), sentence))
    return docs


def _questions(modules: Sequence[str], rng: np.random.Generator) -> dict[str, list]:
    questions, choices, answers = [], [], []
    for module in modules:
        docs = module_documents(module)
        if len(docs) < NUM_CHOICES:
            raise MubenchError(
                f"wmdp_pydocs: module {module} documents {len(docs)} objects, fewer than {NUM_CHOICES}"
            )
        for i, (name, _, sentence) in enumerate(docs):
            others = rng.choice([j for j in range(len(docs)) if j != i], size=NUM_CHOICES - 1, replace=False)
            options = [sentence, *(docs[int(j)][2] for j in others)]
            order = rng.permutation(NUM_CHOICES)
            questions.append(QUESTION.format(name=name))
            choices.append([options[int(k)] for k in order])
            answers.append(int(np.flatnonzero(order == 0)[0]))
    return {"question": questions, "choices": choices, "answer": answers}


def pydocs_questions(modules: Sequence[str], seed: int = DEFAULT_SEED) -> datasets.Dataset:
    """WMDP-shaped questions (``question``, ``choices``, ``answer``) about ``modules`` (module docstring)."""
    return datasets.Dataset.from_dict(_questions(modules, np.random.default_rng(seed)))


def _corpus(modules: Sequence[str]) -> list[tuple[str, str]]:
    return [(f"{name}:", " " + doc) for module in modules for name, doc, _ in module_documents(module)]


def make_pydocs(seed: int = DEFAULT_SEED) -> datasets.DatasetDict:
    """The splits of ``wmdp_pydocs`` (module docstring); the same interpreter and seed give the same rows."""
    rng = np.random.default_rng(seed)
    forget_q, kept_q = _questions(FORGET_MODULES, rng), _questions(KEPT_MODULES, rng)
    where = "wmdp_pydocs"
    return domain_splits(
        _corpus(FORGET_MODULES),
        _corpus(KEPT_MODULES),
        _corpus(HOLDOUT_MODULES),
        mcq_rows(
            forget_q["question"], forget_q["choices"], forget_q["answer"], template="prefix", where=where
        ),
        mcq_rows(kept_q["question"], kept_q["choices"], kept_q["answer"], template="prefix", where=where),
        task=where,
    )


def _build(source: object = None) -> datasets.DatasetDict:
    if source is not None:
        from .sources import load_source

        return load_source(source, what="source for task 'wmdp_pydocs'")
    return make_pydocs()


WMDP_PYDOCS = register_task(
    DomainTask(
        name="wmdp_pydocs",
        modality="text",
        description=(
            "WMDP-shaped, offline: forget the docstrings of Python's network/security modules (socket, ssl, "
            "hashlib ...), keep other stdlib modules'; four-choice questions about each domain."
        ),
        build=_build,
        recipe=PYDOCS_RECIPE,
        license="psf-2.0",
        source_citation="Python's standard library docstrings (inspect.getdoc), PSF License; "
        "shaped after WMDP (Li et al., arXiv:2403.03218)",
        split_note="forget corpus = network/security modules' docstrings, retain = other modules', "
        "test = held-out modules'; forget_mcq / utility_mcq questions",
    )
)
