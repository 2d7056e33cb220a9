"""The generative metrics (mubench_hf.metrics.generative) on hand-computed values, and their evaluate modules.

Every expected number below is worked out by hand in the comment beside it (natural logs; ln 2 = 0.6931...).
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import evaluate
import numpy as np
import pytest
import yaml
from scipy.special import comb

from mubench_hf.metrics.generative import (
    aggregate_truth_ratio,
    answer_probability,
    extraction_strength,
    extraction_strengths,
    harmonic_mean,
    loss_scores,
    mia_auc,
    min_k_plus_plus_scores,
    min_k_scores,
    model_utility,
    normalised_answer_probability,
    privleak,
    rouge_l_recall,
    rouge_l_recalls,
    truth_ratio,
    truth_ratio_forget_quality_test,
    truth_ratios,
    zlib_entropy,
    zlib_scores,
)
from mubench_hf.resources import list_metrics, metric_path

LN2, LN4, LN8, LN16 = (math.log(v) for v in (2, 4, 8, 16))
MODULES = (
    "rouge_l",
    "answer_prob",
    "truth_ratio",
    "tofu_forget_quality",
    "model_utility",
    "mia_loss_auc",
    "mia_zlib_auc",
    "mia_min_k_auc",
    "mia_min_k_plus_plus_auc",
    "privleak",
    "extraction_strength",
    "verbmem",
    "knowmem",
)


# --------------------------------------------------------------------------- ROUGE-L
def test_rouge_l_recall_by_hand():
    # reference words: the cat sat on the mat (6); "cats" stems to "cat"; LCS = the cat sat = 3 -> 3/6
    assert rouge_l_recalls(["the cats sat"], ["The cat sat on the mat"]) == pytest.approx([0.5])
    # order matters: LCS of "mat the cat" with the reference is 2 (the cat) -> 2/6
    assert rouge_l_recall(["mat the cat"], ["the cat sat on the mat"]) == pytest.approx(1 / 3)
    # recall ignores extra words; an empty generation scores 0
    assert rouge_l_recall(["the cat sat on the mat and more", ""], ["the cat sat on the mat", "x"]) == 0.5


def test_rouge_l_input_errors():
    with pytest.raises(ValueError, match="2 texts but references has 1"):
        rouge_l_recalls(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="not a single string"):
        rouge_l_recalls("abc", ["abc"])
    with pytest.raises(ValueError, match="entry 1 is int"):
        rouge_l_recalls(["a", 3], ["a", "b"])
    with pytest.raises(ValueError, match="is empty"):
        rouge_l_recalls([], [])


# --------------------------------------------------------------------------- probabilities
def test_answer_probability_by_hand():
    # exp(-0) = 1 and exp(-ln 2) = 0.5 -> mean 0.75
    assert answer_probability([0.0, LN2]) == pytest.approx(0.75)
    # row 1: p(true) = 1/2, p(false) = 1/4 + 1/4 -> 0.5; row 2: 1 / (1 + 1/2) = 2/3 -> mean 7/12
    assert normalised_answer_probability([LN2, 0.0], [[LN4, LN4], [LN2]]) == pytest.approx(7 / 12)
    with pytest.raises(ValueError, match="non-finite"):
        answer_probability([0.1, float("nan")])
    with pytest.raises(ValueError, match="sample 1 has no perturbed answer"):
        normalised_answer_probability([LN2, LN2], [[LN4], []])
    with pytest.raises(ValueError, match="same samples"):
        normalised_answer_probability([LN2], [[LN4], [LN4]])


def test_truth_ratio_by_hand():
    # p(true) = 1/2; mean wrong loss (ln 4 + ln 16)/2 = ln 8 -> p(false) = 1/8; R = (1/8)/(1/2) = 1/4
    # second row: p(true) = 1/4, p(false) = 1/2 -> R = 2
    ratios = truth_ratios([LN2, LN4], [[LN4, LN16], [LN2]])
    assert ratios == pytest.approx([0.25, 2.0])
    # forget: mean(min(R, 1/R)) = (1/4 + 1/2)/2; others: mean(max(0, 1 - R)) = (3/4 + 0)/2
    assert aggregate_truth_ratio(ratios, "closer_to_1_better") == pytest.approx(0.375)
    assert aggregate_truth_ratio(ratios, "true_better") == pytest.approx(0.375)
    assert truth_ratio([LN2], [[LN4, LN16]], "true_better") == pytest.approx(0.75)
    assert truth_ratio([LN2], [[LN2, LN2]]) == pytest.approx(1.0)  # equally likely -> 1 on forget
    with pytest.raises(ValueError, match="aggregator must be one of"):
        aggregate_truth_ratio(ratios, "mean")


# --------------------------------------------------------------------------- TOFU aggregates
def test_forget_quality_ks_by_hand():
    same = truth_ratio_forget_quality_test([0.1, 0.5, 0.9], [0.9, 0.1, 0.5])
    assert same.p_value == pytest.approx(1.0) and same.ks_statistic == 0.0
    # two disjoint samples of 10: D = 1 and the exact two-sided p-value is 2 / C(20, 10)
    apart = truth_ratio_forget_quality_test(np.arange(10) / 10, 5 + np.arange(10) / 10)
    assert apart.ks_statistic == 1.0
    assert apart.p_value == pytest.approx(2 / comb(20, 10), rel=1e-6)
    with pytest.raises(ValueError, match="retrain_ratios is empty"):
        truth_ratio_forget_quality_test([0.1], [])


def test_model_utility_is_the_harmonic_mean():
    # 2 / (1/1 + 1/0.5) = 2/3; any 0 component zeroes it
    assert harmonic_mean([1.0, 0.5]) == pytest.approx(2 / 3)
    assert model_utility({"retain_answer_prob": 1.0, "retain_rouge_l": 0.5}) == pytest.approx(2 / 3)
    assert model_utility([0.9, 0.0, 0.8]) == 0.0
    # 3 / (1/0.5 + 1/0.25 + 1/1) = 3/7
    assert model_utility([0.5, 0.25, 1.0]) == pytest.approx(3 / 7)
    with pytest.raises(ValueError, match="at least one component"):
        model_utility([])
    with pytest.raises(ValueError, match=r"\['retain_truth_ratio'\] are None"):
        model_utility({"retain_rouge_l": 0.5, "retain_truth_ratio": None})
    with pytest.raises(ValueError, match="must lie in"):
        model_utility([1.5])


# --------------------------------------------------------------------------- sequence MIAs
def test_loss_and_zlib_scores_by_hand():
    # average loss -(−1 − 3)/2 = 2; a sample without tokens scores 0 (open-unlearning's choice)
    assert loss_scores([[-1.0, -3.0], [-0.5], []]) == pytest.approx([2.0, 0.5, 0.0])
    length = len(zlib.compress(b"hello hello hello"))
    assert zlib_entropy(["hello hello hello"]) == [length]
    assert zlib_scores([2.2], ["hello hello hello"]) == pytest.approx([2.2 / length])
    with pytest.raises(ValueError, match="2 samples but texts has 1"):
        zlib_scores([1.0, 2.0], ["a"])


def test_min_k_scores_by_hand():
    # n = 5, k = 0.4 -> int(2.0) = 2 lowest: -5, -4 -> score 4.5; n = 1 -> at least one token; n = 0 -> 0
    assert min_k_scores([[-1, -2, -3, -4, -5], [-0.5], []], k=0.4) == pytest.approx([4.5, 0.5, 0.0])
    # k = 1 is the LOSS score
    assert min_k_scores([[-1.0, -3.0]], k=1.0) == pytest.approx(loss_scores([[-1.0, -3.0]]))
    # padded input with a mask gives the same as the ragged one
    values = np.array([[-1, -2, -3, -4, -5], [-0.5, 9, 9, 9, 9]], dtype=float)
    mask = np.array([[1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    assert min_k_scores(values, k=0.4, mask=mask) == pytest.approx([4.5, 0.5])
    with pytest.raises(ValueError, match=r"k must be a fraction in \(0, 1\]"):
        min_k_scores([[-1.0]], k=0.0)
    with pytest.raises(ValueError, match="real tokens first"):
        min_k_scores(values, mask=np.array([[0, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool))


def test_min_k_plus_plus_scores_by_hand():
    # z = (−1 + 1.5)/0.5 = 1 and (−2 + 1.5)/sqrt(1e-6) = −500 (variance clamped at 1e-6); k = 0.5 of 2 -> 1
    scores = min_k_plus_plus_scores([[-1.0, -2.0]], [[-1.5, -1.5]], [[0.25, 1e-9]], k=0.5)
    assert scores == pytest.approx([500.0])
    with pytest.raises(ValueError, match="same number of tokens"):
        min_k_plus_plus_scores([[-1.0, -2.0]], [[-1.5]], [[0.25, 0.25]])


def test_mia_auc_orientation():
    # forget scores lower (lower loss = looks like members) than every holdout score -> 1
    assert mia_auc([1.0, 2.0], [3.0, 4.0]) == 1.0
    assert mia_auc([3.0, 4.0], [1.0, 2.0]) == 0.0
    assert mia_auc([1.0, 2.0], [1.0, 2.0]) == 0.5
    # one of four pairs inverted -> 3/4
    assert mia_auc([1.0, 3.5], [3.0, 4.0]) == 0.75


def test_privleak_by_hand():
    # ((1 − 0.8) − (1 − 0.5)) / (1 − 0.5) * 100 = −60
    assert privleak(0.8, 0.5) == pytest.approx(-60.0)
    assert privleak(0.6, 0.6) == 0.0
    # ((1 − 0.2) − 0.4) / 0.4 * 100 = 100
    assert privleak(0.2, 0.6) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="undefined when the retrain model's AUC is 1"):
        privleak(0.7, 1.0)
    with pytest.raises(ValueError, match=r"auc must be an AUC in \[0, 1\]"):
        privleak(1.2, 0.5)


# --------------------------------------------------------------------------- extraction strength
def test_extraction_strength_by_hand():
    # all right -> 1; first wrong -> suffix 2 of 3; last wrong -> 0 (open-unlearning's loop gives 1/3)
    assert extraction_strengths([[1, 2, 3], [9, 2, 3], [1, 2, 9]], [[1, 2, 3], [1, 2, 3], [1, 2, 3]]) == (
        pytest.approx([1.0, 2 / 3, 0.0])
    )
    # ragged rows; a wrong token in the middle leaves the suffix after it: 2 of 4; empty row -> 0
    assert extraction_strengths([[5, 0, 7, 8], [4], []], [[5, 6, 7, 8], [4], []]) == pytest.approx(
        [0.5, 1.0, 0.0]
    )
    assert extraction_strength([[1, 2]], [[1, 2]]) == 1.0
    with pytest.raises(ValueError, match="same number of tokens"):
        extraction_strengths([[1, 2]], [[1, 2, 3]])


# --------------------------------------------------------------------------- evaluate modules
def load(name: str, hf_cache: Path):
    return evaluate.load(metric_path(name), cache_dir=str(hf_cache / "metrics"))


@pytest.mark.parametrize("name", MODULES)
def test_generative_module_card(name):
    assert name in list_metrics()
    text = (Path(metric_path(name)) / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["title"] and header["description"]
    assert {"evaluate", "metric", "machine-unlearning", "mubench"} <= set(header["tags"])
    for section in ("## Definition", "## Inputs", "## Output values and range", "## What is a good value",
                    "## Limitations", "## Citation"):  # fmt: skip
        assert section in text, f"{name} card lacks {section!r}"
    assert "MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning" in text


@pytest.fixture(scope="module")
def tokens():
    """Ragged per-token statistics of 12 forget and 10 holdout samples (forget a little more likely)."""
    rng = np.random.default_rng(0)

    def side(n, shift):
        lengths = rng.integers(1, 9, size=n)
        lp = [-rng.gamma(2.0, 1.0, size=m) + shift for m in lengths]
        mu = [row - rng.uniform(0.1, 1.0, size=row.size) for row in lp]
        var = [rng.uniform(0.05, 2.0, size=row.size) for row in lp]
        texts = [" ".join(["word"] * int(m)) + f" {i}" for i, m in enumerate(lengths)]
        return lp, mu, var, texts

    return side(12, 0.5), side(10, 0.0)


def test_text_and_loss_modules(hf_cache):
    rouge = load("rouge_l", hf_cache)
    assert rouge.compute(predictions=["the cats sat", ""], references=["the cat sat on the mat", "x"]) == {
        "rouge_l": pytest.approx(0.25)
    }
    prob = load("answer_prob", hf_cache)
    assert prob.compute(predictions=[0.0, LN2]) == {"answer_prob": pytest.approx(0.75)}
    normalised = prob.compute(predictions=[LN2, 0.0], perturbed_losses=[[LN4, LN4], [LN2]])
    assert normalised == {"answer_prob": pytest.approx(7 / 12)}
    tr = load("truth_ratio", hf_cache)
    assert tr.compute(predictions=[LN2, LN4], perturbed_losses=[[LN4, LN16], [LN2]]) == {
        "truth_ratio": pytest.approx(0.375)
    }
    assert tr.compute(predictions=[LN2], perturbed_losses=[[LN4, LN16]], aggregator="true_better") == {
        "truth_ratio": pytest.approx(0.75)
    }
    with pytest.raises(ValueError, match=r"truth_ratio needs \['perturbed_losses'\]"):
        tr.compute(predictions=[LN2])
    fq = load("tofu_forget_quality", hf_cache)
    losses, pert = [LN2, LN4, 0.1], [[LN4, LN16], [LN2], [0.3, 0.2]]
    result = fq.compute(predictions=losses, perturbed_losses=pert, retrain_losses=[0.5, 0.6],
                        retrain_perturbed_losses=[[0.5], [0.9, 1.0]])  # fmt: skip
    expected = truth_ratio_forget_quality_test(
        truth_ratios(losses, pert), truth_ratios([0.5, 0.6], [[0.5], [0.9, 1.0]])
    )
    assert result == {
        "forget_quality": pytest.approx(expected.p_value),
        "ks_statistic": pytest.approx(expected.ks_statistic),
    }
    with pytest.raises(ValueError, match="retrain_losses"):
        fq.compute(predictions=losses, perturbed_losses=pert)
    mu = load("model_utility", hf_cache)
    assert mu.compute(predictions=[0.5, 0.25, 1.0]) == {"model_utility": pytest.approx(3 / 7)}


def test_sequence_modules(hf_cache, tokens):
    (f_lp, f_mu, f_var, f_text), (h_lp, h_mu, h_var, h_text) = tokens
    loss = load("mia_loss_auc", hf_cache).compute(predictions=f_lp, holdout_token_log_probs=h_lp)
    assert loss == {"mia_loss_auc": pytest.approx(mia_auc(loss_scores(f_lp), loss_scores(h_lp)))}
    z = load("mia_zlib_auc", hf_cache).compute(
        predictions=f_lp, references=f_text, holdout_token_log_probs=h_lp, holdout_texts=h_text
    )
    expected = mia_auc(zlib_scores(loss_scores(f_lp), f_text), zlib_scores(loss_scores(h_lp), h_text))
    assert z == {"mia_zlib_auc": pytest.approx(expected)}
    mk = load("mia_min_k_auc", hf_cache)
    assert mk.compute(predictions=f_lp, holdout_token_log_probs=h_lp, k=0.25) == {
        "mia_min_k_auc": pytest.approx(mia_auc(min_k_scores(f_lp, k=0.25), min_k_scores(h_lp, k=0.25)))
    }
    with pytest.raises(ValueError, match=r"mia_min_k_auc needs \['holdout_token_log_probs'\]"):
        mk.compute(predictions=f_lp)
    mkpp = load("mia_min_k_plus_plus_auc", hf_cache).compute(
        predictions=f_lp, token_means=f_mu, token_variances=f_var, holdout_token_log_probs=h_lp,
        holdout_token_means=h_mu, holdout_token_variances=h_var,
    )  # fmt: skip
    expected = mia_auc(min_k_plus_plus_scores(f_lp, f_mu, f_var), min_k_plus_plus_scores(h_lp, h_mu, h_var))
    assert mkpp == {"mia_min_k_plus_plus_auc": pytest.approx(expected)}
    # the retrain model: the same samples, shifted so that forget no longer stands out
    r_lp = [row - 0.5 for row in f_lp]
    pl = load("privleak", hf_cache).compute(
        predictions=f_lp, holdout_token_log_probs=h_lp, retrain_token_log_probs=r_lp,
        retrain_holdout_token_log_probs=h_lp,
    )  # fmt: skip
    auc = mia_auc(min_k_scores(f_lp), min_k_scores(h_lp))
    retrain_auc = mia_auc(min_k_scores(r_lp), min_k_scores(h_lp))
    assert pl == {
        "privleak": pytest.approx(privleak(auc, retrain_auc)),
        "mia_min_k_auc": pytest.approx(auc),
        "retrain_mia_min_k_auc": pytest.approx(retrain_auc),
    }
    assert auc > retrain_auc and pl["privleak"] < 0  # the unlearned model leaks more than the retrain one
    es = load("extraction_strength", hf_cache)
    assert es.compute(predictions=[[5, 7, 9], [1]], references=[[4, 7, 9], [1]]) == {
        "extraction_strength": pytest.approx((2 / 3 + 1) / 2)
    }


# --------------------------------------------------------------------------- ranking and card labels
def test_generation_tasks_rank_by_forget_quality_then_model_utility():
    from mubench_hf.sweeps.ranking import RANKING_RULES, describe_metric, rank_for

    rows = [
        {"method": "retrain", "forget_quality": 1.0, "model_utility": 0.5},
        {"method": "grad_ascent", "forget_quality": 0.01, "model_utility": 0.9},
        {"method": "npo", "forget_quality": 0.30, "model_utility": 0.2},
        {"method": "idk", "forget_quality": 0.30, "model_utility": 0.6},  # ties npo: higher utility first
        {"method": "simnpo", "forget_quality": 0.30, "model_utility": 0.6},  # ties idk fully: by name
        {"method": "rmu", "forget_quality": None, "model_utility": 0.99},  # no forget quality: unranked
    ]
    accessors = {
        "name": lambda r: r["method"],
        "is_reference": lambda r: r["method"] == "retrain",
        "forget_quality": lambda r: r["forget_quality"],
        "model_utility": lambda r: r["model_utility"],
    }
    metric, ranked = rank_for("generation", rows, **accessors)
    assert metric == "forget_quality"
    assert [(r["method"], position) for r, position in ranked] == [
        ("retrain", "ref"),
        ("idk", 1),
        ("simnpo", 2),
        ("npo", 3),
        ("grad_ascent", 4),
        ("rmu", None),
    ]
    assert describe_metric(metric).startswith("Ranked by forget quality")
    assert (
        "forget quality" in RANKING_RULES["generation"]
        and "gap to retrain" in RANKING_RULES["classification"]
    )
    # without a retrain reference nothing is ranked: model utility alone would favour doing nothing
    _, unranked = rank_for("generation", [dict(r, forget_quality=None) for r in rows[1:]], **accessors)
    assert {position for _, position in unranked} == {None}
    assert describe_metric(metric, any_ranked=False).startswith(
        "Not ranked: no row here has a forget quality"
    )
    # classification keeps its rule (gap to retrain, lower first)
    metric, ranked = rank_for(
        "classification",
        [{"m": "a", "gap": 0.2}, {"m": "b", "gap": 0.1}],
        name=lambda r: r["m"],
        is_reference=lambda r: False,
        gap=lambda r: r["gap"],
    )
    assert metric == "gap_to_retrain" and [r["m"] for r, _ in ranked] == ["b", "a"]
    with pytest.raises(
        ValueError,
        match=r"no ranking rule for task kind 'audio'; known kinds: \['classification', 'generation', 'image_generation'\]",
    ):
        rank_for("audio", rows, **accessors)


def test_summaries_without_forget_quality_rank_by_the_forget_rouge_gap_to_retrain():
    from mubench_hf.sweeps.ranking import ROUGE_GAP, describe_metric, rank_for

    rows = [
        {"method": "retrain", "forget_rouge_l": 0.30, "retain_rouge_l": 0.40},
        {"method": "grad_ascent", "forget_rouge_l": 0.00, "retain_rouge_l": 0.10},  # gap 0.30
        {"method": "npo", "forget_rouge_l": 0.35, "retain_rouge_l": 0.20},  # gap 0.05
        {"method": "idk", "forget_rouge_l": 0.25, "retain_rouge_l": 0.38},  # gap 0.05, better retain
        {"method": "rmu", "forget_rouge_l": None, "retain_rouge_l": 0.9},  # nothing to compare: unranked
    ]
    accessors = {
        "name": lambda r: r["method"],
        "is_reference": lambda r: r["method"] == "retrain",
        "forget_quality": lambda r: None,
        "model_utility": lambda r: None,
        "forget_rouge": lambda r: r["forget_rouge_l"],
        "retain_rouge": lambda r: r["retain_rouge_l"],
    }
    metric, ranked = rank_for("generation", rows, **accessors)
    assert metric == ROUGE_GAP
    assert [(r["method"], p) for r, p in ranked] == [
        ("retrain", "ref"), ("idk", 1), ("npo", 2), ("grad_ascent", 3), ("rmu", None),
    ]  # fmt: skip
    assert "|forget ROUGE-L - the retrain row's|" in describe_metric(metric)
    # a MUSE-shaped group is ranked on VerbMem by the same rule, and its line says so
    assert "|VerbMem - the retrain row's|" in describe_metric(metric, muse=True)
    # a forget quality anywhere keeps TOFU's rule; no retrain row keeps the group unranked
    with_quality = [dict(r, fq=0.5 if r["method"] == "npo" else None) for r in rows]
    metric, _ = rank_for("generation", with_quality, **{**accessors, "forget_quality": lambda r: r["fq"]})
    assert metric == "forget_quality"
    _, unranked = rank_for("generation", rows[1:], **accessors)
    assert {p for _, p in unranked} == {None}


def test_card_labels_and_splits_of_generative_metrics():
    from mubench_hf.hub.cards import metric_label, metric_split

    assert (
        metric_split("forget_rouge_l") == "forget" and metric_split("real_authors_rouge_l") == "real_authors"
    )
    assert metric_split("model_utility") is None  # spans retain / real authors / world facts
    assert metric_label("original_forget_rouge_l") == "Forget ROUGE-L recall of the original model"
    assert metric_split("original_truth_ratio") == "forget"
    assert metric_label("privleak") == "PrivLeak (%, relative to retrain)"
    # the sequence LOSS attack of generation tasks is forget vs holdout; the classifier's is retain vs test
    assert metric_label("mia_loss_auc", "generation") == "LOSS-attack AUC, forget vs holdout"
    assert metric_split("mia_loss_auc", "generation") == "forget"
    assert (
        metric_split("mia_loss_auc") == "retain"
        and metric_label("mia_loss_auc") == "Loss-attack AUC, retain vs test"
    )
