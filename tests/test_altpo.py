"""AltPO (issue 23): DPO with alternate answers preferred over the forget set's true answer, plus a retain term.

* the loss equals DPO's formula worked out by hand on a few log-likelihoods, one answer shared by several
  alternates;
* on a tiny GPT-2, the trainer's first-step loss equals locuslab/open-unlearning's AltPO re-derived here on
  the same rows (peers: ``src/trainer/unlearn/dpo.py`` ``DPO.compute_loss`` and ``src/trainer/utils.py``
  ``compute_dpo_loss`` / ``compute_batch_nll``, one (alternate, answer) pair per row as its
  ``QAwithAlternateDataset`` gives them; the alternates from a file in open-unlearning's format);
* generated alternates come from the frozen original model, seeded per question, with the paper's prompt;
* a short run lowers the forget log-likelihood (toy QA), and on ``fictitious_authors_small`` (slow) the
  forget ROUGE-L; a seq2seq model trains too;
* defaults are open-unlearning's configs, hyper-parameters are CLI flags, bad values are named.
"""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
import torch.nn.functional as F
from generation_testlib import collator, qa_rows, tiny_tokenizer, tokenize_rows, toy_splits
from test_generation_methods import (
    TOL,
    batch_of,
    forget_log_likelihood,
    loss_of,
    make_trainer,
    shift_student,
)
from test_generation_methods import (
    _base as trained_base,
)

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, get_spec, list_methods
from mubench_hf.trainers.alternates import (
    CUE,
    cut_at_stops,
    generation_prompt,
    prompt_text,
    sample_alternates,
)
from mubench_hf.trainers.altpo import altpo_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# the tiny models of test_generation_methods, trained once per module (its fixtures are not shared)
@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def gpt2_base(tok, tmp_path_factory):
    return trained_base(tok, False, tmp_path_factory)


@pytest.fixture(scope="module")
def t5_base(tok, tmp_path_factory):
    return trained_base(tok, True, tmp_path_factory)


LN2, LN3 = math.log(2.0), math.log(3.0)

# Alternates for forget rows 0, 3 and 4 of toy_splits (Alma Torv's birthplace; Bruno Kell's birthplace and
# book), in open-unlearning's record format: one question with two alternates, one with a list of one,
# one under the paper repository's key.
ALTERNATES = {
    "Where was Alma Torv born?": [" Alma Torv was born in Oslo.", " Alma Torv was born in Lima."],
    "Where was Bruno Kell born?": [" Bruno Kell was born in Cork."],
    "Which book did Bruno Kell write?": [" Bruno Kell wrote Paper Tides."],
}


def write_alternates(path, as_lines: bool = True) -> str:
    records = [
        {"question": "Where was Alma Torv born?", "answer": "-", "alternate": ALTERNATES["Where was Alma Torv born?"]},
        {"question": "Where was Bruno Kell born?", "answer": "-", "alternate": ALTERNATES["Where was Bruno Kell born?"][0]},
        {"question": "Which book did Bruno Kell write?", "sub_answer": ALTERNATES["Which book did Bruno Kell write?"][0]},
    ]  # fmt: skip
    text = "\n".join(json.dumps(r) for r in records) if as_lines else json.dumps(records)
    path.write_text(text, encoding="utf-8")
    return str(path)


# ----------------------------------------------------------------------------- by hand
def test_the_loss_is_dpo_over_every_alternate_answer_pair_by_hand():
    # answer log-ratios: row 0: −4 − (−3) = −1, row 1: −2 − (−2) = 0;
    # alternate log-ratios (rows 0, 0, 1): −1 − (−1) = 0, −1 − (−1 − ln3/β) = ln3/β, −5 − (−5) = 0
    beta = 0.5
    chosen = torch.tensor([-1.0, -1.0, -5.0])
    ref_chosen = torch.tensor([-1.0, -1.0 - LN3 / beta, -5.0])
    rejected, ref_rejected = torch.tensor([-4.0, -2.0]), torch.tensor([-3.0, -2.0])
    owner = torch.tensor([0, 0, 1])
    # β·margins: β·(0 − (−1)) = ½, β·(ln3/β + 1) = ln3 + ½, 0
    margins = torch.tensor([0.5, LN3 + 0.5, 0.0])
    expected = -(2 / beta) * F.logsigmoid(margins).mean()
    loss = altpo_loss(chosen, rejected, ref_chosen, ref_rejected, owner, beta)
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)
    # equal log-ratios everywhere: each pair gives −log σ(0) = ln2, times 2/β
    flat = altpo_loss(chosen, rejected, chosen, rejected, owner, beta)
    assert float(flat) == pytest.approx(2 / beta * LN2, rel=1e-6)


def test_the_gradient_raises_the_alternate_and_lowers_the_answer():
    chosen, rejected = torch.tensor([-2.0], requires_grad=True), torch.tensor([-1.0], requires_grad=True)
    altpo_loss(
        chosen, rejected, torch.tensor([-2.0]), torch.tensor([-1.0]), torch.tensor([0]), 0.1
    ).backward()
    # at margin 0: ∂/∂chosen = −(2/β)·β·(1 − σ(0)) = −1, and +1 for the rejected answer
    assert float(chosen.grad) == pytest.approx(-1.0) and float(rejected.grad) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- open-unlearning's formula
def peer_batch_nll(model, batch) -> torch.Tensor:
    """compute_batch_nll: the summed NLL of each row's shifted labels (-100 ignored)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    nll = F.cross_entropy(
        logits[..., :-1, :].transpose(-1, -2), batch["labels"][..., 1:], ignore_index=-100, reduction="none"
    )
    return nll.sum(-1)


def peer_altpo(model, ref_model, win, lose, beta: float) -> torch.Tensor:
    """compute_dpo_loss with the alternates as win_inputs and the true answers as lose_inputs."""
    win_log_ratio = -(peer_batch_nll(model, win) - peer_batch_nll(ref_model, win))
    lose_log_ratio = -(peer_batch_nll(model, lose) - peer_batch_nll(ref_model, lose))
    return -2 / beta * F.logsigmoid(beta * (win_log_ratio - lose_log_ratio)).mean()


@pytest.mark.parametrize(
    "hyper", [dict(), dict(altpo_beta=0.5, forget_weight=0.7, retain_weight=1.3), dict(retain_weight=0.0)]
)
def test_first_step_loss_equals_open_unlearnings(tmp_path, tok, gpt2_base, hyper):
    file = write_alternates(tmp_path / "alt.jsonl")
    original = copy.deepcopy(gpt2_base)
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "altpo", altpo_alternates_file=file, **hyper
    )
    shift_student(trainer)
    splits = toy_splits(tok, False)
    rows = [0, 3, 4]
    forget, retain = batch_of(splits["forget"], tok, rows), batch_of(splits["retain"], tok, [1, 2])
    loss = loss_of(trainer, {"forget": forget, "retain": retain})
    # the peer's rows: one per (question, alternate), each with the question's true answer beside it
    pairs = [(p, c) for i, (p, c) in enumerate(qa_rows([0, 1])) if i in rows]
    question = {p: p.removeprefix("Question: ").removesuffix(" Answer:") for p, _ in pairs}
    win_rows = [(p, alt) for p, _ in pairs for alt in ALTERNATES[question[p]]]
    lose_rows = [(p, c) for p, c in pairs for _ in ALTERNATES[question[p]]]
    win = collator(tok)(list(tokenize_rows(win_rows, tok, False)))
    lose = collator(tok)(list(tokenize_rows(lose_rows, tok, False)))
    args = trainer.args
    with torch.no_grad():
        expected = args.forget_weight * peer_altpo(trainer.model, original, win, lose, args.altpo_beta)
        if args.retain_weight:
            expected = expected + args.retain_weight * trainer.model(**retain).loss  # NLL retain loss
    assert len(win_rows) == 4
    assert loss == pytest.approx(float(expected), **TOL)


def test_a_json_array_file_gives_the_same_alternates(tmp_path, tok, gpt2_base):
    splits = toy_splits(tok, False)
    forget = batch_of(splits["forget"], tok, [0, 3, 4])
    batches = []
    for name, lines in (("a.jsonl", True), ("a.json", False)):
        file = write_alternates(tmp_path / name, as_lines=lines)
        trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "altpo", altpo_alternates_file=file)
        batches.append(trainer.alternate_batch(forget))
    (first, owner), (second, owner2) = batches
    assert owner.tolist() == owner2.tolist() == [0, 0, 1, 2]
    assert all(torch.equal(first[k], second[k]) for k in ("input_ids", "labels", "attention_mask"))
    texts = [tok.decode(row[row != -100]) for row in first["labels"]]
    assert texts == [
        "Alma Torv was born in Oslo . [EOS]", "Alma Torv was born in Lima . [EOS]",
        "Bruno Kell was born in Cork . [EOS]", "Bruno Kell wrote Paper Tides . [EOS]",
    ]  # fmt: skip


# ----------------------------------------------------------------------------- generated alternates
def test_the_generation_prompt_is_the_rows_question_and_answer_then_the_instruction(tok):
    row = tokenize_rows(qa_rows([0])[:1], tok, False)[0]
    labels = torch.tensor(row["labels"])
    prompt_ids, answer_ids = row["input_ids"][: int((labels == -100).sum())], labels[labels != -100].tolist()
    text = generation_prompt(tok, prompt_ids, answer_ids, "Now make one up.", chat=False)
    assert (
        text
        == f"Question : Where was Alma Torv born ? Answer : Alma Torv was born in Riga .\nNow make one up.\n{CUE}"
    )
    chat = copy.deepcopy(tok)
    chat.chat_template = (
        "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} [EOS] {% endfor %}"
        "{% if add_generation_prompt %}assistant :{% endif %}"
    )
    rendered = chat.apply_chat_template(
        [{"role": "user", "content": qa_rows([0])[0][0]}], tokenize=False, add_generation_prompt=True
    )
    chat_ids = chat(rendered, add_special_tokens=False)["input_ids"]
    assert prompt_text(chat, chat_ids, chat=True) == "Question : Where was Alma Torv born ? Answer :"
    chat_prompt = generation_prompt(chat, chat_ids, answer_ids, "Now make one up.", chat=True)
    assert chat_prompt.startswith("user : Question : Where was Alma Torv born ? Answer : Alma Torv was born")
    assert chat_prompt.endswith("Now make one up. [EOS] assistant :" + CUE)


def test_samples_are_cut_where_a_new_question_starts():
    assert cut_at_stops(" Bruno was born in Oslo. Question: Where") == "Bruno was born in Oslo."
    assert cut_at_stops("Q: nothing") == ""


def test_generated_alternates_come_from_the_original_model_seeded_per_question(tmp_path, tok, gpt2_base):
    settings = dict(altpo_num_alternates=3, altpo_max_new_tokens=8, altpo_temperature=2.0)
    forget = batch_of(toy_splits(tok, False)["forget"], tok)
    moved = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "altpo", **settings)
    shift_student(moved)  # the student changes; θo, which writes the alternates, does not
    batch, owner = moved.alternate_batch(forget)
    assert owner.tolist() == [r for r in range(6) for _ in range(3)]
    fresh = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "altpo", **settings)
    reversed_rows = batch_of(toy_splits(tok, False)["forget"], tok, [5, 4, 3, 2, 1, 0])
    again, _ = fresh.alternate_batch(reversed_rows)  # another order: each question keeps its alternates
    assert moved.alternate_ids == fresh.alternate_ids
    assert torch.equal(again["labels"][-3:], batch["labels"][:3, : again["labels"].shape[1]])
    other = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "altpo", seed=1, **settings)
    other.alternate_batch(forget)
    assert other.alternate_ids != moved.alternate_ids  # the run's seed draws other samples
    # every alternate follows its own row's prompt and fits the 8 new tokens (+ EOS)
    prompts = forget["labels"] == -100
    for i, r in enumerate(owner.tolist()):
        n = int((batch["labels"][i] == -100).cumprod(0).sum())
        assert torch.equal(
            batch["input_ids"][i, :n], forget["input_ids"][r, :n][forget["attention_mask"][r, :n] == 1]
        )
        assert int((batch["labels"][i] != -100).sum()) <= 9
    assert prompts.any()


def test_a_prompt_longer_than_the_context_is_cut_from_the_left(tok, gpt2_base):
    long_prompt = " ".join(["Question : Where was Alma Torv born ?"] * 20) + " " + CUE  # > 64 positions
    texts = sample_alternates(
        copy.deepcopy(gpt2_base), tok, long_prompt, count=2, max_new_tokens=200, temperature=1.0, seed=0,
        chat=False, context=64,
    )  # fmt: skip
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


# ----------------------------------------------------------------------------- training
def test_quick_settings_lower_the_forget_log_likelihood(tmp_path, tok, gpt2_base):
    before = forget_log_likelihood(gpt2_base, tok, False)
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "altpo", **get_spec("altpo").quick_settings
    )
    output = trainer.train()
    assert math.isfinite(output.training_loss)
    after = forget_log_likelihood(trainer.model, tok, False)
    # measured with trainer seeds 0-2 (default and avx2 kernels alike): before −4.34, after −17.2 to −22.2
    assert after < before - 0.5, (before, after)


def test_a_seq2seq_model_trains(tmp_path, tok, t5_base):
    settings = {**get_spec("altpo").quick_settings, "max_steps": 3}
    trainer = make_trainer(tmp_path, copy.deepcopy(t5_base), tok, "altpo", encoder_decoder=True, **settings)
    output = trainer.train()
    assert output.global_step == 3 and math.isfinite(output.training_loss)
    assert forget_log_likelihood(trainer.model, tok, True) != forget_log_likelihood(t5_base, tok, True)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_altpo_lowers_forget_rouge_l_on_fictitious_authors_small(tmp_path):
    from mubench_hf.sweeps.grid import make_grid
    from mubench_hf.sweeps.runner import run_grid

    grid = make_grid(
        {"task": "fictitious_authors_small", "methods": ["altpo"], "ratios": [10], "seeds": [42],
         "output": str(tmp_path / "runs")}
    )  # fmt: skip
    result = run_grid(grid, show_progress=False, log=lambda _: None)
    assert not result.failed, [r.get("error") for r in result.failed]
    (record,) = [r for r in result.grid_records if r["method"] == "altpo"]
    metrics = record["metrics"]
    assert metrics["forget_rouge_l"] < metrics["original_forget_rouge_l"] - 0.1, metrics


# ----------------------------------------------------------------------------- declarations
def test_registered_for_generation_with_open_unlearnings_defaults(tmp_path):
    assert "altpo" in list_methods("generation") and "altpo" not in list_methods("classification")
    config = UnlearnConfig(method="altpo", output_dir=str(tmp_path), use_cpu=True)
    expected = {
        "altpo_beta": 0.1, "forget_weight": 1.0, "retain_weight": 1.0, "retain_loss": "ce",  # DPO.yaml
        "altpo_num_alternates": 5, "altpo_max_new_tokens": 200, "altpo_temperature": 1.0,  # generate.yaml
        "altpo_alternates_file": None,
    }  # fmt: skip
    assert {k: getattr(config, k) for k in expected} == expected
    assert get_spec("altpo").needs_original


def test_hyper_parameters_are_cli_flags(tmp_path):
    from transformers import HfArgumentParser

    file = write_alternates(tmp_path / "alt.jsonl")
    flags = [
        "--altpo_beta", "0.5", "--altpo_num_alternates", "3", "--altpo_max_new_tokens", "40",
        "--altpo_temperature", "0.7", "--altpo_instruction", "Make one up.", "--altpo_alternates_file", file,
        "--retain_loss", "kl", "--retain_weight", "2",
    ]  # fmt: skip
    (config,) = HfArgumentParser(get_spec("altpo").config).parse_args_into_dataclasses(
        ["--output_dir", "unused", "--use_cpu", "true", *flags]
    )
    assert config.method == "altpo"
    for name, value in zip(flags[::2], flags[1::2]):
        found = getattr(config, name.lstrip("-"))
        assert found == (value if isinstance(found, str) else type(found)(value)), name


def test_grid_unlearn_args_reach_the_config(tmp_path):
    from mubench_hf.sweeps.grid import make_grid

    grid = make_grid(
        {"task": "fictitious_authors_small", "methods": ["altpo"], "ratios": [10], "seeds": [42],
         "output": str(tmp_path), "unlearn_args": {"altpo_beta": 0.3, "altpo_temperature": 0.7}}
    )  # fmt: skip
    arguments = grid.method_arguments("altpo", "fictitious_authors_small_del10")
    config = UnlearnConfig(method="altpo", output_dir=str(tmp_path), use_cpu=True, **arguments)
    assert (config.altpo_beta, config.altpo_temperature) == (0.3, 0.7)
    assert config.altpo_num_alternates == get_spec("altpo").quick_settings["altpo_num_alternates"]


@pytest.mark.parametrize(
    "hyper, message",
    [({"altpo_beta": 0.0}, "altpo_beta must be > 0"),
     ({"altpo_num_alternates": 0}, "altpo_num_alternates and altpo_max_new_tokens must be >= 1"),
     ({"altpo_max_new_tokens": 0}, "altpo_num_alternates and altpo_max_new_tokens must be >= 1"),
     ({"altpo_temperature": -1.0}, "altpo_temperature must be > 0"),
     ({"altpo_instruction": "  "}, "altpo_instruction must not be empty"),
     ({"altpo_alternates_file": "/nonexistent/alt.jsonl"}, "altpo_alternates_file .* does not exist")],
)  # fmt: skip
def test_bad_settings_are_named(tmp_path, hyper, message):
    with pytest.raises(MubenchError, match=message):
        UnlearnConfig(method="altpo", output_dir=str(tmp_path), use_cpu=True, **hyper)


@pytest.mark.parametrize(
    "content, message",
    [("{not json", "is not JSON or JSON Lines"),
     ('{"question": "Where was Alma Torv born?"}', "expected 'question' and one of"),
     ('{"question": "Where was Alma Torv born?", "alternate": 3}', "must be a string or a list of strings"),
     ("[]", "has no records")],
)  # fmt: skip
def test_bad_alternates_files_are_named(tmp_path, tok, gpt2_base, content, message):
    file = tmp_path / "alt.jsonl"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(MubenchError, match=message):
        make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "altpo", altpo_alternates_file=str(file))


def test_a_forget_question_missing_from_the_file_is_named(tmp_path, tok, gpt2_base):
    file = write_alternates(tmp_path / "alt.jsonl")
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "altpo", altpo_alternates_file=file)
    forget = batch_of(toy_splits(tok, False)["forget"], tok, [1])  # Alma Torv's book: not in the file
    with pytest.raises(
        MubenchError, match="no alternate answers for the forget prompt .*Which book did Alma"
    ):
        trainer.alternate_batch(forget)


def test_altpo_needs_the_tokenizer(tmp_path, tok, gpt2_base):
    from generation_testlib import quiet_lm_args

    from mubench_hf.kinds import objective_for
    from mubench_hf.trainers import UnlearnTrainer

    splits = toy_splits(tok, False)
    with pytest.raises(MubenchError, match="pass processing_class"):
        UnlearnTrainer(
            model=copy.deepcopy(gpt2_base), args=UnlearnConfig(method="altpo", **quiet_lm_args(tmp_path)),
            forget_dataset=splits["forget"], retain_dataset=splits["retain"], data_collator=collator(tok),
            objective=objective_for("generation"),
        )  # fmt: skip
