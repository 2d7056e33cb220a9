"""The rephrased probes of the paraphrase attack on the forgetting: the forget set asked again in other words.

Unlearning that only suppressed the surface form of Df (the exact question, the exact prefix) still answers
when the same thing is asked differently: TOFU scores its forget set on paraphrased questions too
(open-unlearning's ``configs/eval/tofu.yaml``: ``question_key`` may be ``paraphrased_question``, a column of
TOFU's ``forget*_perturbed`` configs), and MUSE asks its forget documents' knowledge as questions (KnowMem)
beside the verbatim prefixes (VerbMem). The probe of a row, in order of preference:

1. **upstream**: the row's own ``paraphrased_prompt`` (TOFU's ``paraphrased_question`` in the prompt's format;
   ``mubench_hf.tasks.generation_hub``) when it is not empty and the source is ``"auto"``;
2. **template**: otherwise the prompt reworded by a fixed template, drawn per row by a seeded generator
   (``numpy.random.default_rng(seed).integers`` over the rows, in their order):

   * a prompt that ends with ``Question: <q>`` then ``Answer:`` (TOFU, fictitious_authors, MUSE's few-shot
     KnowMem prompts, whose in-context examples stay as they are) keeps that scaffold, and its last question
     ``q`` is put inside one of :data:`QUESTION_TEMPLATES`;
   * any other prompt (a MUSE passage prefix, a dialogue to summarise) is preceded by one of
     :data:`TEXT_TEMPLATES`.

The templates change how the request is worded around the question, not the question's own words: they are
a weaker probe than a human paraphrase (TOFU's), which the upstream column is preferred for. The answers,
the rows and their order stay as they are, so the forget metrics of the probes are computed exactly as on Df.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ...errors import MubenchError
from ...modalities.base import PARAPHRASED_PROMPT_COLUMN, PROMPT_COLUMN

#: how the probes are chosen: "auto" (upstream paraphrase where a row has one, else a template) or
#: "templates" (always a template: the same probe for every task, comparable across them)
PROBE_SOURCES = ("auto", "templates")
#: rewordings of a question ``{question}`` (its own words kept); one is drawn per row
QUESTION_TEMPLATES = (
    "Could you tell me this: {question}",
    "I have a question for you. {question}",
    "{question} Please answer from what you know.",
    "Here is something I would like to know. {question}",
)
#: framings of a prompt that is not a question (a passage prefix, a dialogue); one is drawn per row
TEXT_TEMPLATES = (
    "Continue the following text.\n{prompt}",
    "Here is the beginning of a text.\n{prompt}",
    "Read this and carry on.\n{prompt}",
    "Please go on from here.\n{prompt}",
)
# the last question of a prompt and the answer cue after it (the cue keeps a trailing space where it has one)
_LAST_QUESTION = re.compile(
    r"Question: (?P<question>(?:(?!Question: ).)*?)(?P<gap>\s+)(?P<cue>Answer:[ ]?)\Z", re.DOTALL
)


def reworded_prompt(prompt: str, template: int) -> str:
    """``prompt`` reworded by template number ``template`` (module docstring): the last question inside one
    of :data:`QUESTION_TEMPLATES` when the prompt ends with ``Question: ...`` / ``Answer:``, else the prompt
    after one of :data:`TEXT_TEMPLATES`."""
    found = _LAST_QUESTION.search(prompt)
    if found is None:
        return TEXT_TEMPLATES[template % len(TEXT_TEMPLATES)].format(prompt=prompt)
    question = QUESTION_TEMPLATES[template % len(QUESTION_TEMPLATES)].format(question=found["question"])
    return f"{prompt[: found.start()]}Question: {question}{found['gap']}{found['cue']}"


def probe_prompts(rows: Any, seed: int, source: str = "auto") -> tuple[list[str], int]:
    """The probe prompt of every row of ``rows`` (a split with a ``prompt`` column) and how many of them are
    upstream paraphrases (the rest are templates), as the module docstring defines them."""
    if source not in PROBE_SOURCES:
        raise MubenchError(f"paraphrase_source must be one of {list(PROBE_SOURCES)}, got {source!r}")
    prompts = [str(p) for p in rows[PROMPT_COLUMN]]
    own = (
        [str(p or "") for p in rows[PARAPHRASED_PROMPT_COLUMN]]
        if source == "auto" and PARAPHRASED_PROMPT_COLUMN in rows.column_names
        else [""] * len(prompts)
    )
    drawn = np.random.default_rng(seed).integers(0, len(QUESTION_TEMPLATES), size=len(prompts))
    probes = [mine if mine else reworded_prompt(p, int(t)) for p, mine, t in zip(prompts, own, drawn)]
    return probes, sum(1 for mine in own if mine)


def probe_rows(rows: Any, seed: int, source: str = "auto") -> Any:
    """``rows`` (a ``datasets.Dataset``) with each prompt replaced by its probe (:func:`probe_prompts`);
    every other column, and the row order, unchanged."""
    probes, _ = probe_prompts(rows, seed, source)
    position = rows.column_names.index(PROMPT_COLUMN)
    out = rows.remove_columns(PROMPT_COLUMN).add_column(PROMPT_COLUMN, probes)
    order = out.column_names[:-1]
    order.insert(position, PROMPT_COLUMN)
    return out.select_columns(order)
