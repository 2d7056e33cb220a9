"""The ``evaluate`` modules in ``evaluate_metrics/``: they load offline and return the NumPy functions' values."""

from __future__ import annotations

import math
from pathlib import Path

import evaluate
import numpy as np
import pytest
import yaml

from mubench_hf.metrics import (
    compute_unlearning_metrics,
    forget_quality_test,
    knowledge_gap,
    knowledge_gap_monte_carlo,
    loss_attack_auc,
    membership_attack,
    mia_efficacy_lr,
    mubench_score,
    split_accuracy,
    zrf,
)
from mubench_hf.resources import list_metrics, metric_path

MODULES = (
    "forget_quality",
    "gap_to_retrain",
    "knowledge_gap",
    "mia",
    "mubench",
    "mubench_score",
    "split_accuracy",
    "zrf",
)
K = 5
REPO_ROOT = Path(__file__).resolve().parents[1]


def load(name: str, hf_cache: Path):
    return evaluate.load(metric_path(name), cache_dir=str(hf_cache / "metrics"))


def make_split(rng: np.random.Generator, n: int, correct_rate: float) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(K, size=n)
    logits = rng.standard_normal((n, K))
    correct = rng.random(n) < correct_rate
    target = np.where(correct, labels, (labels + rng.integers(1, K, size=n)) % K)
    logits[np.arange(n), target] += 4.0
    return logits, labels


@pytest.fixture(scope="module")
def splits():
    rng = np.random.default_rng(0)
    data = {
        name: make_split(rng, n, rate)
        for name, n, rate in (
            ("forget", 40, 0.5),
            ("retain", 200, 0.95),
            ("test", 120, 0.8),
            ("ood", 30, 0.4),
        )
    }
    retrain = {name: make_split(rng, len(data[name][1]), 0.8)[0] for name in ("forget", "retain", "test")}
    teachers = 0.1 * rng.standard_normal((3, 40, K))
    return data, retrain, teachers


def test_every_module_ships_and_is_listed():
    assert set(MODULES) <= set(list_metrics())


@pytest.mark.parametrize("name", MODULES)
def test_module_card_has_header_and_sections(name):
    text = (Path(metric_path(name)) / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["title"] and header["description"]
    assert {"evaluate", "metric", "machine-unlearning", "mubench"} <= set(header["tags"])
    for section in (
        "## Definition",
        "## Inputs",
        "## Output values and range",
        "## What is a good value",
        "## Limitations",
        "## Citation",
    ):
        assert section in text, f"{name} card lacks {section!r}"
    assert "MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning" in text


def test_modules_load_offline_with_metadata(hf_cache):
    for name in MODULES:
        module = load(name, hf_cache)
        assert isinstance(module, evaluate.Metric)
        assert "Cheng, Jiali and Amiri, Hadi" in module.citation
        assert "predictions" in module.features
    # the dynamic module copies landed in our private cache, not in the user's
    assert any((hf_cache / "modules" / "evaluate_modules" / "metrics").iterdir())


def test_relative_path_from_the_repository_root(hf_cache, monkeypatch, splits):
    data, _, _ = splits
    monkeypatch.chdir(REPO_ROOT)
    module = evaluate.load("evaluate_metrics/knowledge_gap", cache_dir=str(hf_cache / "metrics"))
    (fl, fy), (rl, ry) = data["forget"], data["retain"]
    result = module.compute(predictions=fl, references=fy, retain_logits=rl, retain_labels=ry)
    assert result == {"knowledge_gap": pytest.approx(knowledge_gap(fl, fy, rl, ry))}


def test_split_accuracy_module(hf_cache, splits):
    data, _, _ = splits
    logits, labels = data["test"]
    module = load("split_accuracy", hf_cache)
    expected = split_accuracy(logits, labels)
    assert module.compute(predictions=logits, references=labels) == {"accuracy": pytest.approx(expected)}
    # streaming in batches gives the same value
    module.add_batch(predictions=logits[:50].tolist(), references=labels[:50].tolist())
    module.add_batch(predictions=logits[50:], references=labels[50:])
    assert module.compute() == {"accuracy": pytest.approx(expected)}
    assert module.compute(predictions=[[2.0, 0.1], [0.3, 1.0]], references=[0, 0]) == {"accuracy": 0.5}


def test_knowledge_gap_module(hf_cache, splits):
    data, _, _ = splits
    (fl, fy), (rl, ry) = data["forget"], data["retain"]
    module = load("knowledge_gap", hf_cache)
    exact = module.compute(predictions=fl, references=fy, retain_logits=rl, retain_labels=ry)
    assert exact["knowledge_gap"] == pytest.approx(knowledge_gap(fl, fy, rl, ry))
    mc = module.compute(
        predictions=fl,
        references=fy,
        retain_logits=rl,
        retain_labels=ry,
        method="monte_carlo",
        n_draws=50,
        seed=1,
    )
    assert mc["knowledge_gap"] == pytest.approx(knowledge_gap_monte_carlo(fl, fy, rl, ry, n_draws=50, seed=1))
    with pytest.raises(ValueError, match="method must be one of"):
        module.compute(predictions=fl, references=fy, retain_logits=rl, retain_labels=ry, method="sampled")
    with pytest.raises(ValueError, match="retain_logits and retain_labels"):
        module.compute(predictions=fl, references=fy)


def test_zrf_module(hf_cache, splits):
    data, _, teachers = splits
    forget_logits = data["forget"][0]
    module = load("zrf", hf_cache)
    result = module.compute(predictions=forget_logits, teacher_logits=teachers)
    assert result == {"zrf": pytest.approx(zrf(forget_logits, teachers), abs=1e-12)}
    with pytest.raises(ValueError, match="teacher_logits has shape"):
        module.compute(predictions=forget_logits, teacher_logits=teachers[:, :10])
    # MU-Bench's variant: uniform-noise teachers drawn from the seed, natural-log JS
    noise = module.compute(
        predictions=forget_logits, teacher="uniform_noise", base=math.e, num_draws=25, seed=3
    )
    expected = zrf(forget_logits, teacher="uniform_noise", base=math.e, num_draws=25, seed=3)
    assert noise == {"zrf": pytest.approx(expected, abs=1e-12)}
    assert 1 - math.log(2) <= expected <= 1
    with pytest.raises(ValueError, match="teacher_logits is required with teacher='random_network'"):
        module.compute(predictions=forget_logits)


def test_mia_module(hf_cache, splits):
    data, _, _ = splits
    (fl, fy), (rl, ry), (tl, ty) = data["forget"], data["retain"], data["test"]
    module = load("mia", hf_cache)
    result = module.compute(
        predictions=fl,
        references=fy,
        retain_logits=rl,
        retain_labels=ry,
        test_logits=tl,
        test_labels=ty,
        seed=2,
    )
    attack = membership_attack(fl, fy, rl, ry, tl, ty)
    assert result == {
        "mia_efficacy": attack.efficacy,
        "mia_test_nonmember_rate": attack.test_nonmember_rate,
        "mia_efficacy_lr": mia_efficacy_lr(fl, fy, rl, ry, tl, ty, seed=2),
        "mia_loss_auc": pytest.approx(loss_attack_auc(rl, ry, tl, ty)),
        "mia_forget_loss_auc": pytest.approx(loss_attack_auc(fl, fy, tl, ty)),
    }
    with pytest.raises(ValueError, match=r"mia needs \['test_logits', 'test_labels'\]"):
        module.compute(predictions=fl, references=fy, retain_logits=rl, retain_labels=ry)


def test_mubench_score_module(hf_cache, splits):
    data, _, _ = splits
    (fl, fy), (tl, ty) = data["forget"], data["test"]
    module = load("mubench_score", hf_cache)
    result = module.compute(
        predictions=fl, references=fy, test_logits=tl, test_labels=ty, original_test_accuracy=0.8
    )
    expected = mubench_score(
        test_accuracy=split_accuracy(tl, ty),
        forget_accuracy=split_accuracy(fl, fy),
        original_test_accuracy=0.8,
        num_labels=K,
    )
    assert result["mubench_score"] == pytest.approx(expected)
    assert 0.0 < expected < 1.0
    assert result["forget_accuracy"] == split_accuracy(fl, fy)
    # the method selects MU-Bench's allowance: test accuracy 30 % above the original zeroes the score
    # (the rule is two-sided), except for grad_ascent / neggrad
    lower = split_accuracy(tl, ty) / 1.3
    common = {"predictions": fl, "references": fy, "test_logits": tl, "test_labels": ty}
    assert module.compute(**common, original_test_accuracy=lower)["mubench_score"] == 0.0
    lenient = module.compute(**common, original_test_accuracy=lower, method="grad_ascent")
    assert lenient["mubench_score"] == pytest.approx(
        mubench_score(
            test_accuracy=split_accuracy(tl, ty),
            forget_accuracy=split_accuracy(fl, fy),
            original_test_accuracy=lower,
            num_labels=K,
            method="grad_ascent",
        )
    )
    assert lenient["mubench_score"] > 0
    with pytest.raises(ValueError, match="original_test_accuracy"):
        module.compute(predictions=fl, references=fy, test_logits=tl, test_labels=ty)


def test_forget_quality_module(hf_cache, splits):
    data, retrain, _ = splits
    fl, fy = data["forget"]
    module = load("forget_quality", hf_cache)
    result = module.compute(predictions=fl, references=fy, retrain_logits=retrain["forget"])
    expected = forget_quality_test(fl, fy, retrain["forget"])
    assert result == {
        "forget_quality": pytest.approx(expected.p_value),
        "ks_statistic": pytest.approx(expected.ks_statistic),
    }
    with pytest.raises(ValueError, match="different task or deletion config"):
        module.compute(predictions=fl, references=fy, retrain_logits=retrain["forget"][:-1])


def test_gap_to_retrain_module(hf_cache, splits):
    data, retrain, _ = splits
    logits = {name: data[name][0] for name in ("forget", "retain", "test")}
    labels = {name: data[name][1] for name in ("forget", "retain", "test")}
    module = load("gap_to_retrain", hf_cache)
    result = module.compute(
        predictions=logits["forget"],
        references=labels["forget"],
        retain_logits=logits["retain"],
        retain_labels=labels["retain"],
        test_logits=logits["test"],
        test_labels=labels["test"],
        retrain_logits=retrain,
    )
    full = compute_unlearning_metrics(logits, labels, retrain_logits=retrain)
    assert set(result) == {
        "gap_to_retrain",
        "gap_forget_accuracy",
        "gap_retain_accuracy",
        "gap_test_accuracy",
        "gap_mia_efficacy",
    }
    for key, value in result.items():
        assert value == pytest.approx(full[key])
    assert result["gap_forget_accuracy"] == pytest.approx(
        abs(
            split_accuracy(logits["forget"], labels["forget"])
            - split_accuracy(retrain["forget"], labels["forget"])
        )
    )
    bad = dict(retrain, retain=retrain["retain"][:, :3])
    with pytest.raises(
        ValueError, match=r"retrain_logits\['retain'\] has shape .*different task or deletion config"
    ):
        module.compute(
            predictions=logits["forget"],
            references=labels["forget"],
            retain_logits=logits["retain"],
            retain_labels=labels["retain"],
            test_logits=logits["test"],
            test_labels=labels["test"],
            retrain_logits=bad,
        )


def test_mubench_suite_module(hf_cache, splits):
    data, retrain, teachers = splits
    module = load("mubench", hf_cache)
    result = module.compute(
        predictions=data["forget"][0],
        references=data["forget"][1],
        retain_logits=data["retain"][0],
        retain_labels=data["retain"][1],
        test_logits=data["test"][0],
        test_labels=data["test"][1],
        ood_logits=data["ood"][0],
        ood_labels=data["ood"][1],
        original_test_accuracy=0.8,
        method="neggrad",
        random_teacher_logits=teachers,
        retrain_logits=retrain,
        seed=1,
        bootstrap_resamples=200,
    )
    expected = compute_unlearning_metrics(
        {name: value[0] for name, value in data.items()},
        {name: value[1] for name, value in data.items()},
        original_test_accuracy=0.8,
        method="neggrad",
        random_teacher_logits=teachers,
        retrain_logits=retrain,
        seed=1,
        bootstrap_resamples=200,
    )
    assert result.keys() == expected.keys()
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-12), key
    for key in (
        "ood_accuracy",
        "ood_accuracy_ci_low",
        "mia_efficacy_ci_high",
        "mia_efficacy_lr",
        "zrf",
        "mubench_score",
        "forget_quality",
        "gap_to_retrain",
        "retrain_zrf",
    ):
        assert key in result
    noise = module.compute(
        predictions=data["forget"][0],
        references=data["forget"][1],
        retain_logits=data["retain"][0],
        retain_labels=data["retain"][1],
        test_logits=data["test"][0],
        test_labels=data["test"][1],
        zrf_teacher="uniform_noise",
        zrf_base=math.e,
        zrf_noise_draws=10,
        bootstrap_resamples=0,
    )
    assert noise["zrf"] == pytest.approx(
        zrf(data["forget"][0], teacher="uniform_noise", base=math.e, num_draws=10, seed=0), abs=1e-12
    )
    assert not any(key.endswith(("_ci_low", "_ci_high")) for key in noise)
    with pytest.raises(ValueError, match="give both ood_logits and ood_labels"):
        module.compute(
            predictions=data["forget"][0],
            references=data["forget"][1],
            retain_logits=data["retain"][0],
            retain_labels=data["retain"][1],
            test_logits=data["test"][0],
            test_labels=data["test"][1],
            ood_logits=data["ood"][0],
        )


def test_modules_pass_input_errors_through(hf_cache, splits):
    data, _, _ = splits
    module = load("mubench", hf_cache)
    labels = data["retain"][1].copy()
    labels[3] = K
    with pytest.raises(ValueError, match=r"labels\['retain'\] must lie in \[0, 5\)"):
        module.compute(
            predictions=data["forget"][0],
            references=data["forget"][1],
            retain_logits=data["retain"][0],
            retain_labels=labels,
            test_logits=data["test"][0],
            test_labels=data["test"][1],
        )
    accuracy = load("split_accuracy", hf_cache)
    with pytest.raises(ValueError, match="is empty"):
        accuracy.compute(predictions=[], references=[])
