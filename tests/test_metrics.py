"""The metric arithmetic in ``mubench_hf.metrics``: values against independent references and hand results."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.special import softmax
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from mubench_hf.metrics import (
    GAP_COMPONENTS,
    compute_unlearning_metrics,
    forget_quality,
    forget_quality_test,
    gap_to_retrain,
    js_divergence,
    knowledge_gap,
    knowledge_gap_draw_aucs,
    knowledge_gap_draw_std,
    knowledge_gap_from_correct,
    knowledge_gap_monte_carlo,
    loss_attack_auc,
    loss_attack_auc_from_losses,
    membership_attack,
    mia_efficacy,
    mubench_score,
    split_accuracy,
    split_outputs,
    zrf,
)

K = 10


def make_split(
    rng: np.random.Generator,
    n: int,
    *,
    correct_rate: float,
    margin: float = 4.0,
    noise: float = 1.0,
    k: int = K,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels where a ``correct_rate`` share of rows predicts the label with a given margin."""
    labels = rng.integers(k, size=n)
    logits = noise * rng.standard_normal((n, k))
    correct = rng.random(n) < correct_rate
    wrong_class = (labels + rng.integers(1, k, size=n)) % k
    target = np.where(correct, labels, wrong_class)
    logits[np.arange(n), target] += margin + 3 * noise  # far enough above the noise to decide the arg-max
    return logits, labels


# ----------------------------------------------------------------------------------------------- accuracy


def test_split_accuracy_counts_argmax_matches():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 1.0, 0.0]])
    labels = np.array([0, 2, 2, 1])
    # row 3 ties between classes 0 and 1: argmax takes the first, so it is wrong
    assert split_accuracy(logits, labels) == pytest.approx(0.5)
    assert split_accuracy(logits.astype(np.float32), labels.tolist()) == pytest.approx(0.5)


def test_split_outputs_per_sample_quantities():
    logits = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    out = split_outputs(logits, [0, 1])
    np.testing.assert_allclose(out.true_class_probability, [0.5, 0.25])
    np.testing.assert_allclose(out.loss, [np.log(2.0), np.log(4.0)])
    # uniform row has normalised entropy 1; (3/4, 1/4) has H = 0.8113 bits
    expected = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    np.testing.assert_allclose(out.normalised_entropy, [1.0, expected])
    np.testing.assert_array_equal(out.correct, [True, False])


# ------------------------------------------------------------------------------------------ knowledge gap


def test_knowledge_gap_sign_convention():
    right = np.array([[5.0, 0.0]] * 4)
    wrong = np.array([[0.0, 5.0]] * 4)
    zeros = np.zeros(4, dtype=int)
    # always wrong on Df, always right on Dr: perfectly separated, Dr scored higher -> AUC 1
    assert knowledge_gap(wrong, zeros, right, zeros) == 1.0
    # the reverse (Df answered better than Dr) -> 0
    assert knowledge_gap(right, zeros, wrong, zeros) == 0.0
    # same behaviour on both -> indistinguishable
    assert knowledge_gap(right, zeros, right, zeros) == 0.5


def test_knowledge_gap_closed_form_by_hand():
    # Df: 1 of 4 correct (0.25); Dr: 3 of 4 correct (0.75) -> 1/2 + (0.75 - 0.25)/2 = 0.75
    assert knowledge_gap_from_correct([1, 0, 0, 0], [1, 1, 0, 1]) == pytest.approx(0.75)


def _sklearn_resampled_aucs(forget_correct, retain_correct, n_draws, rng):
    m = len(forget_correct)
    membership = np.concatenate([np.ones(m), np.zeros(m)])  # Dr sample positive, Df negative
    aucs = []
    for _ in range(n_draws):
        sample = retain_correct[rng.choice(len(retain_correct), size=m, replace=False)]
        aucs.append(roc_auc_score(membership, np.concatenate([sample, forget_correct]).astype(float)))
    return np.array(aucs)


def test_knowledge_gap_exact_equals_mean_of_sklearn_resamples():
    rng = np.random.default_rng(0)
    forget_logits, forget_labels = make_split(rng, 60, correct_rate=0.55)
    retain_logits, retain_labels = make_split(rng, 900, correct_rate=0.8)
    forget_correct = forget_logits.argmax(1) == forget_labels
    retain_correct = retain_logits.argmax(1) == retain_labels
    aucs = _sklearn_resampled_aucs(forget_correct, retain_correct, 1000, np.random.default_rng(1))
    exact = knowledge_gap(forget_logits, forget_labels, retain_logits, retain_labels)
    tolerance = 4 * aucs.std(ddof=1) / np.sqrt(aucs.size)
    assert abs(exact - aucs.mean()) < tolerance
    # the exact value is not trivially 0.5 here: the model is worse on Df
    assert exact > 0.55
    # the hypergeometric spread matches the spread of the explicit draws
    assert knowledge_gap_draw_std(forget_correct, retain_correct) == pytest.approx(aucs.std(ddof=1), rel=0.1)


def test_knowledge_gap_monte_carlo_agrees_with_exact():
    rng = np.random.default_rng(2)
    forget_logits, forget_labels = make_split(rng, 80, correct_rate=0.3)
    retain_logits, retain_labels = make_split(rng, 1500, correct_rate=0.9)
    exact = knowledge_gap(forget_logits, forget_labels, retain_logits, retain_labels)
    mc = knowledge_gap_monte_carlo(
        forget_logits, forget_labels, retain_logits, retain_labels, n_draws=2000, seed=3
    )
    std = knowledge_gap_draw_std(
        forget_logits.argmax(1) == forget_labels, retain_logits.argmax(1) == retain_labels
    )
    assert std > 0
    assert abs(mc - exact) < 4 * std / np.sqrt(2000)
    again = knowledge_gap_monte_carlo(
        forget_logits, forget_labels, retain_logits, retain_labels, n_draws=2000, seed=3
    )
    assert again == mc  # seeded
    other = knowledge_gap_monte_carlo(
        forget_logits, forget_labels, retain_logits, retain_labels, n_draws=2000, seed=4
    )
    assert other != mc


def test_knowledge_gap_draw_aucs_is_a_tie_aware_auc():
    # When Dr is no larger than Df every draw is the whole of Dr, so each draw's AUC is one fixed number
    # that sklearn can confirm, for real-valued scores with ties too.
    rng = np.random.default_rng(5)
    forget_scores = rng.integers(0, 4, size=30).astype(float)
    retain_scores = rng.integers(1, 5, size=25).astype(float)
    reference = roc_auc_score(
        np.concatenate([np.ones(25), np.zeros(30)]), np.concatenate([retain_scores, forget_scores])
    )
    aucs = knowledge_gap_draw_aucs(forget_scores, retain_scores, n_draws=3, seed=0)
    np.testing.assert_allclose(aucs, reference, rtol=1e-12)


def test_knowledge_gap_with_small_retain_uses_all_of_it():
    forget_correct = np.array([1, 0, 0, 0, 1, 0])
    retain_correct = np.array([1, 1, 0])
    assert knowledge_gap_draw_std(forget_correct, retain_correct) == 0.0
    expected = 0.5 + 0.5 * (2 / 3 - 2 / 6)
    assert knowledge_gap_from_correct(forget_correct, retain_correct) == pytest.approx(expected)
    np.testing.assert_allclose(knowledge_gap_draw_aucs(forget_correct, retain_correct, n_draws=4), expected)


def test_knowledge_gap_rejects_bad_draw_count():
    with pytest.raises(ValueError, match="n_draws"):
        knowledge_gap_draw_aucs([1, 0], [1, 1, 0], n_draws=0)


# ------------------------------------------------------------------------------------------------------ ZRF


def _zrf_by_loop(model_logits, teacher_stack):
    divergences = [
        jensenshannon(softmax(model_logits[i]), softmax(teacher[i]), base=2) ** 2
        for teacher in teacher_stack
        for i in range(model_logits.shape[0])
    ]
    return 1.0 - float(np.mean(divergences))


def test_zrf_matches_scipy_jensenshannon_squared():
    rng = np.random.default_rng(0)
    model = 3 * rng.standard_normal((40, 7))
    teacher = rng.standard_normal((40, 7))
    assert zrf(model, teacher) == pytest.approx(_zrf_by_loop(model, teacher[None]), abs=1e-10)
    per_sample = js_divergence(model, teacher)
    reference = [jensenshannon(softmax(model[i]), softmax(teacher[i]), base=2) ** 2 for i in range(40)]
    np.testing.assert_allclose(per_sample, reference, atol=1e-12)


def test_zrf_averages_over_a_stack_of_teachers():
    rng = np.random.default_rng(1)
    model = 2 * rng.standard_normal((25, 5))
    teachers = rng.standard_normal((6, 25, 5))
    expected = _zrf_by_loop(model, teachers)
    assert zrf(model, teachers) == pytest.approx(expected, abs=1e-10)
    # the mean over teachers equals the mean of single-teacher scores
    assert zrf(model, teachers) == pytest.approx(np.mean([zrf(model, t) for t in teachers]), abs=1e-12)
    # float32 inputs are computed in float32 with a float64 accumulator
    assert zrf(model.astype(np.float32), teachers.astype(np.float32)) == pytest.approx(expected, abs=1e-5)


def test_zrf_blocks_give_the_same_value(monkeypatch):
    zrf_impl = importlib.import_module("mubench_hf.metrics.zrf")  # the package's `zrf` is the function

    rng = np.random.default_rng(2)
    model = rng.standard_normal((50, 4))
    teachers = rng.standard_normal((7, 50, 4))
    whole = zrf(model, teachers)
    monkeypatch.setattr(zrf_impl, "_BLOCK_ELEMENTS", 12)  # 3 rows per block, one teacher at a time
    assert zrf(model, teachers) == pytest.approx(whole, abs=1e-12)


def test_zrf_extremes():
    same = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    assert zrf(same, same) == pytest.approx(1.0, abs=1e-12)
    # disjoint one-hot outputs: JS = 1 bit -> ZRF 0; huge logits must not produce NaN
    a = np.array([[800.0, -800.0]])
    b = np.array([[-800.0, 800.0]])
    assert zrf(a, b) == pytest.approx(0.0, abs=1e-9)
    assert js_divergence(a, b)[0] == pytest.approx(1.0, abs=1e-9)
    assert np.isfinite(zrf(1e4 * np.eye(3), np.zeros((3, 3))))
    # large float32 logits must not cancel against their row maximum
    rng = np.random.default_rng(3)
    model = 30 * rng.standard_normal((50, 6))
    teachers = 300 * rng.standard_normal((2, 50, 6)) + 1e4
    expected = _zrf_by_loop(model, teachers)
    assert zrf(model.astype(np.float32), teachers.astype(np.float32)) == pytest.approx(expected, abs=1e-5)


# ------------------------------------------------------------------------------------------------------ MIA


# Two over-fitted "models": members (retain, and forget unless it should look like test data) get
# confident correct logits, non-members noisier ones. "strong" is separable, "mild" overlaps so the
# attacker is far from perfect (about 65 % of test called non-member).
_REGIMES = {
    "strong": ({"correct_rate": 1.0, "margin": 12.0, "noise": 0.5}, {"correct_rate": 0.7, "margin": 0.0}),
    "mild": ({"correct_rate": 0.97, "margin": 1.5}, {"correct_rate": 0.85, "margin": 0.5}),
}


def _memorising_model(rng, *, forget_like_test: bool, regime: str, n_forget: int = 3000):
    member, nonmember = _REGIMES[regime]
    retain = make_split(rng, 2000, **member)
    test = make_split(rng, 3000, **nonmember)
    forget = make_split(rng, n_forget, **(nonmember if forget_like_test else member))
    return forget, retain, test


@pytest.mark.parametrize("regime", ["strong", "mild"])
def test_mia_detects_a_memorised_forget_set(regime):
    (fl, fy), (rl, ry), (tl, ty) = _memorising_model(
        np.random.default_rng(0), forget_like_test=False, regime=regime
    )
    attack = membership_attack(fl, fy, rl, ry, tl, ty, seed=0)
    assert attack.samples_per_class == 2000  # balanced by subsampling the 3000 test rows
    # Df is judged member about as often as Dr is, far more often than unseen test data
    assert attack.efficacy == pytest.approx(1 - attack.retain_member_rate, abs=0.05)
    assert attack.efficacy < attack.test_nonmember_rate - 0.3
    assert loss_attack_auc(rl, ry, tl, ty) > 0.7
    assert loss_attack_auc(fl, fy, tl, ty) > 0.7
    if regime == "strong":
        assert attack.efficacy < 0.02 and loss_attack_auc(fl, fy, tl, ty) > 0.99


@pytest.mark.parametrize("regime", ["strong", "mild"])
def test_mia_is_at_chance_when_forget_looks_like_test(regime):
    (fl, fy), (rl, ry), (tl, ty) = _memorising_model(
        np.random.default_rng(1), forget_like_test=True, regime=regime
    )
    attack = membership_attack(fl, fy, rl, ry, tl, ty, seed=0)
    n_forget, n_test = len(fy), len(ty)
    rate = attack.test_nonmember_rate
    assert rate > 0.6
    # Df and Dt are two samples from one distribution: the rates differ by binomial noise only
    assert attack.efficacy == pytest.approx(
        rate, abs=4 * np.sqrt(rate * (1 - rate) * (1 / n_forget + 1 / n_test))
    )
    # and the loss attack cannot tell them apart (AUC standard error under the null)
    auc_se = np.sqrt((n_forget + n_test + 1) / (12 * n_forget * n_test))
    assert loss_attack_auc(fl, fy, tl, ty) == pytest.approx(0.5, abs=4 * auc_se)
    assert mia_efficacy(fl, fy, rl, ry, tl, ty, seed=0) == attack.efficacy


def test_mia_is_seeded():
    (fl, fy), (rl, ry), (tl, ty) = _memorising_model(
        np.random.default_rng(2), forget_like_test=True, regime="mild"
    )
    first = membership_attack(fl, fy, rl, ry, tl, ty, seed=7)
    assert membership_attack(fl, fy, rl, ry, tl, ty, seed=7) == first


def test_loss_attack_auc_by_hand():
    # member losses [0.1, 0.2] vs non-member [0.3, 0.15]: 3 of 4 pairs have the member lower
    assert loss_attack_auc_from_losses([0.1, 0.2], [0.3, 0.15]) == pytest.approx(0.75)
    assert loss_attack_auc_from_losses([0.2, 0.2], [0.2]) == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------ MU-Bench score


def test_mubench_score_perfect_unlearning_is_one():
    assert (
        mubench_score(test_accuracy=0.9, forget_accuracy=0.1, original_test_accuracy=0.9, num_labels=10)
        == 1.0
    )


def test_mubench_score_collapse_is_zero():
    # test accuracy 0.7 < 0.8 * 0.9 = 0.72: more than 20 % relative drop
    assert (
        mubench_score(test_accuracy=0.7, forget_accuracy=0.1, original_test_accuracy=0.9, num_labels=10)
        == 0.0
    )
    # Df accuracy 0.04 < 0.5 * 1/10: far below chance
    assert (
        mubench_score(test_accuracy=0.9, forget_accuracy=0.04, original_test_accuracy=0.9, num_labels=10)
        == 0.0
    )
    # the floor is a parameter
    assert (
        mubench_score(
            test_accuracy=0.9,
            forget_accuracy=0.04,
            original_test_accuracy=0.9,
            num_labels=10,
            chance_floor=0.3,
        )
        > 0.9
    )


def test_mubench_score_middle_case_by_hand():
    # closeness to original test acc: 1 - |0.9 - 0.95| = 0.95; to chance: 1 - |0.3 - 0.1| = 0.8
    # harmonic mean: 2 * 0.95 * 0.8 / 1.75 = 0.868571...
    score = mubench_score(test_accuracy=0.9, forget_accuracy=0.3, original_test_accuracy=0.95, num_labels=10)
    assert score == pytest.approx(2 * 0.95 * 0.8 / 1.75)
    # exactly at the allowed 20 % drop is still scored: 1 - 0.16 = 0.84 and 1 - 0 = 1
    edge = mubench_score(test_accuracy=0.64, forget_accuracy=0.5, original_test_accuracy=0.8, num_labels=2)
    assert edge == pytest.approx(2 * 0.84 / 1.84)


def test_mubench_score_checks_its_inputs():
    with pytest.raises(ValueError, match="original_test_accuracy"):
        mubench_score(test_accuracy=0.9, forget_accuracy=0.1, original_test_accuracy=90.0, num_labels=10)
    with pytest.raises(ValueError, match="num_labels"):
        mubench_score(test_accuracy=0.9, forget_accuracy=0.1, original_test_accuracy=0.9, num_labels=1)
    with pytest.raises(TypeError):
        mubench_score(test_accuracy=0.9, forget_accuracy=0.1, num_labels=10)  # original accuracy is required


# ------------------------------------------------------------------------------------------ forget quality


def test_forget_quality_is_the_ks_p_value_of_per_sample_losses():
    rng = np.random.default_rng(0)
    logits, labels = make_split(rng, 300, correct_rate=0.6)
    retrain = logits + 0.3 * rng.standard_normal(logits.shape)
    result = forget_quality_test(logits, labels, retrain)
    rows = np.arange(300)
    loss = -np.log(softmax(logits, axis=1)[rows, labels])
    retrain_loss = -np.log(softmax(retrain, axis=1)[rows, labels])
    reference = ks_2samp(loss, retrain_loss)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.ks_statistic == pytest.approx(reference.statistic)
    assert forget_quality(logits, labels, retrain) == result.p_value


def test_forget_quality_extremes():
    rng = np.random.default_rng(1)
    logits, labels = make_split(rng, 400, correct_rate=0.5)
    same = forget_quality_test(logits, labels, logits)
    assert same.p_value == pytest.approx(1.0) and same.ks_statistic == 0.0
    memorised, _ = make_split(rng, 400, correct_rate=1.0, margin=15.0)
    memorised[np.arange(400), labels] += 30.0
    assert forget_quality(memorised, labels, logits) < 1e-6


# ------------------------------------------------------------------------------------------ gap to retrain


def test_gap_to_retrain_by_hand():
    unlearned = {"forget_accuracy": 0.5, "retain_accuracy": 0.9, "test_accuracy": 0.8, "mia_efficacy": 0.4}
    retrain = {"forget_accuracy": 0.7, "retain_accuracy": 1.0, "test_accuracy": 0.8, "mia_efficacy": 0.1}
    gaps = gap_to_retrain(unlearned, retrain)
    assert gaps["gap_forget_accuracy"] == pytest.approx(0.2)
    assert gaps["gap_retain_accuracy"] == pytest.approx(0.1)
    assert gaps["gap_test_accuracy"] == 0.0
    assert gaps["gap_mia_efficacy"] == pytest.approx(0.3)
    assert gaps["gap_to_retrain"] == pytest.approx(0.15)
    assert set(gaps) == {"gap_to_retrain", *(f"gap_{name}" for name in GAP_COMPONENTS)}
    with pytest.raises(ValueError, match="retrain metrics lack 'mia_efficacy'"):
        gap_to_retrain(unlearned, {k: v for k, v in retrain.items() if k != "mia_efficacy"})


# ----------------------------------------------------------------------------------------------- the suite


@pytest.fixture(scope="module")
def suite_inputs():
    rng = np.random.default_rng(42)
    logits, labels = {}, {}
    for split, n, rate in (("forget", 120, 0.4), ("retain", 600, 0.95), ("test", 300, 0.8), ("ood", 90, 0.5)):
        logits[split], labels[split] = make_split(rng, n, correct_rate=rate)
    retrain = {
        split: make_split(rng, len(labels[split]), correct_rate=0.8)[0]
        for split in ("forget", "retain", "test")
    }
    teachers = 0.1 * rng.standard_normal((4, 120, K))
    return logits, labels, retrain, teachers


def test_suite_matches_each_metric(suite_inputs):
    logits, labels, retrain, teachers = suite_inputs
    out = compute_unlearning_metrics(
        logits,
        labels,
        num_labels=K,
        original_test_accuracy=0.82,
        random_teacher_logits=teachers,
        retrain_logits=retrain,
        seed=3,
    )
    f, r, t = ((logits[s], labels[s]) for s in ("forget", "retain", "test"))
    for split in ("forget", "retain", "test", "ood"):
        assert out[f"{split}_accuracy"] == split_accuracy(logits[split], labels[split])
    assert "validation_accuracy" not in out
    assert out["knowledge_gap"] == pytest.approx(knowledge_gap(*f, *r))
    assert out["zrf"] == pytest.approx(zrf(logits["forget"], teachers))
    attack = membership_attack(*f, *r, *t, seed=3)
    assert out["mia_efficacy"] == attack.efficacy
    assert out["mia_test_nonmember_rate"] == attack.test_nonmember_rate
    assert out["mia_loss_auc"] == pytest.approx(loss_attack_auc(*r, *t))
    assert out["mia_forget_loss_auc"] == pytest.approx(loss_attack_auc(*f, *t))
    assert out["mubench_score"] == pytest.approx(
        mubench_score(
            test_accuracy=out["test_accuracy"],
            forget_accuracy=out["forget_accuracy"],
            original_test_accuracy=0.82,
            num_labels=K,
        )
    )
    assert out["forget_quality"] == pytest.approx(forget_quality(*f, retrain["forget"]))
    assert out["retrain_forget_accuracy"] == split_accuracy(retrain["forget"], labels["forget"])
    assert out["retrain_mia_efficacy"] == mia_efficacy(
        retrain["forget"],
        labels["forget"],
        retrain["retain"],
        labels["retain"],
        retrain["test"],
        labels["test"],
        seed=3,
    )
    expected_gaps = gap_to_retrain(
        out, {name[len("retrain_") :]: v for name, v in out.items() if name.startswith("retrain_")}
    )
    for key, value in expected_gaps.items():
        assert out[key] == pytest.approx(value)
    assert all(isinstance(v, float) for v in out.values())


def test_suite_keys_follow_the_inputs(suite_inputs):
    logits, labels, _, _ = suite_inputs
    base = {s: logits[s] for s in ("forget", "retain", "test")}
    base_labels = {s: labels[s] for s in base}
    out = compute_unlearning_metrics(base, base_labels)
    assert set(out) == {
        "forget_accuracy",
        "retain_accuracy",
        "test_accuracy",
        "knowledge_gap",
        "mia_efficacy",
        "mia_test_nonmember_rate",
        "mia_loss_auc",
        "mia_forget_loss_auc",
    }


def test_suite_with_retrain_equal_to_unlearned_has_no_gap(suite_inputs):
    logits, labels, _, _ = suite_inputs
    out = compute_unlearning_metrics(
        logits, labels, retrain_logits={s: logits[s] for s in ("forget", "retain", "test")}
    )
    assert out["gap_to_retrain"] == 0.0
    assert out["forget_quality"] == pytest.approx(1.0)
    assert out["retrain_knowledge_gap"] == out["knowledge_gap"]


def test_suite_accepts_float32_and_lists(suite_inputs):
    logits, labels, _, _ = suite_inputs
    as32 = {s: v.astype(np.float32) for s, v in logits.items()}
    as_lists = {s: v.tolist() for s, v in logits.items()}
    ref = compute_unlearning_metrics(logits, labels)
    for variant in (as32, as_lists):
        out = compute_unlearning_metrics(variant, {s: list(v) for s, v in labels.items()})
        for key, value in ref.items():
            assert out[key] == pytest.approx(value, abs=1e-6), key


# ------------------------------------------------------------------------------------------------ bad input


def _good(rng=None):
    rng = rng or np.random.default_rng(0)
    logits, labels = {}, {}
    for split, n in (("forget", 10), ("retain", 30), ("test", 20)):
        logits[split], labels[split] = make_split(rng, n, correct_rate=0.5)
    return logits, labels


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda lg, lb: lb.__setitem__("retain", lb["retain"][:-1]),
            r"labels\['retain'\] has 29 labels but logits\['retain'\] has 30 rows",
        ),
        (
            lambda lg, lb: lg["test"].__setitem__((3, 2), np.nan),
            r"logits\['test'\] contains non-finite .* first at row 3",
        ),
        (lambda lg, lb: lg["forget"].__setitem__((0, 0), np.inf), r"logits\['forget'\] contains non-finite"),
        (
            lambda lg, lb: (
                lg.__setitem__("test", np.zeros((0, K))),
                lb.__setitem__("test", np.zeros(0, int)),
            ),
            r"logits\['test'\] is empty",
        ),
        (
            lambda lg, lb: lb["forget"].__setitem__(4, K),
            r"labels\['forget'\] must lie in \[0, 10\) .* found 10 at index 4",
        ),
        (lambda lg, lb: lb["test"].__setitem__(0, -1), r"labels\['test'\] must lie in \[0, 10\)"),
        (lambda lg, lb: lg.__setitem__("retain", lg["retain"][:, 0]), r"logits\['retain'\] must be 2-D"),
        (
            lambda lg, lb: lg.__setitem__("test", lg["test"][:, :7]),
            r"logits\['test'\] has 7 classes but logits\['forget'\] has 10",
        ),
        (
            lambda lg, lb: lb.__setitem__("retain", lb["retain"] + 0.5),
            r"labels\['retain'\] must hold integer class ids",
        ),
        (lambda lg, lb: lg.pop("test"), r"logits lacks the split\(s\) \['test'\]"),
        (
            lambda lg, lb: (lg.__setitem__("dev", lg["test"]), lb.__setitem__("dev", lb["test"])),
            r"unknown split\(s\) \['dev'\]; known splits",
        ),
        (lambda lg, lb: lb.pop("retain"), r"labels lacks the split\(s\) \['retain'\]"),
    ],
    ids=[
        "length-mismatch",
        "nan",
        "inf",
        "empty-split",
        "label-too-large",
        "label-negative",
        "logits-1d",
        "class-count-mismatch",
        "non-integer-labels",
        "missing-split",
        "unknown-split",
        "missing-labels",
    ],
)
def test_suite_rejects_bad_input(mutate, message):
    logits, labels = _good()
    mutate(logits, labels)
    with pytest.raises(ValueError, match=message):
        compute_unlearning_metrics(logits, labels)


@pytest.mark.parametrize(
    ("split", "shape", "hint"),
    [("retain", (29, K), "samples"), ("test", (20, 7), "classes"), ("forget", (11, K), "samples")],
)
def test_suite_rejects_retrain_logits_from_another_config(split, shape, hint):
    logits, labels = _good()
    retrain = {s: v.copy() for s, v in logits.items()}
    retrain[split] = np.zeros(shape)
    with pytest.raises(
        ValueError, match=rf"retrain_logits\['{split}'\] has shape .*different task or deletion config"
    ):
        compute_unlearning_metrics(logits, labels, retrain_logits=retrain)


def test_suite_rejects_incomplete_retrain_and_bad_teachers():
    logits, labels = _good()
    with pytest.raises(ValueError, match=r"retrain_logits lacks the split\(s\) \['test'\]"):
        compute_unlearning_metrics(
            logits, labels, retrain_logits={"forget": logits["forget"], "retain": logits["retain"]}
        )
    with pytest.raises(
        ValueError, match=r"random_teacher_logits has shape \(9, 10\) but the unlearned model's forget"
    ):
        compute_unlearning_metrics(logits, labels, random_teacher_logits=np.zeros((2, 9, K)))
    teachers = np.zeros((3, 10, K))
    teachers[2, 4, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"random_teacher_logits contains non-finite values .* teachers 0\.\.2"
    ):
        compute_unlearning_metrics(logits, labels, random_teacher_logits=teachers)
    with pytest.raises(ValueError, match="num_labels=12"):
        compute_unlearning_metrics(logits, labels, num_labels=12)
    with pytest.raises(ValueError, match="original_test_accuracy must be in"):
        compute_unlearning_metrics(logits, labels, original_test_accuracy=85.0)


def test_single_metrics_name_their_arguments():
    logits, labels = _good()
    with pytest.raises(ValueError, match="retain_logits has 7 classes but forget_logits has 10"):
        knowledge_gap(logits["forget"], labels["forget"], logits["retain"][:, :7], labels["retain"] % 7)
    with pytest.raises(ValueError, match="forget_labels has 9 labels but forget_logits has 10 rows"):
        knowledge_gap(logits["forget"], labels["forget"][:9], logits["retain"], labels["retain"])
    with pytest.raises(ValueError, match="teacher_logits has shape"):
        zrf(logits["forget"], np.zeros((10, 3)))
    for bad_value in (np.inf, -np.inf):
        teacher = np.zeros((10, K))
        teacher[3, 3] = bad_value
        with pytest.raises(ValueError, match="teacher_logits contains non-finite"):
            zrf(logits["forget"], teacher)
    with pytest.raises(
        ValueError, match="retrain_forget_logits has shape .*different task or deletion config"
    ):
        forget_quality(logits["forget"], labels["forget"], logits["forget"][:5])
    with pytest.raises(ValueError, match="test_logits contains non-finite"):
        bad = logits["test"].copy()
        bad[0, 0] = np.nan
        mia_efficacy(
            logits["forget"], labels["forget"], logits["retain"], labels["retain"], bad, labels["test"]
        )
    with pytest.raises(ValueError, match="at least 2 columns"):
        split_accuracy(np.zeros((3, 1)), [0, 0, 0])
