"""AltPO's alternate answers: plausible answers to a forget question that contradict its true answer.

AltPO (Mekala et al., COLING 2025, arXiv 2409.13474) needs, for every forget question, a few answers that
are plausible but change the facts of the true one. Its authors sample them from the model that is about
to be unlearned, prompted with the question, the true answer and an instruction to make up another answer
(``generate.py`` of molereddy/Alternate-Preference-Optimization, copied into locuslab/open-unlearning as
``community/methods/AltPO/generate.py``), and store them in a file (``alt5_seed_0.json``: five samples per
question at temperature 1, at most 200 new tokens, text after a "Question:"/"Q:" cut off). Those files
cannot be downloaded here, so two sources are offered:

* **generated** (the default): the same procedure, run by mubench with the frozen original model θo (the
  model being unlearned, as the paper does) the first time a forget question is seen. θo never changes, and
  each question's samples are drawn from a generator seeded by the run's seed and the question's own
  tokens, so the alternates are what generating them all before training would give, whatever the order,
  the process or a resume — only computed lazily, for the questions a process actually trains on;
* **a file** (``--altpo_alternates_file``): JSON or JSON Lines records with ``question`` and ``alternate``
  (open-unlearning's format; ``sub_answer``, the paper repository's key, is read too), a string or a list,
  several records per question allowed: pre-generated alternates such as the peer's, matched to a forget
  prompt when the record's question occurs in it (whitespace ignored; the longest match wins).

The generation prompt is the forget row's own prompt and answer as the task writes them (for TOFU-shaped
tasks exactly the paper's ``Question: …\\nAnswer: …``), then the instruction (ours paraphrases the peer's
Llama-3.2 instruction; ``--altpo_instruction`` replaces it) and the cue ``Alternate Answer:``; a chat
model gets it as one user turn and the cue opens its reply. Sampling keeps the model's own generation
config (its top-k/top-p) apart from the temperature, as the peer's script does. The task's perturbed
answers are deliberately not used: TOFU's truth ratio measures the model against exactly those, so training
toward them would game the metric.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import MubenchError
from ..objectives.generation import IGNORE_INDEX, unwrap_model

INSTRUCTION = (
    "Now make something up: write a different answer to the question that keeps every detail the question "
    "gives but changes all the facts the answer above introduces, so that it is plausible yet contradicts "
    "that answer."
)
CUE = "Alternate Answer:"
STOP_STRINGS = ("Question:", "Q:")  # a sample that runs on into a new question is cut there (as the peer's)
FILE_KEYS = ("alternate", "sub_answer")


def compact(text: str) -> str:
    """``text`` without any whitespace: questions match whatever spacing a tokenizer's decoding gives."""
    return "".join(text.split())


def cut_at_stops(text: str) -> str:
    """The sample up to the first stop string, stripped."""
    for stop in STOP_STRINGS:
        text = text.split(stop)[0]
    return text.strip()


def user_turn_frame(tokenizer: Any) -> tuple[str, str]:
    """The text a chat template puts before and after a user message (generation prompt included)."""
    marker = "\u2063ALTPO\u2063"
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": marker}], tokenize=False, add_generation_prompt=True
    )
    before, _, after = rendered.partition(marker)
    return before, after


def prompt_text(tokenizer: Any, prompt_ids: Sequence[int], *, chat: bool) -> str:
    """A forget row's prompt as text; with a chat template, the user's message without the template
    (cut off at the token level where the template's own tokens frame the prompt, else in the decoded text)."""
    ids = [int(i) for i in prompt_ids]
    if not chat:
        return tokenizer.decode(ids, skip_special_tokens=True).strip()
    before, after = user_turn_frame(tokenizer)
    head = list(tokenizer(before, add_special_tokens=False)["input_ids"])
    tail = list(tokenizer(after, add_special_tokens=False)["input_ids"]) if after else []
    inner = len(ids) - len(head) - len(tail)
    if inner >= 0 and ids[: len(head)] == head and ids[len(ids) - len(tail) :] == tail:
        return tokenizer.decode(ids[len(head) : len(head) + inner], skip_special_tokens=True).strip()
    text = tokenizer.decode(ids, skip_special_tokens=False)
    if text.startswith(before) and text.endswith(after):
        return text[len(before) : len(text) - len(after)].strip()
    return tokenizer.decode(
        ids, skip_special_tokens=True
    ).strip()  # the template's special tokens at least go


def generation_prompt(
    tokenizer: Any, prompt_ids: Sequence[int], answer_ids: Sequence[int], instruction: str, *, chat: bool
) -> str:
    """What the model is asked: the row's prompt and answer, the instruction, then the cue."""
    answer = tokenizer.decode(list(answer_ids), skip_special_tokens=True).strip()
    if chat:
        message = f"{prompt_text(tokenizer, prompt_ids, chat=True)} {answer}\n{instruction}"
        rendered = tokenizer.apply_chat_template(
            [{"role": "user", "content": message}], tokenize=False, add_generation_prompt=True
        )
        return rendered + CUE
    question = tokenizer.decode(list(prompt_ids), skip_special_tokens=True).rstrip()
    return f"{question} {answer}\n{instruction}\n{CUE}"


def question_seed(prompt_ids: Sequence[int] | np.ndarray, seed: int) -> int:
    """The sampling seed of one question: the run's seed and the question's tokens."""
    return zlib.crc32(np.asarray(prompt_ids, dtype=np.int64).tobytes(), seed & 0xFFFFFFFF)


def sample_alternates(
    model: Any,
    tokenizer: Any,
    prompt: str,
    *,
    count: int,
    max_new_tokens: int,
    temperature: float,
    seed: int,
    chat: bool,
    context: int | None = None,
) -> list[str]:
    """``count`` samples of ``model`` continuing ``prompt``, each cut at a stop string (may be empty).

    With the model's ``context`` known, prompt and samples fit in it: the samples get at most
    ``max_new_tokens`` but leave the prompt at least half the context, and a longer prompt loses its start
    (the instruction and the cue, at its end, are what the model must see last).
    """
    model = unwrap_model(model)
    device = next(model.parameters()).device
    encoded = tokenizer(prompt, add_special_tokens=not chat, return_tensors="pt")
    if context is not None:
        length = min(encoded["input_ids"].shape[1], context)  # a seq2seq encoder reads up to its context
        if not model.config.is_encoder_decoder:
            max_new_tokens = min(max_new_tokens, context - min(length, context // 2))
            length = context - max_new_tokens
        encoded = {k: v[:, -length:] for k, v in encoded.items()}
    encoded = {k: v.to(device) for k, v in encoded.items()}
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    forked = [device] if device.type != "cpu" else []  # the accelerator's generator too, whichever it is
    with torch.no_grad(), torch.random.fork_rng(devices=forked, device_type=device.type):
        torch.manual_seed(seed)
        out = model.generate(
            **encoded, do_sample=True, temperature=temperature, max_new_tokens=max_new_tokens,
            num_return_sequences=count, pad_token_id=pad, use_cache=True,
        )  # fmt: skip
    if not model.config.is_encoder_decoder:
        out = out[:, encoded["input_ids"].shape[1] :]
    return [cut_at_stops(text) for text in tokenizer.batch_decode(out, skip_special_tokens=True)]


def _texts(value: Any, where: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise MubenchError(f"{where}: the alternate must be a string or a list of strings, got {value!r}")
    return [v.strip() for v in values]


def load_alternates_file(path: str | Path) -> dict[str, list[str]]:
    """Alternates by question (``compact``), from a JSON array or JSON Lines of records (module docstring)."""
    file = Path(path)
    if not file.is_file():
        raise MubenchError(f"alternates file {str(file)!r} does not exist")
    text = file.read_text(encoding="utf-8").strip()
    try:
        records = (
            json.loads(text)
            if text.startswith("[")
            else [json.loads(x) for x in text.splitlines() if x.strip()]
        )
    except json.JSONDecodeError as err:
        raise MubenchError(f"alternates file {str(file)!r} is not JSON or JSON Lines: {err}") from None
    table: dict[str, list[str]] = {}
    for i, record in enumerate(records):
        where = f"alternates file {str(file)!r}, record {i}"
        key = next((k for k in FILE_KEYS if isinstance(record, Mapping) and k in record), None)
        if key is None or not isinstance(record.get("question"), str):
            raise MubenchError(f"{where}: expected 'question' and one of {list(FILE_KEYS)}")
        table.setdefault(compact(record["question"]), []).extend(_texts(record[key], where))
    if not table:
        raise MubenchError(f"alternates file {str(file)!r} has no records")
    return table


def file_alternates(table: Mapping[str, list[str]], prompt: str, source: str) -> list[str]:
    """The alternates of the file question that occurs in ``prompt`` (the longest such question)."""
    text = compact(prompt)
    found = [q for q in table if q and q in text]
    if not found:
        raise MubenchError(f"no alternate answers for the forget prompt {prompt!r} in {source!r}")
    return table[max(found, key=len)]


def answer_tokens(batch: Mapping[str, Any]) -> list[np.ndarray]:
    """Each row's scored completion tokens (labels other than -100)."""
    labels = batch["labels"].cpu().numpy()
    return [row[row != IGNORE_INDEX] for row in labels]
