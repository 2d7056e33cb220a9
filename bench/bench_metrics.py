"""Benchmark: the mubench-hf metric suite against the peers' own procedures on CIFAR-100-sized inputs.

Data (seeded, built here): float32 logits for forget 2,500 / retain 47,500 / test 10,000 samples over 100
classes (a trained-looking classifier), plus a retrained model's logits on the same samples.

Compared on the same inputs (no asserts; values and times are measured in this run):
  MU-Bench's procedure (``Evaluator`` in ``mubench/evaluation.py`` of CLU-UML/MU-Bench), re-written here:
      knowledge gap = mean of 500 ``sklearn.metrics.roc_auc_score`` calls on random equal-size retain draws;
      ZRF = 500 passes, each drawing uniform [0, 1) teacher logits, taking their softmax and
      ``scipy.spatial.distance.jensenshannon(p, q, axis=1) ** 2`` (natural log, scipy's default) over Df.
  SalUn's MIA efficacy (``evaluation/SVC_MIA.py`` of OPTML-Group/Unlearn-Sparse, "confidence"), re-written:
      ``sklearn.svm.SVC(C=3, gamma="auto", kernel="rbf")`` on the true-class softmax confidence, the first
      |Dt| retain rows vs Dt, and the share of Df predicted non-member.
  mubench-hf = ``compute_unlearning_metrics(..., zrf_teacher="uniform_noise", zrf_base=math.e)``: every
      metric of the unlearned model (accuracies with bootstrap intervals, exact knowledge gap, MU-Bench's
      ZRF, SalUn's MIA efficacy, the logistic MIA variant, loss-attack AUCs, MU-Bench score).
The uniform-noise teachers are the same numbers on both sides (pass i is the i-th draw of
``default_rng(SEED)``; MU-Bench uses NumPy's legacy global generator), so the ZRF values agree up to
rounding; generating them is part of the procedure on both sides.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.special import softmax
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC

from mubench_hf.metrics import (
    compute_unlearning_metrics,
    knowledge_gap,
    knowledge_gap_draw_std,
    mia_efficacy,
    mia_efficacy_lr,
    zrf,
)

FORGET, RETAIN, TEST, CLASSES = 2_500, 47_500, 10_000, 100
PASSES = 500  # MU-Bench's number of knowledge-gap draws and of uniform-noise teachers
SEED = 0


def make_split(rng: np.random.Generator, n: int, correct_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a trained-looking classifier: a ``correct_rate`` share of rows has the label on top."""
    labels = rng.integers(CLASSES, size=n)
    logits = rng.standard_normal((n, CLASSES), dtype=np.float32)
    correct = rng.random(n) < correct_rate
    top = np.where(correct, labels, (labels + rng.integers(1, CLASSES, size=n)) % CLASSES)
    logits[np.arange(n), top] += rng.uniform(2.0, 8.0, size=n).astype(np.float32)
    return logits, labels


def mubench_knowledge_gap(forget_logits, forget_labels, retain_logits, retain_labels) -> float:
    """The resampling procedure: mean sklearn ROC-AUC over PASSES equal-size retain draws."""
    forget_correct = (forget_logits.argmax(1) == forget_labels).astype(float)
    retain_correct = (retain_logits.argmax(1) == retain_labels).astype(float)
    rng = np.random.default_rng(SEED)
    membership = np.concatenate([np.ones(FORGET), np.zeros(FORGET)])  # retain draw positive, forget negative
    aucs = []
    for _ in range(PASSES):
        draw = retain_correct[rng.choice(RETAIN, size=FORGET, replace=False)]
        aucs.append(roc_auc_score(membership, np.concatenate([draw, forget_correct])))
    return float(np.mean(aucs))


def mubench_zrf(forget_logits) -> tuple[float, float]:
    """MU-Bench's ZRF: PASSES uniform-noise teachers, natural-log JS; returns (ZRF, spread sd over passes)."""
    rng = np.random.default_rng(SEED)
    model_probs = softmax(forget_logits.astype(np.float64), axis=1)
    scores = []
    for _ in range(PASSES):
        noise_probs = softmax(rng.random((FORGET, CLASSES)), axis=1)
        scores.append(1.0 - np.mean(jensenshannon(model_probs, noise_probs, axis=1) ** 2))
    return float(np.mean(scores)), float(np.std(scores))


def salun_mia_efficacy(forget, retain, test) -> float:
    """SalUn's SVC_MIA "confidence" entry on the same logits."""

    def confidence(split):
        logits, labels = split
        return softmax(logits, axis=1)[np.arange(len(labels)), labels]

    members, nonmembers = confidence(retain)[:TEST], confidence(test)
    attacker = SVC(C=3, gamma="auto", kernel="rbf").fit(
        np.concatenate([members, nonmembers])[:, None],
        np.concatenate([np.ones(members.size), np.zeros(nonmembers.size)]),
    )
    return float(1.0 - attacker.predict(confidence(forget)[:, None]).mean())


def timed(function, *args, **kwargs):
    """(value, wall time of one run)."""
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(SEED)
    logits, labels = {}, {}
    for split, n, rate in (("forget", FORGET, 0.9), ("retain", RETAIN, 0.98), ("test", TEST, 0.75)):
        logits[split], labels[split] = make_split(rng, n, rate)
    retrain = {
        split: make_split(rng, len(labels[split]), rate)[0]
        for split, rate in (("forget", 0.75), ("retain", 0.98), ("test", 0.75))
    }
    f, r, t = ((logits[s], labels[s]) for s in ("forget", "retain", "test"))
    noise = {"zrf_teacher": "uniform_noise", "zrf_base": math.e, "zrf_noise_draws": PASSES, "seed": SEED}

    print(f"inputs: forget {FORGET:,} / retain {RETAIN:,} / test {TEST:,} samples, {CLASSES} classes")
    kg_ref, kg_ref_s = timed(mubench_knowledge_gap, *f, *r)
    (zrf_ref, zrf_spread), zrf_ref_s = timed(mubench_zrf, logits["forget"])
    mia_ref, mia_ref_s = timed(salun_mia_efficacy, f, r, t)

    kg_ours, kg_ours_s = timed(knowledge_gap, *f, *r)
    zrf_ours, zrf_ours_s = timed(zrf, logits["forget"], teacher="uniform_noise", base=math.e, seed=SEED)
    mia_ours, mia_ours_s = timed(mia_efficacy, *f, *r, *t)
    mia_lr = mia_efficacy_lr(*f, *r, *t, seed=SEED)
    suite, suite_s = timed(compute_unlearning_metrics, logits, labels, original_test_accuracy=0.76, **noise)
    full, full_s = timed(
        compute_unlearning_metrics,
        logits,
        labels,
        original_test_accuracy=0.76,
        retrain_logits=retrain,
        **noise,
    )
    # The ZRF paper's teacher is a randomly initialised network; normal logits stand in for one here.
    stand_in = np.random.default_rng([SEED, 1]).standard_normal((1, FORGET, CLASSES), dtype=np.float32)
    zrf_network_bits = zrf(logits["forget"], stand_in, base=2)
    zrf_noise_bits = zrf(logits["forget"], teacher="uniform_noise", base=2, seed=SEED)
    kg_se = knowledge_gap_draw_std(f[0].argmax(1) == f[1], r[0].argmax(1) == r[1]) / np.sqrt(PASSES)

    rows = [
        (
            "knowledge gap",
            kg_ref_s,
            kg_ours_s,
            f"{kg_ref:.5f}",
            f"{kg_ours:.5f} (exact; MC s.e. {kg_se:.5f})",
        ),
        ("ZRF, 500 noise teachers, ln", zrf_ref_s, zrf_ours_s, f"{zrf_ref:.6f}", f"{zrf_ours:.6f}"),
        ("MIA efficacy (SalUn SVC)", mia_ref_s, mia_ours_s, f"{mia_ref:.4f}", f"{mia_ours:.4f}"),
        (
            "whole suite (every metric)",
            kg_ref_s + zrf_ref_s + mia_ref_s,
            suite_s,
            "KG+ZRF+MIA",
            f"{len(suite)} keys",
        ),
    ]
    print()
    print("times in seconds, one run each; peers' side: MU-Bench's KG and ZRF, SalUn's MIA efficacy")
    print(f"{'what':<30}{'peers s':>10}{'ours s':>10}{'speed-up':>10}   {'peers value':<14}ours value")
    for what, theirs, ours, their_value, our_value in rows:
        print(f"{what:<30}{theirs:>10.3f}{ours:>10.3f}{theirs / ours:>9.1f}x   {their_value:<14}{our_value}")
    print()
    print(
        f"ratio, whole suite vs the peers' procedures: {(kg_ref_s + zrf_ref_s + mia_ref_s) / suite_s:.1f}x; "
        "knowledge gap + ZRF alone (SalUn's SVC is the same fit on both sides): "
        f"{(kg_ref_s + zrf_ref_s) / (kg_ours_s + zrf_ours_s):.1f}x"
    )
    print(
        f"MU-Bench ZRF spread over its {PASSES} passes: sd {zrf_spread:.2e} "
        f"(s.e. of the mean {zrf_spread / np.sqrt(PASSES):.1e})"
    )
    print(
        f"MIA efficacy on these logits: SalUn's procedure {mia_ref:.4f}, ours (now SalUn's) {mia_ours:.4f}, "
        f"the earlier logistic attack (mia_efficacy_lr) {mia_lr:.4f}"
    )
    print(
        f"ZRF on these logits: MU-Bench (uniform noise, ln) {zrf_ours:.4f}; uniform noise in bits "
        f"{zrf_noise_bits:.4f}; random-network stand-in (normal logits, bits, the report's kind) "
        f"{zrf_network_bits:.4f}"
    )
    print(f"suite with retrain logits too ({len(full)} keys, SVC fitted for both models): {full_s:.2f} s")
    print("values:", ", ".join(f"{k}={v:.4f}" for k, v in suite.items()))


if __name__ == "__main__":
    main()
