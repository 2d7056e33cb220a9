"""ZRF (zero retrain forgetting) score of Chundawat et al. 2023, "Can bad teaching induce forgetting?".

``ZRF = 1 - mean_{x in Df} JS(softmax(model(x)) || softmax(teacher(x)))`` where the teacher is an
incompetent, randomly initialised model and JS is the Jensen-Shannon divergence

    JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m),   m = (p + q) / 2.

Logarithms are base 2, so JS lies in [0, 1] and ZRF in [0, 1]: 1 = the model answers Df like a random
model (fully "forgotten"), lower = its answers carry information the random model lacks.

Note that ``scipy.spatial.distance.jensenshannon`` returns the Jensen-Shannon *distance*, the square
root of the divergence; the divergence used here equals ``jensenshannon(p, q, base=2) ** 2``.

MU-Bench averages over many random teachers; pass a stack of teacher logits with a leading teacher
axis and the mean runs over teachers and samples alike.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.metrics._validate import as_logits, as_teacher_logits
from mubench_hf.metrics.outputs import log_softmax

# Work on blocks of about this many logits: big enough that NumPy's per-call overhead vanishes, small
# enough that the temporaries stay in cache and a 500-teacher stack never needs a second full copy.
_BLOCK_ELEMENTS = 1 << 17
_LN2 = float(np.log(2.0))


def js_divergence(p_logits: ArrayLike, q_logits: ArrayLike) -> np.ndarray:
    """Per-sample Jensen-Shannon divergence (base 2, in [0, 1]) between two models' softmax outputs.

    Args:
        p_logits, q_logits: shape (samples, classes) each.

    Returns:
        Shape (samples,).
    """
    p = as_logits(p_logits, "p_logits")
    q = as_logits(q_logits, "q_logits")
    if p.shape != q.shape:
        raise ValueError(f"p_logits and q_logits must have the same shape; got {p.shape} and {q.shape}")
    return _js_rows(log_softmax(p, axis=1), q)


def zrf_from_log_probs(
    model_log_probs: np.ndarray, teacher_logits: np.ndarray, *, name: str = "teacher_logits"
) -> float:
    """ZRF from the model's log-probabilities (samples, classes) and a (teachers, samples, classes) stack.

    Shapes are assumed validated (see :func:`zrf`); non-finite teacher logits raise a ``ValueError``
    naming ``name``. The divergence is accumulated block by block in float64 so float32 inputs do not
    lose precision in the mean.
    """
    teachers, samples, classes = teacher_logits.shape
    dtype = np.result_type(model_log_probs.dtype, teacher_logits.dtype)
    model_log_probs = model_log_probs.astype(dtype, copy=False)
    model_probs = np.exp(model_log_probs)
    model_neg_entropy = np.einsum("ij,ij->i", model_probs, model_log_probs)
    model_probs = _floor_probs(model_probs)
    rows_per_block = max(1, min(samples, _BLOCK_ELEMENTS // classes))
    teachers_per_block = max(1, _BLOCK_ELEMENTS // (rows_per_block * classes))
    total = 0.0
    for t0 in range(0, teachers, teachers_per_block):
        for s0 in range(0, samples, rows_per_block):
            block = teacher_logits[t0 : t0 + teachers_per_block, s0 : s0 + rows_per_block].astype(
                dtype, copy=False
            )
            rows = slice(s0, s0 + block.shape[1])
            # Non-finite logits turn the block's sum into NaN (inf - inf, 0 * inf): reported below instead
            # of a separate finiteness pass over a stack that can hold 10^8 values.
            with np.errstate(invalid="ignore", over="ignore"):
                block_sum = float(
                    _js_block(model_probs[rows], model_neg_entropy[rows], block).sum(dtype=np.float64)
                )
            if not np.isfinite(block_sum):
                last = t0 + block.shape[0] - 1
                raise ValueError(
                    f"{name} contains non-finite values (NaN or inf) among teachers {t0}..{last}"
                )
            total += block_sum
    return 1.0 - total / (teachers * samples)


def zrf(model_logits: ArrayLike, teacher_logits: ArrayLike) -> float:
    """ZRF score on the forget set.

    Args:
        model_logits: the unlearned model's logits on Df, shape (samples, classes).
        teacher_logits: a randomly initialised model's logits on the same samples, shape
            (samples, classes), or a stack from several random teachers, shape
            (teachers, samples, classes); the mean runs over teachers and samples.

    Returns:
        ``1 - mean JS`` in [0, 1] (JS in base 2); higher = closer to a random model's answers.
    """
    model = as_logits(model_logits, "model_logits")
    teachers = as_teacher_logits(teacher_logits, "teacher_logits", expected=model.shape)
    return zrf_from_log_probs(log_softmax(model, axis=1), teachers)


def _js_rows(p_log_probs: np.ndarray, q_logits: np.ndarray) -> np.ndarray:
    p = np.exp(p_log_probs)
    neg_entropy = np.einsum("ij,ij->i", p, p_log_probs)
    dtype = np.result_type(p_log_probs.dtype, q_logits.dtype)
    p = _floor_probs(p.astype(dtype))
    return _js_block(p, neg_entropy.astype(dtype), q_logits[np.newaxis].astype(dtype))[0]


def _floor_probs(p: np.ndarray) -> np.ndarray:
    # Probabilities that underflowed to 0 are raised to the smallest normal float, once per model: then
    # s = p + q > 0 in every block and log(s) is finite without a per-block guard. The change to any sum
    # is below classes * 1e-38.
    return np.maximum(p, np.finfo(p.dtype).tiny)


def _js_block(p: np.ndarray, p_neg_entropy: np.ndarray, q_logits: np.ndarray) -> np.ndarray:
    """JS(p || softmax(q_logits)) in bits for a (teachers, rows, classes) block against (rows, classes) p.

    Uses ``JS = 1/2 [sum p log p + sum q log q - sum s log s] / ln 2 + 1`` with ``s = p + q``, which
    follows from ``m = s / 2`` and ``sum s = 2``. It needs one exp (for q) and one log (for s) per
    element, the minimum for this divergence; ``sum q log q`` comes from the logits without a log.
    """
    shifted = q_logits - q_logits.max(axis=-1, keepdims=True)  # <= 0: exp cannot overflow
    exp_shifted = np.exp(shifted)
    normaliser = exp_shifted.sum(axis=-1, keepdims=True)
    # With u = z - max: sum_k q_k log q_k = sum_k q_k (u_k - log Z) = (sum_k e_k u_k) / Z - log Z. Using the
    # shifted logits keeps large logits from cancelling against their maximum in float32.
    q_neg_entropy = np.einsum("tik,tik->ti", exp_shifted, shifted) / normaliser[..., 0] - np.log(
        normaliser[..., 0]
    )
    s = exp_shifted
    s /= normaliser
    s += p  # > 0: p is floored (see _floor_probs)
    s_log_s = np.einsum("tik,tik->ti", s, np.log(s))
    js = 0.5 * (p_neg_entropy + q_neg_entropy - s_log_s) / _LN2 + 1.0
    # Rounding can push identical distributions a hair below 0 (or one-hot opposites above 1). NaN (from
    # non-finite logits: inf - inf, 0 * inf) passes through the clip so the caller can report it.
    return np.clip(js, 0.0, 1.0)
