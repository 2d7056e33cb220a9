"""The generation objective and the LLM unlearning methods on tiny GPT-2 and T5 models built from configs.

* the objective's values equal a log-softmax/gather computed by hand, with -100 masking, for a causal
  and a seq2seq model (and Hugging Face's own loss);
* each new method's loss (idk, idk_dpo, rmu, undial) equals its formula written out in torch on a
  fixed batch, with the student moved away from θo after the trainer is built;
* a short ``train()`` of every generation method lowers the forget log-likelihood and stays finite;
  the classification methods that apply run unchanged through a seq2seq model too;
* resuming from a checkpoint gives the weights of an uninterrupted run;
* methods refuse a task kind they do not apply to, naming the methods that do.
"""

from __future__ import annotations

import copy
import math

import datasets
import pytest
import torch
from generation_testlib import (
    collator,
    qa_rows,
    quiet_lm_args,
    tiny_gpt2,
    tiny_t5,
    tiny_tokenizer,
    tokenize_rows,
    toy_splits,
)
from trainer_testlib import linear_rows, quiet_args, tiny_linear
from transformers import Trainer, TrainingArguments

from mubench_hf.errors import MubenchError
from mubench_hf.kinds import objective_for
from mubench_hf.objectives import GenerationObjective
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer, get_spec, list_methods
from mubench_hf.trainers.refusals import REFUSALS, load_refusals, refusal_index

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NEW_METHODS = ["idk", "idk_dpo", "rmu", "undial"]
GENERATION_METHODS = [
    "grad_ascent", "grad_diff", "npo", "simnpo", "finetune", "scrub", "bad_teaching", *NEW_METHODS,
]  # fmt: skip
TOL = dict(rel=1e-5, abs=1e-5)  # float32: measured differences ≤ 2.5e-7 relative (avx2 and default kernels)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def _base(tok, encoder_decoder: bool, tmp_path_factory) -> torch.nn.Module:
    """A tiny model trained on every toy row (so the forget rows are learned before unlearning)."""
    splits = toy_splits(tok, encoder_decoder)
    model = (tiny_t5 if encoder_decoder else tiny_gpt2)(len(tok))
    rows = datasets.concatenate_datasets([splits["forget"], splits["retain"]])
    args = TrainingArguments(
        str(tmp_path_factory.mktemp("base")), use_cpu=True, report_to="none", disable_tqdm=True,
        save_strategy="no", logging_strategy="no", learning_rate=1e-2, max_steps=60,
        per_device_train_batch_size=6, seed=0,
    )  # fmt: skip
    torch.set_num_threads(1)
    Trainer(model=model, args=args, train_dataset=rows, data_collator=collator(tok)).train()
    return model.eval()


@pytest.fixture(scope="module")
def gpt2_base(tok, tmp_path_factory):
    return _base(tok, False, tmp_path_factory)


@pytest.fixture(scope="module")
def t5_base(tok, tmp_path_factory):
    return _base(tok, True, tmp_path_factory)


def batch_of(dataset: datasets.Dataset, tok, rows: list[int] | None = None) -> dict[str, torch.Tensor]:
    rows = list(range(len(dataset))) if rows is None else rows
    return collator(tok)([dataset[i] for i in rows])


def make_trainer(tmp_path, model, tok, method: str, encoder_decoder: bool = False, **hyper) -> UnlearnTrainer:
    splits = toy_splits(tok, encoder_decoder)
    return UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method=method, **quiet_lm_args(tmp_path, **hyper)),
        forget_dataset=splits["forget"],
        retain_dataset=splits["retain"],
        processing_class=tok,
        data_collator=collator(tok),
        objective=objective_for("generation"),
    )


def shift_student(trainer: UnlearnTrainer) -> None:
    """Move the student away from θo (the frozen copies keep θo), so teacher and student differ."""
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    trainer.model.train()
    trainer.model.config.use_cache = False


def loss_of(trainer: UnlearnTrainer, inputs) -> float:
    return float(trainer.compute_loss(trainer.model, inputs).detach())


# ----------------------------------------------------------------------------- hand-written math
def row_token_log_probs(logits: torch.Tensor, labels: torch.Tensor, causal: bool) -> list[torch.Tensor]:
    """Per row: log p(target token) of its scored tokens, by log-softmax and gather on one row at a time."""
    out = []
    for z, y in zip(logits, labels):
        if causal:
            z, y = z[:-1], y[1:]
        keep = y != -100
        log_p = torch.log_softmax(z[keep], dim=-1)
        out.append(log_p[torch.arange(int(keep.sum())), y[keep]])
    return out


def model_logits(model, batch, causal: bool) -> torch.Tensor:
    if causal:
        return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return model(**batch).logits  # seq2seq: Hugging Face shifts the labels into decoder inputs itself


def seq_log_prob(model, prompt: list[int], completion: list[int]) -> torch.Tensor:
    """Σ log p(completion | prompt) of one unpadded causal sequence."""
    ids = torch.tensor([prompt + completion])
    log_p = torch.log_softmax(model(input_ids=ids).logits[0, :-1], dim=-1)
    targets = torch.tensor(prompt[1:] + completion)
    return log_p[torch.arange(len(targets)), targets][len(prompt) - 1 :].sum()


def mean_token_nll(model, pairs: list[tuple[list[int], list[int]]]) -> torch.Tensor:
    """Σ over rows of −log p(completion | prompt), divided by the number of completion tokens."""
    total = sum(-seq_log_prob(model, p, c) for p, c in pairs)
    return total / sum(len(c) for _, c in pairs)


def rows_as_pairs(dataset: datasets.Dataset) -> list[tuple[list[int], list[int]]]:
    pairs = []
    for row in dataset:
        n = sum(1 for y in row["labels"] if y == -100)
        pairs.append((row["input_ids"][:n], row["input_ids"][n:]))
    return pairs


# ----------------------------------------------------------------------------- the objective
@pytest.mark.parametrize("encoder_decoder", [False, True], ids=["causal", "seq2seq"])
def test_objective_equals_log_softmax_and_gather_with_masking(tok, encoder_decoder):
    model = (tiny_t5 if encoder_decoder else tiny_gpt2)(len(tok), seed=3).eval()
    dataset = toy_splits(tok, encoder_decoder)["forget"]
    batch = batch_of(dataset, tok)  # rows of different lengths: padding in input_ids and labels
    assert (batch["labels"] == -100).any()
    objective = objective_for("generation")
    with torch.no_grad():
        logits = objective.outputs(model, batch)
        expected_logits = model_logits(model, batch, not encoder_decoder)
        hf_loss = model(**batch).loss
    assert objective.is_encoder_decoder is encoder_decoder
    assert torch.allclose(logits, expected_logits, atol=1e-6)
    per_token = row_token_log_probs(logits, batch["labels"], causal=not encoder_decoder)
    lengths = torch.tensor([len(t) for t in per_token], dtype=torch.float)
    sums = torch.stack([t.sum() for t in per_token])
    assert objective.log_likelihood(logits, batch).tolist() == pytest.approx(sums.tolist(), **TOL)
    assert objective.target_length(batch).tolist() == lengths.tolist()
    assert len(set(lengths.tolist())) > 1  # completions of different lengths
    assert objective.per_sample_loss(logits, batch).tolist() == pytest.approx(
        (-sums / lengths).tolist(), **TOL
    )
    token_mean = -torch.cat(per_token).sum() / lengths.sum()
    assert float(objective.loss(logits, batch)) == pytest.approx(float(token_mean), **TOL)
    assert float(objective.loss(logits, batch)) == pytest.approx(float(hf_loss), **TOL)  # HF's own loss

    log_probs, mask = objective.output_log_probs(logits, batch, temperature=2.0)
    assert mask.sum(-1).tolist() == lengths.tolist()
    z = logits[:, :-1] if not encoder_decoder else logits
    m = mask[:, :-1] if not encoder_decoder else mask
    assert torch.allclose(log_probs[:, : z.shape[1]][m], torch.log_softmax(z[m] / 2.0, dim=-1), atol=1e-6)
    one_hot = objective.target_one_hot(logits, batch)
    assert int(one_hot.sum()) == int(lengths.sum()) and not one_hot[~mask].any()
    picked = log_probs.masked_select(one_hot).view(-1)
    assert torch.allclose(picked, torch.log_softmax(logits.float() / 2.0, -1)[one_hot], atol=1e-6)

    # KL(teacher ‖ student) over the completion positions only, mean over them
    teacher = logits + torch.randn(logits.shape, generator=torch.Generator().manual_seed(1))
    p, q = torch.log_softmax(teacher[mask] / 2.0, -1), torch.log_softmax(logits[mask] / 2.0, -1)
    expected_kl = (p.exp() * (p - q)).sum(-1).mean()
    assert float(objective.kl_to_teacher(logits, teacher, batch, 2.0)) == pytest.approx(
        float(expected_kl), **TOL
    )
    assert float(objective.kl_to_distribution(logits, torch.softmax(teacher / 2.0, -1), batch, 2.0)) == (
        pytest.approx(float(expected_kl), **TOL)
    )


def test_one_forward_over_padded_halves_equals_each_half_alone(tok):
    model = tiny_gpt2(len(tok), seed=3).eval()
    splits = toy_splits(tok, False)
    lengths = [len(ids) for ids in splits["retain"]["input_ids"]]
    shortest, longest = lengths.index(min(lengths)), lengths.index(max(lengths))
    short = batch_of(splits["retain"], tok, [shortest])
    long = batch_of(splits["retain"], tok, [longest, shortest])  # padded on the right inside too
    assert short["input_ids"].shape[1] != long["input_ids"].shape[1]
    objective = GenerationObjective()
    with torch.no_grad():
        a, b = objective.pair_outputs(model, {"forget": short, "retain": long})
        alone_a, alone_b = objective.outputs(model, short), objective.outputs(model, long)
    assert a.shape == alone_a.shape and b.shape == alone_b.shape
    assert torch.allclose(a, alone_a, atol=1e-5) and torch.allclose(b, alone_b, atol=1e-5)


def test_the_objective_serves_one_architecture(tok):
    objective = GenerationObjective()
    objective.outputs(tiny_gpt2(len(tok)), batch_of(toy_splits(tok, False)["forget"], tok, [0]))
    with pytest.raises(MubenchError, match="serves a causal LM but was given a sequence-to-sequence one"):
        objective.outputs(tiny_t5(len(tok)), batch_of(toy_splits(tok, True)["forget"], tok, [0]))


# ----------------------------------------------------------------------------- refusals
def test_refusals_are_varied_seeded_and_fixed_per_question(tmp_path, tok):
    prompts = [tok(p, add_special_tokens=False)["input_ids"] for p, _ in qa_rows(list(range(6)))]
    picks = [refusal_index(p, 0, len(REFUSALS)) for p in prompts]
    assert picks == [refusal_index(p, 0, len(REFUSALS)) for p in prompts]  # same seed, same choice
    assert len(set(picks)) >= 6  # 18 questions get varied refusals
    assert picks != [refusal_index(p, 1, len(REFUSALS)) for p in prompts]  # the seed matters
    assert len(set(REFUSALS)) == len(REFUSALS) >= 20
    own = tmp_path / "refusals.txt"
    own.write_text("No comment.\n\nPass.\n")
    assert load_refusals(own) == ("No comment.", "Pass.")
    with pytest.raises(MubenchError, match="does not exist"):
        load_refusals(tmp_path / "missing.txt")


# ----------------------------------------------------------------------------- each method's loss
def refusal_pairs(trainer, dataset) -> list[tuple[list[int], list[int]]]:
    """(prompt, refusal tokens) per forget row, written out from the shipped list."""
    pairs = []
    for prompt, _ in rows_as_pairs(dataset):
        text = REFUSALS[refusal_index(prompt, trainer.args.seed, len(REFUSALS))]
        pairs.append((prompt, tok_ids(trainer.processing_class, " " + text)))
    return pairs


def tok_ids(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]


def test_idk_is_nll_of_the_refusal_plus_nll_of_retain(tmp_path, tok, gpt2_base):
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "idk", forget_weight=0.7, retain_weight=1.3
    )
    shift_student(trainer)
    splits = toy_splits(tok, False)
    inputs = {
        "forget": batch_of(splits["forget"], tok, [0, 1, 2]),
        "retain": batch_of(splits["retain"], tok, [0, 5]),
    }
    forget_rows = splits["forget"].select([0, 1, 2])
    retain_rows = splits["retain"].select([0, 5])
    with torch.no_grad():
        expected = 0.7 * mean_token_nll(trainer.model, refusal_pairs(trainer, forget_rows))
        expected += 1.3 * mean_token_nll(trainer.model, rows_as_pairs(retain_rows))
    assert loss_of(trainer, inputs) == pytest.approx(float(expected), **TOL)


def test_idk_dpo_prefers_the_refusal_against_the_frozen_original(tmp_path, tok, gpt2_base):
    original = copy.deepcopy(gpt2_base)
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "idk_dpo", dpo_beta=0.5, retain_weight=0.8
    )
    shift_student(trainer)
    splits = toy_splits(tok, False)
    inputs = {
        "forget": batch_of(splits["forget"], tok, [0, 3]),
        "retain": batch_of(splits["retain"], tok, [2]),
    }
    forget_rows = splits["forget"].select([0, 3])
    with torch.no_grad():
        margins = []
        for (p, refusal), (_, answer) in zip(refusal_pairs(trainer, forget_rows), rows_as_pairs(forget_rows)):
            win = seq_log_prob(trainer.model, p, refusal) - seq_log_prob(original, p, refusal)
            lose = seq_log_prob(trainer.model, p, answer) - seq_log_prob(original, p, answer)
            margins.append(win - lose)
        # −(2/β)·log σ(β·m) = (2/β)·log(1 + exp(−β·m))
        dpo = torch.stack([(2 / 0.5) * torch.log1p(torch.exp(-0.5 * m)) for m in margins]).mean()
        expected = dpo + 0.8 * mean_token_nll(trainer.model, rows_as_pairs(splits["retain"].select([2])))
    assert loss_of(trainer, inputs) == pytest.approx(float(expected), **TOL)
    assert trainer.original_model is not None and not trainer.original_model.training
    # at θ = θo the DPO term is (2/β)·log 2 for any β
    fresh = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "idk_dpo", dpo_beta=0.5, retain_weight=0.0)
    assert loss_of(fresh, inputs) == pytest.approx(4 * math.log(2), **TOL)


def test_rmu_steers_the_layer_toward_c_u_and_keeps_retain_at_the_original(tmp_path, tok, gpt2_base):
    original = copy.deepcopy(gpt2_base)
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "rmu", rmu_layer=0, steering_coeff=5.0, retain_weight=3.0
    )
    assert trainer.module_name == "transformer.h.0"
    shift_student(trainer)
    splits = toy_splits(tok, False)
    forget, retain = batch_of(splits["forget"], tok, [0, 1, 4]), batch_of(splits["retain"], tok, [3, 7])
    loss = loss_of(trainer, {"forget": forget, "retain": retain})
    u = trainer.control_vector
    assert float(u.norm()) == pytest.approx(5.0, rel=1e-6) and bool((u >= 0).all())

    def hidden(model, batch):  # hidden_states[1]: the output of block 0
        out = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True
        )
        return out.hidden_states[1]

    def masked(diff_sq, batch):  # mean over d, mean over completion tokens of a row, mean over rows
        keep = (batch["labels"] != -100).float()
        return ((diff_sq.mean(-1) * keep).sum(-1) / keep.sum(-1)).mean()

    with torch.no_grad():
        forget_term = masked((hidden(trainer.model, forget) - u) ** 2, forget)
        retain_term = masked((hidden(trainer.model, retain) - hidden(original, retain)) ** 2, retain)
    assert loss == pytest.approx(float(forget_term + 3.0 * retain_term), **TOL)
    again = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "rmu", rmu_layer=0, steering_coeff=5.0)
    again.compute_loss(again.model, {"forget": forget, "retain": retain})
    assert torch.equal(again.control_vector, u)  # seeded: the same target in every run with this seed


def test_undial_distils_the_original_with_the_target_token_lowered(tmp_path, tok, gpt2_base):
    original = copy.deepcopy(gpt2_base)
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "undial", undial_gamma=4.0)
    assert trainer.args.retain_weight == 0.0  # open-unlearning's UNDIAL: no retain term by default
    shift_student(trainer)
    splits = toy_splits(tok, False)
    forget = batch_of(splits["forget"], tok, [1, 2, 5])
    loss = loss_of(trainer, {"forget": forget, "retain": batch_of(splits["retain"], tok, [0])})
    with torch.no_grad():
        terms = []
        for row in range(3):
            ids, labels = forget["input_ids"][row], forget["labels"][row]
            keep = labels[1:] != -100
            teacher = original(input_ids=ids[None]).logits[0, :-1][keep]
            student = trainer.model(input_ids=ids[None]).logits[0, :-1][keep]
            target = labels[1:][keep]
            teacher[torch.arange(len(target)), target] -= 4.0
            p = torch.softmax(teacher, -1)
            terms.append((p * (torch.log(p) - torch.log_softmax(student, -1))).sum(-1))
        expected = torch.cat(terms).mean()
    assert loss == pytest.approx(float(expected), **TOL)


# ----------------------------------------------------------------------------- training
def forget_log_likelihood(model, tok, encoder_decoder: bool) -> float:
    dataset = toy_splits(tok, encoder_decoder)["forget"]
    batch, objective = batch_of(dataset, tok), GenerationObjective()
    model.eval()
    with torch.no_grad():
        return float(objective.log_likelihood(objective.outputs(model, batch), batch).mean())


@pytest.mark.parametrize("method", GENERATION_METHODS)
def test_a_short_run_lowers_the_forget_log_likelihood_and_stays_finite(tmp_path, tok, gpt2_base, method):
    before = forget_log_likelihood(gpt2_base, tok, False)
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, method, **get_spec(method).quick_settings)
    output = trainer.train()
    assert math.isfinite(output.training_loss)
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    after = forget_log_likelihood(trainer.model, tok, False)
    # measured over seeds 0-2, avx2 and default kernels: before −4.3 to −5.0; drops from 0.89 (grad_ascent)
    # to 24.6 (idk_dpo, lr 2e-3 and β 0.05)
    assert after < before - 0.5, (method, before, after)


@pytest.mark.parametrize("method", GENERATION_METHODS)
def test_every_generation_method_runs_through_a_seq2seq_model(tmp_path, tok, t5_base, method):
    settings = {**get_spec(method).quick_settings, "max_steps": 3}
    settings.pop("num_train_epochs", None)
    trainer = make_trainer(tmp_path, copy.deepcopy(t5_base), tok, method, encoder_decoder=True, **settings)
    output = trainer.train()
    assert output.global_step == 3 and math.isfinite(output.training_loss)
    assert forget_log_likelihood(trainer.model, tok, True) != forget_log_likelihood(t5_base, tok, True)


def test_rmu_trains_only_the_parameters_it_is_told_to(tmp_path, tok, gpt2_base):
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "rmu", rmu_layer=1,
        rmu_trainable_params=r"transformer\.h\.1\.mlp\..*", learning_rate=1e-2, max_steps=3,
    )  # fmt: skip
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.train()
    changed = {k for k, v in trainer.model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(k.startswith("transformer.h.1.mlp.") for k in changed)


@pytest.mark.parametrize("method", ["idk", "rmu"])
def test_resuming_from_a_checkpoint_gives_the_uninterrupted_weights(tmp_path, tok, gpt2_base, method):
    settings = dict(max_steps=6, learning_rate=1e-3, per_device_train_batch_size=2)
    if method == "rmu":
        settings["rmu_layer"] = 1
    straight = make_trainer(tmp_path / "a", copy.deepcopy(gpt2_base), tok, method, **settings)
    straight.train()
    saving = make_trainer(
        tmp_path / "b", copy.deepcopy(gpt2_base), tok, method, save_strategy="steps", save_steps=3, **settings
    )
    saving.train()
    resumed = make_trainer(tmp_path / "b", copy.deepcopy(gpt2_base), tok, method, **settings)
    resumed.train(resume_from_checkpoint=str(tmp_path / "b" / "checkpoint-3"))
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name


# ----------------------------------------------------------------------------- bad input
def test_generation_methods_refuse_classification_tasks_naming_those_that_apply(tmp_path):
    with pytest.raises(MubenchError) as info:
        UnlearnTrainer(
            model=tiny_linear(),
            args=UnlearnConfig(method="rmu", **quiet_args(tmp_path)),
            forget_dataset=linear_rows(6, seed=1),
            retain_dataset=linear_rows(10, seed=2),
        )
    message = str(info.value)
    assert "method 'rmu' does not apply to classification tasks" in message
    assert "salun" in message and "grad_ascent" in message and "idk" not in message


def test_classification_methods_refuse_generation_tasks_naming_those_that_apply(tmp_path, tok, gpt2_base):
    with pytest.raises(MubenchError) as info:
        make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "salun")
    message = str(info.value)
    assert "method 'salun' does not apply to generation tasks" in message
    assert all(name in message for name in NEW_METHODS) and "random_label" not in message
    assert set(NEW_METHODS) <= set(list_methods("generation"))
    assert not set(NEW_METHODS) & set(list_methods("classification"))


@pytest.mark.parametrize(
    ("method", "hyper", "message"),
    [
        (
            "rmu",
            {"rmu_layer": 7},
            r"rmu_layer 7 is out of range: GPT2LMHeadModel has 2 layers \(transformer\.h\.0",
        ),
        ("rmu", {"rmu_module": r"nothing\.here"}, "must match exactly one module name, it matches 0"),
        ("rmu", {"rmu_layer": 0, "rmu_trainable_params": "nope"}, "matches no trainable parameter"),
        ("rmu", {"rmu_trainable_params": "("}, "rmu_trainable_params is not a regular expression"),
        ("rmu", {"steering_coeff": 0.0}, "steering_coeff must be > 0"),
        ("idk_dpo", {"dpo_beta": 0.0}, "dpo_beta must be > 0"),
        ("undial", {"undial_gamma": -1.0}, "undial_gamma must be >= 0"),
    ],
)
def test_bad_hyper_parameters_are_named(tmp_path, tok, gpt2_base, method, hyper, message):
    with pytest.raises(MubenchError, match=message):
        make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, method, **hyper)


def test_idk_needs_the_tokenizer(tmp_path, tok, gpt2_base):
    splits = toy_splits(tok, False)
    with pytest.raises(MubenchError, match="pass processing_class=<the model's tokenizer>"):
        UnlearnTrainer(
            model=copy.deepcopy(gpt2_base),
            args=UnlearnConfig(method="idk", **quiet_lm_args(tmp_path)),
            forget_dataset=splits["forget"],
            retain_dataset=splits["retain"],
            data_collator=collator(tok),
            objective=objective_for("generation"),
        )


def test_seq2seq_refusal_batch_keeps_the_prompt_and_replaces_the_labels(tmp_path, tok, t5_base):
    trainer = make_trainer(tmp_path, copy.deepcopy(t5_base), tok, "idk", encoder_decoder=True)
    forget = tokenize_rows(qa_rows([0]), tok, True)
    batch = batch_of(forget, tok)
    swapped = trainer.refusal_batch(batch)
    assert torch.equal(swapped["input_ids"], batch["input_ids"])
    for row in range(len(forget)):
        prompt = forget[row]["input_ids"]
        text = REFUSALS[refusal_index(prompt, 0, len(REFUSALS))]
        want = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        got = [t for t in swapped["labels"][row].tolist() if t != -100]
        assert got == want
    loss = loss_of(trainer, {"forget": batch, "retain": batch_of(toy_splits(tok, True)["retain"], tok, [0])})
    assert math.isfinite(loss) and loss > 0


def test_the_new_methods_hyper_parameters_are_cli_flags():
    from transformers import HfArgumentParser

    argv = {
        "idk": ["--idk_prefix", "", "--forget_weight", "0.5"],
        "idk_dpo": ["--dpo_beta", "0.25", "--retain_loss", "kl"],
        "rmu": ["--rmu_layer", "3", "--rmu_module", r"model\.layers\.3", "--steering_coeff", "6.5",
                "--retain_weight", "1200", "--rmu_trainable_params", r"model\.layers\.(1|2|3)\.mlp\..*"],
        "undial": ["--undial_gamma", "3", "--retain_weight", "0.5"],
    }  # fmt: skip
    for method, flags in argv.items():
        (config,) = HfArgumentParser(get_spec(method).config).parse_args_into_dataclasses(
            ["--output_dir", "unused", "--use_cpu", "true", *flags]
        )
        assert config.method == method
        for name, value in zip(flags[::2], flags[1::2]):
            field = getattr(config, name.lstrip("-"))
            assert field == (type(field)(value) if not isinstance(field, str) else value), name


def test_the_defaults_are_open_unlearnings(tmp_path, tok, gpt2_base):
    expected = {
        "idk": {"forget_weight": 1.0, "retain_weight": 1.0, "retain_loss": "ce"},
        "idk_dpo": {"dpo_beta": 0.1, "forget_weight": 1.0, "retain_weight": 1.0, "retain_loss": "ce"},
        "rmu": {"rmu_layer": 7, "steering_coeff": 2.0, "forget_weight": 1.0, "retain_weight": 1.0,
                "rmu_trainable_params": ".*"},
        "undial": {"undial_gamma": 10.0, "forget_weight": 1.0, "retain_weight": 0.0},
    }  # fmt: skip
    for method, values in expected.items():
        config = UnlearnConfig(method=method, output_dir=str(tmp_path), use_cpu=True)
        assert {k: getattr(config, k) for k in values} == values, method


def test_bad_teachings_incompetent_teacher_of_an_lm_is_a_fresh_frozen_copy(tmp_path, tok, gpt2_base):
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "bad_teaching")
    teacher = trainer.incompetent_teacher
    assert type(teacher) is type(gpt2_base) and not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    weights = dict(gpt2_base.named_parameters())
    assert all(not torch.equal(p, weights[name]) for name, p in teacher.named_parameters() if p.dim() > 1)


def test_refusals_follow_the_chat_template_where_the_tokenizer_has_one(tok):
    from mubench_hf.trainers.refusals import tokenize_refusals

    chat = copy.deepcopy(tok)
    chat.chat_template = (
        "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} [EOS] {% endfor %}"
        "{% if add_generation_prompt %}assistant :{% endif %}"
    )
    (ids,) = tokenize_refusals(chat, ["I have no idea."], encoder_decoder=False)
    assert (
        ids == chat(" I have no idea. [EOS] ", add_special_tokens=False)["input_ids"]
    )  # EOS from the template
    (plain,) = tokenize_refusals(tok, ["I have no idea."], encoder_decoder=False)
    assert plain == tok("I have no idea.", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]


def greedy_rouge_l(model, tok, people: list[int]) -> float:
    """Mean ROUGE-L recall of greedy answers to the toy questions of ``people`` (causal model)."""
    from mubench_hf.metrics.generative import rouge_l_recalls

    model.eval()
    predictions, references = [], []
    for prompt, completion in qa_rows(people):
        ids = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            out = model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False,
                eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
            )  # fmt: skip
        predictions.append(tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True))
        references.append(completion)
    return float(rouge_l_recalls(predictions, references).mean())


def test_idk_dpo_quick_settings_lower_forget_rouge_l_and_keep_retain(tmp_path, tok, gpt2_base):
    """DPO with the refusal preferred (θo the reference) changes what the model answers on Df, not only
    its likelihoods, with the quick settings the sweeps use; Dr's answers stay mostly intact."""
    forget_people, retain_people = [0, 1], [2, 3, 4, 5]  # toy_splits' forget and retain rows
    before = greedy_rouge_l(gpt2_base, tok, forget_people), greedy_rouge_l(gpt2_base, tok, retain_people)
    # the sweep's 15 steps of 32 rows are ~5 epochs of fictitious_authors_del5's 100 forget rows; 8 steps
    # of 4 rows are as many epochs of the 6 toy forget rows
    settings = {**get_spec("idk_dpo").quick_settings, "max_steps": 8}
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "idk_dpo", **settings)
    trainer.train()
    forget_after = greedy_rouge_l(trainer.model, tok, forget_people)
    retain_after = greedy_rouge_l(trainer.model, tok, retain_people)
    # measured (default and avx2 kernels alike): before 0.73 (forget) / 0.80 (retain); after 0.31 / 0.68
    assert before[0] >= 0.6 and before[1] >= 0.6, before
    assert forget_after <= before[0] - 0.3, (before, forget_after)
    assert retain_after >= 0.55, (before, retain_after)
