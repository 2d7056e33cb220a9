"""Multiple-choice questions as prompt–completion rows, rendered the way lm-evaluation-harness renders them.

Upstream sets (WMDP's ``cais/wmdp``, MMLU's ``cais/mmlu``) hold ``question``, ``choices`` (four strings) and
``answer`` (the right choice's index). The harness scores such a set as ``output_type: multiple_choice``: the
context is the task's ``description`` followed by ``doc_to_text``; each choice's continuation is
``target_delimiter`` (a space) followed by ``doc_to_choice``'s string; the prediction is the choice whose
continuation has the highest summed log-likelihood, and ``acc`` is the share of right predictions. Two
renderings are used here, each after an installed YAML of ``lm_eval`` 0.4.13:

* ``letters`` (``lm_eval/tasks/wmdp/_default_template_yaml`` and ``mmlu/default/_default_template_yaml``):
  ``"<question>\\nA. <c0>\\nB. <c1>\\nC. <c2>\\nD. <c3>\\nAnswer:"``, choices ``A``/``B``/``C``/``D``, after the
  description ``"The following are multiple choice questions (with answers) about <subject>.\\n\\n"``;
* ``cloze`` (``mmlu/continuation/_continuation_template_yaml``): ``"Question: <question>\\nAnswer:"``, the
  choices' own texts as continuations (for small models that cannot follow the letter format);
* ``prefix``: the question text as it stands, the choices' texts as its continuations (a probe whose
  question is a document's own opening words: what a small model trained from scratch can recall).

A row keeps the rendered context as ``prompt``, the right continuation as ``completion`` (with its leading
space, as the harness appends it), every choice's continuation text without the space as ``choices`` and the
right index as ``answer``, so our scorer and the harness read the same strings
(``mubench_hf.kinds.generation.mcq``, ``mubench_hf.evaluation.harness``).
"""

from __future__ import annotations

from collections.abc import Sequence

import datasets

from ..errors import MubenchError
from ..modalities.base import ANSWER_COLUMN, CHOICES_COLUMN, COMPLETION_COLUMN, PROMPT_COLUMN

TEMPLATES = ("letters", "cloze", "prefix")
LETTERS = ("A", "B", "C", "D")
#: the harness's default ``target_delimiter``: put between the context and every continuation
TARGET_DELIMITER = " "
NO_ANSWER = -1  # the answer of a row that is no question (a corpus document)


def description_about(subject: str) -> str:
    """WMDP's and MMLU's task description for ``subject`` (``biology``, ``cybersecurity``, ``anatomy``)."""
    return f"The following are multiple choice questions (with answers) about {subject}.\n\n"


def render_question(question: str, choices: Sequence[str], template: str, description: str = "") -> str:
    """The context the harness scores the choices after (see the module docstring)."""
    if template == "letters":
        if len(choices) != len(LETTERS):
            raise MubenchError(f"a letters-template question has {len(LETTERS)} choices, got {len(choices)}")
        options = "".join(f"\n{letter}. {choice}" for letter, choice in zip(LETTERS, choices))
        return f"{description}{question.strip()}{options}\nAnswer:"
    if template == "cloze":
        return f"{description}Question: {question.strip()}\nAnswer:"
    if template == "prefix":
        return f"{description}{question}"
    raise MubenchError(f"unknown multiple-choice template {template!r}; known: {list(TEMPLATES)}")


def choice_texts(choices: Sequence[str], template: str) -> list[str]:
    """The continuations (without the delimiter) a question's choices are scored as."""
    return list(LETTERS[: len(choices)]) if template == "letters" else [str(c) for c in choices]


def mcq_rows(
    questions: Sequence[str],
    choices: Sequence[Sequence[str]],
    answers: Sequence[int],
    *,
    template: str,
    descriptions: Sequence[str] | str = "",
    where: str = "a multiple-choice set",
) -> dict[str, list]:
    """Prompt–completion rows (module docstring) of upstream-shaped questions; ``descriptions``: one for all
    rows or one per row (MMLU's differs by subject)."""
    if not (len(questions) == len(choices) == len(answers)):
        raise MubenchError(
            f"{where}: question, choices and answer columns differ in length "
            f"({len(questions)}, {len(choices)}, {len(answers)})"
        )
    per_row = [descriptions] * len(questions) if isinstance(descriptions, str) else list(descriptions)
    rows: dict[str, list] = {PROMPT_COLUMN: [], COMPLETION_COLUMN: [], CHOICES_COLUMN: [], ANSWER_COLUMN: []}
    for i, (question, options, answer) in enumerate(zip(questions, choices, answers)):
        options = list(options)
        if isinstance(answer, bool) or not 0 <= int(answer) < len(options):
            raise MubenchError(
                f"{where}: row {i} has answer {answer!r}; it must index its {len(options)} choices"
            )
        texts = choice_texts(options, template)
        rows[PROMPT_COLUMN].append(render_question(question, options, template, per_row[i]))
        rows[COMPLETION_COLUMN].append(TARGET_DELIMITER + texts[int(answer)])
        rows[CHOICES_COLUMN].append(texts)
        rows[ANSWER_COLUMN].append(int(answer))
    return rows


def mcq_dataset(rows: dict[str, list], group: int | None = None) -> datasets.Dataset:
    """``rows`` as a ``Dataset``; ``group``: the group every row gets (tasks that delete by group)."""
    if group is not None:
        rows = {**rows, "group": [group] * len(rows[PROMPT_COLUMN])}
    return datasets.Dataset.from_dict(rows)


def is_mcq_split(split: datasets.Dataset) -> bool:
    """Whether ``split`` holds multiple-choice rows (a ``choices`` and an ``answer`` column, answers set)."""
    columns = split.column_names
    if CHOICES_COLUMN not in columns or ANSWER_COLUMN not in columns or len(split) == 0:
        return False
    return all(int(a) >= 0 for a in split[ANSWER_COLUMN])
