"""Attacks on the forgetting (issue 23): weights rounded to 8/4 bits, relearning on part of Df.

* round-to-nearest: 8-bit rounding moves each weight by at most half a step of its channel, 4-bit by more;
  a model's layer weights are rounded (GPT-2's Conv1D per output column), its embeddings and tied output
  layer are not, and the model handed in is never changed;
* the relearning attack's parts of Df are seeded, disjoint and complete; the recovery share by hand;
* the report of each kind adds ``<metric>_after_<attack>`` and ``<metric>_recovery_<attack>`` when asked (a
  digits classifier through ``evaluate_unlearning(attacks=...)``, a tiny GPT-2 through ``UnlearnConfig.attacks``),
  and every key the report writes is declared;
* settings and CLI flags are checked, naming the known attacks.
"""

from __future__ import annotations

import copy
import json

import datasets
import numpy as np
import pytest
import torch
from generation_testlib import qa_rows, quiet_lm_args, tiny_gpt2, tiny_tokenizer
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.pytorch_utils import Conv1D

from mubench_hf import MubenchError
from mubench_hf.evaluation import RESULTS_FILE, evaluate_unlearning
from mubench_hf.evaluation.attacks import (
    WEIGHT_ATTACKS,
    AttackSettings,
    as_attack_settings,
    parse_attacks,
    recovery_share,
    relearn_parts,
    round_to_nearest,
    rounded_copy,
)
from mubench_hf.kinds import get_kind
from mubench_hf.metrics.declarations import metric_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------- rounding
def _steps(weight: torch.Tensor, bits: int, axis: int) -> torch.Tensor:
    others = [d for d in range(weight.dim()) if d != axis]
    return weight.abs().amax(dim=others, keepdim=True) / (2 ** (bits - 1) - 1)


@pytest.mark.parametrize("axis", [0, 1])
def test_8_bit_rounding_moves_weights_by_at_most_half_a_step_and_4_bit_more(axis):
    weight = torch.randn(16, 24, generator=torch.Generator().manual_seed(0)) * torch.linspace(0.1, 3, 24)
    weight[3] = 0.0  # an all-zero row stays zero (on axis 0 it is a whole channel)
    q8, q4 = round_to_nearest(weight, 8, axis), round_to_nearest(weight, 4, axis)
    assert q8.shape == weight.shape and q8.dtype == weight.dtype
    err8, err4 = (q8 - weight).abs(), (q4 - weight).abs()
    assert bool((err8 <= _steps(weight, 8, axis) / 2 + 1e-6).all())
    assert bool((err4 <= _steps(weight, 4, axis) / 2 + 1e-6).all())
    assert err4.max() > 10 * err8.max() and err8.max() > 0  # 4-bit: 127/7 ≈ 18 times coarser steps
    assert bool((q8[3] == 0).all())
    # each channel holds at most 2·(2^(b-1)-1)+1 distinct levels, the largest |w| kept exactly
    for channel in q4.T if axis == 1 else q4:
        assert len(torch.unique(channel)) <= 15
    assert torch.allclose(q8.abs().amax(), weight.abs().amax())
    with pytest.raises(MubenchError, match=r"bits must be a whole number in \[2, 16\]"):
        round_to_nearest(weight, 1)


def test_8_bit_rounding_equals_optimum_quantos_qint8_weights():
    """optimum-quanto (a maintained quantization library) quantizes nn.Linear weights to qint8 per output
    channel with a symmetric absmax scale: its dequantized weights are ours, exactly."""
    quanto = pytest.importorskip("optimum.quanto")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(24, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8))
    ours = rounded_copy(model, 8)
    quanto.quantize(model, weights=quanto.qint8)
    quanto.freeze(model)
    for index in (0, 2):
        theirs = model[index].weight.dequantize()
        assert torch.equal(theirs, ours[index].weight)  # measured: identical (max difference 0.0)


def test_a_model_copy_gets_its_layer_weights_rounded_not_its_embeddings():
    model = tiny_gpt2(40)
    before = copy.deepcopy(model.state_dict())
    rounded = rounded_copy(model, 4)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the original is untouched
    after = rounded.state_dict()
    layers = [n for n, m in rounded.named_modules() if isinstance(m, Conv1D)]
    assert len(layers) == 8  # c_attn, c_proj, c_fc, mlp c_proj of 2 blocks
    for name in layers:
        key = f"{name}.weight"
        assert not torch.equal(after[key], before[key])
        # GPT-2's Conv1D is (in, out): one scale per output column
        assert bool(((after[key] - before[key]).abs() <= _steps(before[key], 4, 1) / 2 + 1e-6).all())
    for key in (
        "transformer.wte.weight",
        "transformer.wpe.weight",
        "lm_head.weight",
        "transformer.h.0.ln_1.weight",
    ):
        assert torch.equal(after[key], before[key])
    # an untied output layer (Llama) stays in float too; its attention and MLP projections are rounded
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=False))  # fmt: skip
    rounded = rounded_copy(llama, 8)
    assert torch.equal(rounded.lm_head.weight, llama.lm_head.weight)
    assert not torch.equal(
        rounded.model.layers[0].mlp.up_proj.weight, llama.model.layers[0].mlp.up_proj.weight
    )
    with pytest.raises(MubenchError, match="no linear or convolution weight to round"):
        rounded_copy(torch.nn.Embedding(3, 2), 8)


# ----------------------------------------------------------------------------- relearning parts, recovery
def test_relearn_parts_are_seeded_disjoint_and_complete():
    train, scored = relearn_parts(10, 0.3, seed=1)
    assert len(train) == 3 and len(scored) == 7
    assert sorted([*train, *scored]) == list(range(10))
    again = relearn_parts(10, 0.3, seed=1)
    assert np.array_equal(again[0], train) and not np.array_equal(relearn_parts(10, 0.3, seed=2)[0], train)
    assert [len(p) for p in relearn_parts(3, 0.99, seed=0)] == [2, 1]  # one row is always left to score
    with pytest.raises(MubenchError, match="at least 2 forget rows"):
        relearn_parts(1, 0.5, seed=0)


def test_recovery_share_by_hand():
    # original 0.9, unlearned 0.3: after 0.6 brings back half of the 0.6 removed
    assert recovery_share(0.6, 0.3, 0.9) == pytest.approx(0.5)
    assert recovery_share(0.3, 0.3, 0.9) == 0.0 and recovery_share(0.9, 0.3, 0.9) == 1.0
    assert recovery_share(0.2, 0.3, 0.9) == pytest.approx(-1 / 6)  # the attack removed more
    assert recovery_share(0.5, 0.3, None) is None and recovery_share(0.5, 0.3, 0.3) is None


# ----------------------------------------------------------------------------- settings and flags
def test_settings_name_the_known_attacks():
    assert parse_attacks("relearn, quant4") == ("quant4", "relearn")  # report order
    assert as_attack_settings(None) is None and as_attack_settings("") is None
    assert as_attack_settings("quant8").attacks == ("quant8",)
    assert as_attack_settings({"attacks": "relearn", "relearn_steps": 3}).relearn_steps == 3
    with pytest.raises(
        MubenchError,
        match=r"unknown attack\(s\) \['quant2'\]; known attacks: \['quant8', 'quant4', 'relearn', 'paraphrase'\]",
    ):
        parse_attacks("quant8,quant2")
    with pytest.raises(MubenchError, match=r"relearn_share must lie in \(0, 1\)"):
        AttackSettings(attacks="relearn", relearn_share=1.0)
    with pytest.raises(MubenchError, match="relearn_steps must be a whole number >= 1"):
        AttackSettings(relearn_steps=0)
    with pytest.raises(MubenchError, match="unknown attack setting"):
        as_attack_settings({"steps": 3})


def test_cli_and_unlearn_config_carry_the_settings(tmp_path):
    from mubench_hf.cli import evaluate
    from mubench_hf.trainers import UnlearnConfig

    parser = evaluate.build_parser()
    base = ["--model", "m", "--dataset", "d", "--config", "digits_del5"]
    args = parser.parse_args([*base, "--attacks", "quant8,quant4,relearn", "--relearn-attack-steps", "4",
                              "--relearn-attack-share", "0.25", "--relearn-attack-lr", "0.01"])  # fmt: skip
    settings = evaluate.attack_settings(args)
    assert settings == AttackSettings(
        attacks=WEIGHT_ATTACKS, relearn_steps=4, relearn_share=0.25, relearn_learning_rate=0.01
    )
    assert evaluate.attack_settings(parser.parse_args(base)) is None
    with pytest.raises(MubenchError, match="known attacks"):
        evaluate.attack_settings(parser.parse_args([*base, "--attacks", "prune"]))
    config = UnlearnConfig(output_dir=str(tmp_path), method="grad_ascent", attacks="quant4",
                           relearn_attack_steps=2, report_to="none")  # fmt: skip
    assert as_attack_settings(None, config) == AttackSettings(attacks=("quant4",), relearn_steps=2)
    assert as_attack_settings(None, UnlearnConfig(output_dir=str(tmp_path), method="grad_ascent")) is None
    with pytest.raises(MubenchError, match="known attacks"):
        UnlearnConfig(output_dir=str(tmp_path), method="grad_ascent", attacks="quant3")


def test_every_attack_key_is_declared_for_its_kind():
    for kind in ("classification", "generation"):
        names = get_kind(kind).attack_metrics
        assert names
        for metric in names:
            for attack in WEIGHT_ATTACKS:
                for key in (f"{metric}_after_{attack}", f"{metric}_recovery_{attack}"):
                    assert metric_spec(key, kind) is not None, (kind, key)
        assert metric_spec(f"{names[0]}_after_quant4", kind).column  # the headline gets a leaderboard column
        assert metric_spec("attacks_time_s", kind) is not None


# ----------------------------------------------------------------------------- the reports
def _check_keys(report: dict, metrics: tuple[str, ...]) -> None:
    for metric in metrics:
        for attack in WEIGHT_ATTACKS:
            assert f"{metric}_after_{attack}" in report and f"{metric}_recovery_{attack}" in report
    assert report["attacks_time_s"] > 0


def test_classification_report_adds_the_attack_keys(digits_base_model_dir, digits_del5, tmp_path):
    from trainer_testlib import quiet_args
    from transformers import AutoModelForImageClassification

    from mubench_hf.kinds.classification import prepare_splits
    from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

    model = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    splits = prepare_splits(digits_del5, "digits", model)
    args = UnlearnConfig(method="grad_ascent", **quiet_args(tmp_path / "ga", per_device_train_batch_size=32,
                                                            learning_rate=1e-3, max_steps=6))  # fmt: skip
    trainer = UnlearnTrainer(model=model, args=args, splits=splits)
    trainer.train()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    settings = AttackSettings(
        attacks=WEIGHT_ATTACKS, relearn_steps=5, relearn_learning_rate=1e-3, relearn_batch_size=16
    )
    report = evaluate_unlearning(trainer, trainer.report_splits() | {"test": splits["test"]},
                                 base_model=str(digits_base_model_dir), output_dir=tmp_path / "out", log=False,
                                 attacks=settings)  # fmt: skip
    _check_keys(report, ("forget_accuracy",))
    assert all(
        torch.equal(before[k], v) for k, v in trainer.model.state_dict().items()
    )  # scored model untouched
    forget, original = report["forget_accuracy"], report["original_forget_accuracy"]
    # the attacks' scorer, on the model as it is, gives the report's own value
    kind = get_kind("classification")
    assert kind.forget_scores(trainer, trainer.model, splits["forget"]) == {"forget_accuracy": forget}
    assert forget < original  # grad ascent forgot some rows (measured: 1.0 -> 0.90 on the 62 rows)
    # 8-bit rounding changes at most a few of the 62 forget predictions (measured: none)
    assert abs(report["forget_accuracy_after_quant8"] - forget) <= 3 / 62
    for attack in WEIGHT_ATTACKS:
        after = report[f"forget_accuracy_after_{attack}"]
        assert 0.0 <= after <= 1.0
        assert report[f"forget_accuracy_recovery_{attack}"] == pytest.approx(
            (after - forget) / (original - forget)
        )
    # relearning at 1e-3 on 31 forget rows lifts the other 31 (measured: 0.90 -> 0.94; 4-bit: 0.92)
    assert report["forget_accuracy_after_relearn"] > forget
    written = json.loads((tmp_path / "out" / RESULTS_FILE).read_text())
    assert written["forget_accuracy_after_quant4"] == report["forget_accuracy_after_quant4"]
    # one forget row leaves none to score after relearning: refused before any prediction pass
    with pytest.raises(MubenchError, match="at least 2 forget rows"):
        evaluate_unlearning(trainer, {**trainer.report_splits(), "forget": splits["forget"].select([0])},
                            log=False, attacks="relearn")  # fmt: skip


def _qa_split(people: list[int], offset: int, tok) -> datasets.Dataset:
    from mubench_hf.modalities.text_generation import encode_split

    rows = qa_rows(people)
    raw = datasets.Dataset.from_dict({
        "prompt": [p for p, _ in rows], "completion": [c for _, c in rows],
        "sample_id": list(range(offset, offset + len(rows))),
    })  # fmt: skip
    return encode_split(raw, tok, seq2seq=False, max_length=None)


def test_generation_report_adds_the_attack_keys_from_the_unlearn_config(tmp_path):
    from transformers import Trainer, TrainingArguments

    from mubench_hf.kinds import objective_for
    from mubench_hf.modalities.text_generation import GenerationCollator
    from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

    tok = tiny_tokenizer()
    splits = {"forget": _qa_split([0, 1], 0, tok), "retain": _qa_split([2, 3, 4], 6, tok),
              "test": _qa_split([5], 15, tok)}  # fmt: skip
    collate = GenerationCollator(pad_token_id=tok.pad_token_id)
    base = tiny_gpt2(len(tok))
    train = datasets.concatenate_datasets([splits["forget"], splits["retain"]]).select_columns(
        ["input_ids", "attention_mask", "labels"]
    )
    Trainer(model=base, data_collator=collate, train_dataset=train, args=TrainingArguments(
        str(tmp_path / "base_run"), use_cpu=True, report_to="none", disable_tqdm=True, save_strategy="no",
        logging_strategy="no", learning_rate=1e-2, max_steps=60, per_device_train_batch_size=6, seed=0,
    )).train()  # fmt: skip
    base.save_pretrained(tmp_path / "base")
    model = type(base).from_pretrained(tmp_path / "base")  # its folder is the original model the report loads
    args = UnlearnConfig(method="grad_ascent", attacks="quant8,quant4,relearn", relearn_attack_steps=5,
                         relearn_attack_lr=1e-2, relearn_attack_batch_size=3, generation_max_new_tokens=8,
                         **quiet_lm_args(tmp_path / "ga", learning_rate=5e-3, max_steps=6))  # fmt: skip
    trainer = UnlearnTrainer(model=model, args=args, forget_dataset=splits["forget"], retain_dataset=splits["retain"],
                             processing_class=tok, data_collator=collate, objective=objective_for("generation"))  # fmt: skip
    trainer.train()
    report = trainer.evaluate_unlearning(splits=splits)
    metrics = ("forget_rouge_l", "forget_answer_prob", "extraction_strength")  # a TOFU-shaped task's
    assert set(metrics) < set(get_kind("generation").attack_metrics)
    _check_keys(report, metrics)
    assert not [key for key in report if key.startswith(("verbmem_forget_", "knowmem_forget_"))]  # no probes
    for metric in metrics:
        for attack in WEIGHT_ATTACKS:
            assert 0.0 <= report[f"{metric}_after_{attack}"] <= 1.0
    # the attacks' scorer, on the model as it is, gives the report's own values (same encoding and batching)
    unattacked = get_kind("generation").forget_scores(trainer, trainer.model, splits["forget"])
    assert unattacked == pytest.approx({m: report[m] for m in metrics}, abs=1e-6)
    prob = report["forget_answer_prob"]
    assert prob < report["original_forget_answer_prob"]  # grad ascent lowered it
    # 8-bit rounding barely moves the answer probability; relearning on 3 rows lifts it on the other 3
    assert report["forget_answer_prob_after_quant8"] == pytest.approx(prob, abs=0.05)
    assert report["forget_answer_prob_after_relearn"] > prob
    assert report["forget_answer_prob_recovery_relearn"] > 0
    # the relearning share is taken against both models on the rows it scores, not on all of Df
    from mubench_hf.evaluation.attacks.run import recovery_share

    rest = splits["forget"].select(relearn_parts(len(splits["forget"]), 0.5, int(trainer.args.seed))[1])
    original = type(trainer.model).from_pretrained(tmp_path / "base")
    kind = get_kind("generation")
    on_rest, original_on_rest = (kind.forget_scores(trainer, m, rest) for m in (trainer.model, original))
    for metric in metrics:
        expected = recovery_share(
            report[f"{metric}_after_relearn"], on_rest[metric], original_on_rest[metric]
        )
        assert report[f"{metric}_recovery_relearn"] == pytest.approx(expected, abs=1e-6), metric
    written = json.loads((tmp_path / "ga" / RESULTS_FILE).read_text())
    assert written["forget_rouge_l_after_quant4"] == report["forget_rouge_l_after_quant4"]


def test_the_sweep_leaderboard_gets_a_robustness_section_when_cells_ran_attacks():
    from mubench_hf.sweeps.outputs import leaderboard_markdown
    from mubench_hf.sweeps.robustness import robustness_table

    def row(method: str, **means: float) -> dict:
        return {"task": "digits", "config": "digits_del5", "method": method, "n_seeds": 1, "n_failed": 0,
                **{f"{k}_mean": v for k, v in means.items()}}  # fmt: skip

    rows = [
        row("retrain", forget_accuracy=0.96),
        row(
            "grad_ascent",
            forget_accuracy=0.5,
            original_forget_accuracy=1.0,
            forget_accuracy_after_quant4=0.75,
            forget_accuracy_recovery_quant4=0.5,
        ),  # fmt: skip
    ]
    table = robustness_table(rows, "classification")
    assert "| method | forget_accuracy before | forget_accuracy | 4-bit | recovered (4-bit) |" in table
    assert (
        "| grad_ascent | 1.000 | 0.500 | 0.750 | 0.500 |" in table
        and "| retrain | – | 0.960 | – | – |" in table
    )
    assert "8-bit" not in table.split("\n", 2)[2]  # only the attacks that were run get columns
    assert "### digits_del5: robustness of the forgetting" in leaderboard_markdown(rows)
    assert robustness_table([row("npo", forget_accuracy=0.5)], "classification") is None
    assert "robustness" not in leaderboard_markdown([row("npo", forget_accuracy=0.5)])


def test_a_grid_with_attacks_attacks_its_retrain_row_too(tmp_path):
    from mubench_hf.sweeps.cells import cell_arguments
    from mubench_hf.sweeps.grid import make_grid

    plain = make_grid({"task": "digits", "methods": ["retrain", "npo"], "output": str(tmp_path)})
    assert (
        cell_arguments(plain, "retrain", "digits_del5") == {}
    )  # unchanged: earlier sweeps' cells are reused
    attacked = make_grid({"task": "digits", "methods": ["retrain", "npo"], "output": str(tmp_path),
                          "unlearn_args": {"attacks": "relearn", "relearn_attack_steps": 3, "learning_rate": 1e-3}})  # fmt: skip
    assert cell_arguments(attacked, "retrain", "digits_del5") == {
        "attacks": "relearn",
        "relearn_attack_steps": 3,
    }
    assert cell_arguments(attacked, "npo", "digits_del5")["relearn_attack_steps"] == 3


def test_mubench_evaluate_attacks_flags_reach_the_report(digits_repo, digits_base_model_dir, tmp_path):
    from mubench_hf.cli import evaluate

    out = tmp_path / "scored"
    base = str(digits_base_model_dir)
    assert evaluate.main(["--model", base, "--dataset", str(digits_repo), "--config", "digits_del5",
                          "--base-model", base, "--output_dir", str(out), "--use_cpu",
                          "--attacks", "quant8,relearn", "--relearn-attack-steps", "2"]) == 0  # fmt: skip
    written = json.loads((out / RESULTS_FILE).read_text())
    assert {"forget_accuracy_after_quant8", "forget_accuracy_after_relearn"} <= set(written)
    assert "forget_accuracy_after_quant4" not in written  # only the attacks asked for
    # the base model scored against itself: nothing was removed, so no recovery share is defined
    assert written["forget_accuracy_recovery_quant8"] is None
