"""``mubench study``: the SuperLoss weighting (against SciPy's Lambert W and its closed form), the skewed
forget orders of the bias study, the widths of the scalability study, the LoRA shares of the PEFT study,
the command line, and (slow) each study end to end on digits, resumed on a second run."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from mubench_hf.cli import main
from mubench_hf.errors import MubenchError
from mubench_hf.studies.bias import forget_order
from mubench_hf.studies.superloss import (
    MUBENCH_LAMBDA,
    SuperLossWeighting,
    lambert_w,
    superloss_confidence,
    with_superloss,
)


# --------------------------------------------------------------------------- SuperLoss
def test_lambert_w_matches_scipy_on_the_principal_branch() -> None:
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-1 / math.e + 1e-9, 0, 50), np.logspace(-6, 4, 50)])
    ours = lambert_w(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, special.lambertw(x).real, rtol=1e-9, atol=1e-9)
    assert lambert_w(torch.tensor([-1 / math.e])).item() == pytest.approx(-1.0)  # the branch point


def test_confidence_is_the_closed_form_minimiser_of_superloss() -> None:
    # σ* minimises (l − τ)σ + λ(log σ)²: its derivative (l − τ) + 2λ log σ / σ vanishes there.
    losses, tau, lam = torch.tensor([0.01, 0.5, 1.0, 3.0, 40.0], dtype=torch.float64), 1.0, MUBENCH_LAMBDA
    sigma = superloss_confidence(losses, tau, lam)
    gradient = (losses.double() - tau) + 2 * lam * torch.log(sigma) / sigma
    assert torch.allclose(gradient, torch.zeros_like(gradient), atol=1e-9)
    assert sigma[0] > 1 > sigma[3] and superloss_confidence(torch.tensor([tau]), tau).item() == pytest.approx(
        1.0
    )
    # Very easy samples are capped: β is clipped at −2/e, where σ* = e.
    assert superloss_confidence(torch.tensor([-1e6]), 0.0).item() == pytest.approx(math.e)


def test_weighting_uses_the_running_mean_as_threshold_and_detaches_the_weights() -> None:
    weighting = SuperLossWeighting(lam=10.0)
    first = torch.tensor([1.0, 3.0], requires_grad=True)
    out = weighting(first)
    assert weighting.tau == 2.0  # τ begins at the first batch's mean
    expected = superloss_confidence(first, 2.0, 10.0) * first
    assert torch.allclose(out, expected)
    out.sum().backward()
    assert torch.allclose(first.grad, superloss_confidence(first, 2.0, 10.0))  # d(σ·l)/dl = σ: σ is a weight
    weighting(torch.tensor([5.0, 7.0]))
    assert weighting.tau == 4.0  # the mean of every loss seen: (1 + 3 + 5 + 7) / 4
    with pytest.raises(ValueError, match="λ must be positive"):
        SuperLossWeighting(lam=0)


def test_with_superloss_weights_only_the_losses_of_the_objective() -> None:
    from mubench_hf.kinds import objective_for

    plain = objective_for("classification")
    weighted = with_superloss(plain)
    assert weighted.kind == plain.kind == "classification" and isinstance(weighted, type(plain))
    logits, batch = (
        torch.randn(6, 4, generator=torch.Generator().manual_seed(0)),
        {"labels": torch.arange(6) % 4},
    )
    losses = plain.per_sample_loss(logits, batch)
    assert torch.allclose(
        weighted.loss(logits, batch), (superloss_confidence(losses, losses.mean()) * losses).mean()
    )
    assert torch.equal(weighted.log_likelihood(logits, batch), plain.log_likelihood(logits, batch))
    teacher = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(
        weighted.kl_to_teacher(logits, teacher, batch), plain.kl_to_teacher(logits, teacher, batch)
    )


# --------------------------------------------------------------------------- bias, scalability, peft
def test_skewed_forget_order_has_the_asked_share_of_the_class() -> None:
    labels = np.repeat(np.arange(10), 50)
    for share in (0.25, 0.5, 1.0):
        order = forget_order(labels, 40, share, target=3, seed=0)
        assert sorted(order.tolist()) == list(range(len(labels)))  # a permutation of every row
        assert int(np.sum(labels[order[:40]] == 3)) == round(share * 40)
    uniform = forget_order(labels, 40, None, target=3, seed=0)
    assert sorted(uniform.tolist()) == list(range(len(labels)))
    with pytest.raises(MubenchError, match=r"needs 60 rows of that class; the train split has 50"):
        forget_order(labels, 60, 1.0, target=3, seed=0)


def test_widths_scale_the_tiny_backbone() -> None:
    from mubench_hf.studies.scalability import parameter_count, scaled_config

    sizes = [parameter_count("digits", scaled_config("digits", "tiny:resnet", w)) for w in (0.5, 1, 2)]
    assert sizes[0] < sizes[1] < sizes[2]
    assert scaled_config("digits", "tiny:resnet", 2).hidden_sizes == [64, 128]
    vit = scaled_config("digits", "tiny:vit", 2)
    assert vit.hidden_size == 64 and vit.hidden_size % vit.num_attention_heads == 0
    with pytest.raises(MubenchError, match="scales a tiny backbone"):
        scaled_config("digits", "some/hub-model", 2)


@pytest.mark.parametrize("share", [0.1, 0.2, 0.5])
def test_lora_rank_reaches_each_share_and_the_measured_share_is_reported(share: float) -> None:
    from transformers import AutoModelForImageClassification

    from mubench_hf.kinds.classification import tiny_config
    from mubench_hf.lora import rank_for_share
    from mubench_hf.studies.peft import measured_share

    torch.manual_seed(0)
    model = AutoModelForImageClassification.from_config(tiny_config("digits", "resnet"))
    rank = rank_for_share(model, share)
    measured = measured_share(model, rank)
    assert measured >= share  # the smallest rank that reaches it ...
    if rank > 1:
        assert measured_share(model, rank - 1) < share  # ... and no smaller one does
    assert all(p.requires_grad for p in model.parameters())  # measuring leaves the model as it was


# --------------------------------------------------------------------------- command line
def test_study_help_lists_the_four_studies(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["study", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in ("peft", "curriculum", "scalability", "bias"):
        assert name in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["peft", "--shares", "10,abc"], "--shares takes comma-separated numbers, got '10,abc'"),
        (["bias", "--shares", "0,50"], "--shares takes percentages in (0, 100], got 0"),
        (["curriculum", "--lambda", "-1"], "--lambda must be positive, got -1"),
        (["peft", "--methods", "retrain"], "retrain is the reference of every study"),
        (["scalability", "--widths", ""], "--widths needs at least one number"),
        (["lr-search", "--factors", "0,1"], "--factors must be positive"),
        (
            ["lr-search", "--hyperparameters", "nowhere.yaml"],
            "--hyperparameters file nowhere.yaml does not exist",
        ),
        (["lr-search", "--method-factors", "ssd"], "--method-factors takes METHOD=F1,F2"),
        (
            ["lr-search", "--methods", "grad_ascent", "--method-factors", "ssd=0.5"],
            "--method-factors names ssd, not among --methods (grad_ascent)",
        ),
        (
            ["lr-search", "--methods", "ssd", "--method-factors", "ssd=1", "--method-factors", "ssd=2"],
            "--method-factors gives 'ssd' twice",
        ),
        (["lr-search", "--methods", "ssd", "--method-factors", "ssd=-2"], "--factors must be positive"),
    ],
)
def test_bad_study_flags_are_clear_errors(argv, message, tmp_path, capsys) -> None:
    assert main(["study", *argv, "--output", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before any work


# --------------------------------------------------------------------------- end to end (slow)
TINY = [
    "--base-epochs",
    "1",
    "--max-steps",
    "2",
    "--methods",
    "grad_ascent",
    "--no-progress",
    "--threads",
    "1",
]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _cell_times(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("cell.json")}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("study", "extra", "rows"),
    [
        ("peft", ["--shares", "10,50"], 3),  # full + two LoRA shares
        ("curriculum", [], 2),  # plain + SuperLoss
        (
            "scalability",
            ["--ratios", "1,5", "--widths", "0.5,1,2"],
            3 * 2 * 2,
        ),  # widths x ratios x (retrain, GA)
        ("bias", ["--shares", "50,100"], 3 * 2),  # (uniform + 2 shares) x (retrain, GA)
    ],
)
def test_each_study_runs_on_digits_writes_its_outputs_and_resumes(
    study, extra, rows, tmp_path, capsys
) -> None:
    argv = ["study", study, "--output", str(tmp_path), *TINY, *extra]
    assert main(argv) == 0, capsys.readouterr().err
    folder = tmp_path / study
    table = _rows(folder / "results.csv")
    assert len(table) == rows and all(r["status"] == "done" for r in table), table
    for row in table:
        assert 0 <= float(row["forget_accuracy"]) <= 1 and float(row["unlearn_time_s"]) >= 0
    assert (folder / "results.md").read_text().startswith("# ")
    assert (folder / f"{study}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    if study == "peft":
        shares = {r["tuning"]: float(r["trainable_share"]) for r in table}
        assert shares["full"] == 1.0 and shares["lora 10%"] >= 0.1 and shares["lora 50%"] >= 0.5
    if study == "bias":
        skewed = [float(r["class_share"]) for r in table if r["variant"] == "class0_1"]
        assert skewed and all(s == 1.0 for s in skewed)
    before = _cell_times(folder)
    assert main(argv) == 0
    assert _cell_times(folder) == before  # nothing was run again
    assert _rows(folder / "results.csv") == table


# --------------------------------------------------------------------------- learning-rate search
def test_validation_gap_reads_forget_and_validation_only() -> None:
    from mubench_hf.studies.lr_search import validation_gap

    metrics = {
        "forget_accuracy": 0.30, "retrain_forget_accuracy": 0.80,
        "validation_accuracy": 0.90, "retrain_validation_accuracy": 0.95,
        "test_accuracy": 0.0, "retrain_test_accuracy": 1.0,  # never read: test does not choose
    }  # fmt: skip
    assert validation_gap(metrics) == pytest.approx(0.55)
    assert validation_gap({**metrics, "validation_accuracy": float("nan")}) is None
    assert validation_gap({"forget_accuracy": 0.3}) is None


def test_pick_takes_the_smallest_gap_and_breaks_ties_toward_the_smaller_value() -> None:
    from mubench_hf.studies.lr_search import pick

    rows = [
        {"method": "a", "parameter": "learning_rate", "value": 1e-3, "validation_gap": 0.2},
        {"method": "a", "parameter": "learning_rate", "value": 3e-4, "validation_gap": 0.2},
        {"method": "a", "parameter": "learning_rate", "value": 3e-3, "validation_gap": 0.5},
        {"method": "b", "parameter": "learning_rate", "value": 1e-3, "validation_gap": None},
        {"method": "b", "parameter": "learning_rate", "value": 3e-3, "validation_gap": 0.1},
        {"method": "c", "parameter": "learning_rate", "value": 1e-3, "validation_gap": None},
    ]
    assert pick(rows) == {"a": {"learning_rate": 3e-4}, "b": {"learning_rate": 3e-3}}


def test_start_value_is_the_cells_own_setting_else_the_config_default() -> None:
    from mubench_hf.studies.lr_search import searched_parameter, start_value
    from mubench_hf.trainers import get_spec

    assert start_value("grad_ascent", {"learning_rate": 0.02}) == 0.02
    default = next(f.default for f in get_spec("grad_ascent").config.__dataclass_fields__.values()
                   if f.name == "learning_rate")  # fmt: skip
    assert start_value("grad_ascent", {}) == float(default)
    assert searched_parameter("ssd") == "selection_weighting"  # SSD takes no gradient steps
    assert start_value("ssd", {}) == 10.0


def test_lr_search_runs_on_digits_picks_on_validation_and_writes_a_grid_file(tmp_path, capsys) -> None:
    from mubench_hf.studies.lr_search import validation_gap
    from mubench_hf.sweeps import load_grid

    # a settings file covering a method the study does not run (finetune) is taken for the ones it runs
    settings = tmp_path / "start.yaml"
    settings.write_text("grad_ascent: {learning_rate: 1.0e-3}\nfinetune: {learning_rate: 2.0e-2}\n")
    argv = ["study", "lr-search", "--output", str(tmp_path), *TINY, "--factors", "0.1,10",
            "--hyperparameters", str(settings)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    folder = tmp_path / "lr-search"
    table = _rows(folder / "results.csv")
    assert [float(r["factor"]) for r in table] == [0.1, 1.0, 10.0]
    assert float(table[1]["value"]) == pytest.approx(1.0e-3)  # factor 1 is the file's value
    values = [float(r["value"]) for r in table]
    assert values[0] == pytest.approx(values[1] / 10) and values[2] == pytest.approx(values[1] * 10)
    gaps = [float(r["validation_gap"]) for r in table]
    picked = [r for r in table if r["picked"] == "True"]
    assert len(picked) == 1 and float(picked[0]["validation_gap"]) == min(gaps)
    # the gap in the table is the one computed from the stored cell
    record = json.loads(next((folder / "x10").rglob("cell.json")).read_text())
    assert validation_gap(record["metrics"]) == pytest.approx(gaps[2])
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(
        "task: digits\nmethods: [grad_ascent]\nhyperparameters:\n"
        + "".join(f"  {line}\n" for line in (folder / "hyperparameters.yaml").read_text().splitlines())
    )
    grid = load_grid(grid_file, {"output": str(tmp_path / "run")})
    assert grid.method_arguments("grad_ascent")["learning_rate"] == pytest.approx(float(picked[0]["value"]))
    # a method's own factors replace the common ones for it; finished cells are reused
    argv = [*argv, "--method-factors", "grad_ascent=0.01,0.1"]
    assert main(argv) == 0, capsys.readouterr().err
    table = _rows(folder / "results.csv")
    assert [float(r["factor"]) for r in table] == [0.01, 0.1, 1.0]
    assert float(table[0]["value"]) == pytest.approx(1.0e-5)


def test_lr_search_on_a_class_wise_config_writes_its_own_folder_for_class_wise_hyperparameters(
    tmp_path, capsys
) -> None:
    from mubench_hf.sweeps import load_grid

    argv = ["study", "lr-search", "--output", str(tmp_path), *TINY, "--factors", "10", "--forget-class", "0"]
    assert main(argv) == 0, capsys.readouterr().err
    folder = tmp_path / "lr-search" / "digits_class0"
    table = _rows(folder / "results.csv")
    assert [float(r["factor"]) for r in table] == [1.0, 10.0]
    record = json.loads(next((folder / "x10").rglob("cell.json")).read_text())
    assert record["config"] == "digits_class0"  # the variant forgets the class, not random rows
    plain = (
        tmp_path / "lr-search" / "sweep" / "cells" / "digits_class0" / "seed42" / "grad_ascent" / "cell.json"
    )
    assert json.loads(plain.read_text())["config"] == "digits_class0"
    assert not (tmp_path / "lr-search" / "results.csv").exists()  # the random-deletion tables stay apart
    picked = (folder / "hyperparameters.yaml").read_text()
    assert "digits_class0" in picked.splitlines()[0]
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(
        "task: digits\nmethods: [grad_ascent]\nclasses: [0]\nclass_wise_hyperparameters:\n"
        + "".join(f"  {line}\n" for line in picked.splitlines())
    )
    grid = load_grid(grid_file, {"output": str(tmp_path / "run")})
    best = min(table, key=lambda r: float(r["validation_gap"]))
    assert grid.method_arguments("grad_ascent", "digits_class0")["learning_rate"] == pytest.approx(
        float(best["value"])
    )
