"""ZRF (zero retrain forgetting) score of Chundawat et al. 2023, "Can bad teaching induce forgetting?".

``ZRF = 1 - mean_{x in Df} JS(softmax(model(x)) || softmax(teacher(x)))`` with the Jensen-Shannon
divergence ``JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m)``, ``m = (p + q) / 2``.

Two published variants, both available here (``teacher=`` and ``base=``):

* ``teacher="random_network"``, ``base=2`` (the paper's definition, the default): the teacher is an
  incompetent, randomly initialised model of the same architecture whose logits the caller passes
  (one model, or a stack averaged over teachers). In bits JS lies in [0, 1] and so does ZRF.
* ``teacher="uniform_noise"``, ``base=math.e`` (MU-Bench, ``get_zero_retrain_forgetting_score`` in
  ``mubench/evaluation.py`` of ``CLU-UML/MU-Bench``): each of ``num_draws`` (MU-Bench: 500) teachers is
  ``softmax`` of logits drawn uniformly from [0, 1), and JS is ``scipy.spatial.distance.jensenshannon``
  squared with its default natural logarithm, so JS lies in [0, ln 2] and ZRF in [1 - ln 2, 1]. The
  draws come from ``np.random.default_rng(seed)`` (one (samples, classes) array per draw, in order).

1 = the model answers Df like the teacher; lower = its answers carry information the teacher lacks.
``scipy.spatial.distance.jensenshannon`` returns the *distance*, the square root of the divergence.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError
from mubench_hf.metrics._validate import as_logits, as_teacher_logits
from mubench_hf.metrics.outputs import log_softmax

# Work on blocks of about this many logits: big enough that NumPy's per-call overhead vanishes, small
# enough that the temporaries stay in cache and a 500-teacher stack never needs a second full copy.
_BLOCK_ELEMENTS = 1 << 17
ZRF_TEACHERS: tuple[str, ...] = ("random_network", "uniform_noise")
MUBENCH_NOISE_DRAWS = 500


def check_base(base: float) -> float:
    """The logarithm base of the divergence: 2 (bits, the paper) or e (nats, MU-Bench / scipy)."""
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)):
        raise MubenchError(f"base must be 2 or math.e; got {base!r}")
    if not (base == 2 or math.isclose(float(base), math.e, rel_tol=1e-12)):
        raise MubenchError(f"base must be 2 (bits, the ZRF paper) or math.e (nats, MU-Bench); got {base!r}")
    return float(base)


def js_divergence(p_logits: ArrayLike, q_logits: ArrayLike, *, base: float = 2) -> np.ndarray:
    """Per-sample Jensen-Shannon divergence between two models' softmax outputs.

    Args:
        p_logits, q_logits: shape (samples, classes) each.
        base: 2 (bits, JS in [0, 1]) or ``math.e`` (nats, JS in [0, ln 2]).

    Returns:
        Shape (samples,).
    """
    log_base = math.log(check_base(base))
    p = as_logits(p_logits, "p_logits")
    q = as_logits(q_logits, "q_logits")
    if p.shape != q.shape:
        raise MubenchError(f"p_logits and q_logits must have the same shape; got {p.shape} and {q.shape}")
    p_log_probs = log_softmax(p, axis=1)
    dtype = np.result_type(p_log_probs.dtype, q.dtype)
    probs, neg_entropy = _model_terms(p_log_probs.astype(dtype, copy=False))
    return _js_block(probs, neg_entropy, q[np.newaxis].astype(dtype), log_base)[0]


def zrf_from_log_probs(
    model_log_probs: np.ndarray,
    teacher_logits: np.ndarray,
    *,
    name: str = "teacher_logits",
    base: float = 2,
) -> float:
    """ZRF from the model's log-probabilities (samples, classes) and a (teachers, samples, classes) stack.

    Shapes are assumed validated (see :func:`zrf`); non-finite teacher logits raise an error naming
    ``name``. The divergence is accumulated block by block in float64 so float32 inputs do not lose
    precision in the mean.
    """
    teachers, samples, classes = teacher_logits.shape
    dtype = np.result_type(model_log_probs.dtype, teacher_logits.dtype)
    rows_per_block = max(1, min(samples, _BLOCK_ELEMENTS // classes))
    teachers_per_block = max(1, _BLOCK_ELEMENTS // (rows_per_block * classes))

    def blocks() -> Iterator[tuple[int, slice, np.ndarray]]:
        for t0 in range(0, teachers, teachers_per_block):
            for s0 in range(0, samples, rows_per_block):
                block = teacher_logits[t0 : t0 + teachers_per_block, s0 : s0 + rows_per_block]
                yield t0, slice(s0, s0 + block.shape[1]), block.astype(dtype, copy=False)

    total = _sum_js(model_log_probs.astype(dtype, copy=False), blocks(), name, base)
    return 1.0 - total / (teachers * samples)


def zrf_uniform_noise_from_log_probs(
    model_log_probs: np.ndarray, *, num_draws: int = MUBENCH_NOISE_DRAWS, seed: int = 0, base: float = math.e
) -> float:
    """MU-Bench's ZRF: the teachers are ``softmax(U[0, 1) logits)``, ``num_draws`` of them, seeded.

    Draw ``i`` is the i-th (samples, classes) array of ``np.random.default_rng(seed).random``; blocks
    of several draws consume the stream in the same order, so the value does not depend on blocking.
    """
    if isinstance(num_draws, bool) or not isinstance(num_draws, (int, np.integer)) or num_draws < 1:
        raise MubenchError(f"num_draws must be a positive integer (MU-Bench uses 500); got {num_draws!r}")
    samples, classes = model_log_probs.shape
    rng = np.random.default_rng(seed)
    draws_per_block = max(1, _BLOCK_ELEMENTS // (samples * classes))

    def blocks() -> Iterator[tuple[int, slice, np.ndarray]]:
        for t0 in range(0, num_draws, draws_per_block):
            count = min(draws_per_block, num_draws - t0)
            yield t0, slice(0, samples), rng.random((count, samples, classes))

    total = _sum_js(model_log_probs.astype(np.float64, copy=False), blocks(), "noise teachers", base)
    return 1.0 - total / (num_draws * samples)


def zrf(
    model_logits: ArrayLike,
    teacher_logits: ArrayLike | None = None,
    *,
    teacher: str = "random_network",
    base: float = 2,
    num_draws: int = MUBENCH_NOISE_DRAWS,
    seed: int = 0,
) -> float:
    """ZRF score on the forget set (see the module docstring for the two teachers).

    Args:
        model_logits: the unlearned model's logits on Df, shape (samples, classes).
        teacher_logits: with ``teacher="random_network"`` (required there): a randomly initialised
            model's logits on the same samples, shape (samples, classes), or a stack from several random
            teachers, shape (teachers, samples, classes); the mean runs over teachers and samples.
            Must be None with ``teacher="uniform_noise"``.
        teacher: ``"random_network"`` (Chundawat et al.) or ``"uniform_noise"`` (MU-Bench).
        base: 2 (bits; ZRF in [0, 1]) or ``math.e`` (nats, as MU-Bench; ZRF in [1 - ln 2, 1]).
        num_draws, seed: the number of noise teachers and their generator's seed (``uniform_noise`` only).

    Returns:
        ``1 - mean JS``; higher = closer to the teacher's answers.
    """
    check_base(base)
    model = as_logits(model_logits, "model_logits")
    if teacher == "uniform_noise":
        if teacher_logits is not None:
            raise MubenchError(
                "teacher_logits must be None with teacher='uniform_noise' (the noise teachers are drawn "
                "here); pass teacher='random_network' to use a random model's logits"
            )
        return zrf_uniform_noise_from_log_probs(
            log_softmax(model, axis=1), num_draws=num_draws, seed=seed, base=base
        )
    if teacher != "random_network":
        raise MubenchError(f"teacher must be one of {list(ZRF_TEACHERS)}; got {teacher!r}")
    if teacher_logits is None:
        raise MubenchError(
            "teacher_logits is required with teacher='random_network': a randomly initialised model's "
            "logits on the forget set (or use teacher='uniform_noise')"
        )
    teachers = as_teacher_logits(teacher_logits, "teacher_logits", expected=model.shape)
    return zrf_from_log_probs(log_softmax(model, axis=1), teachers, base=base)


def _model_terms(model_log_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's probabilities (floored, see below) and ``sum p log p`` per row, computed once."""
    probs = np.exp(model_log_probs)
    neg_entropy = np.einsum("ij,ij->i", probs, model_log_probs)
    # Probabilities that underflowed to 0 are raised to the smallest normal float, once per model: then
    # s = p + q > 0 in every block and log(s) is finite without a per-block guard. The change to any sum
    # is below classes * 1e-38.
    return np.maximum(probs, np.finfo(probs.dtype).tiny), neg_entropy


def _sum_js(
    model_log_probs: np.ndarray,
    blocks: Iterator[tuple[int, slice, np.ndarray]],
    name: str,
    base: float,
) -> float:
    """Sum of JS over every (teacher, sample) pair of the blocks, in float64."""
    log_base = math.log(check_base(base))
    probs, neg_entropy = _model_terms(model_log_probs)
    total = 0.0
    for t0, rows, block in blocks:
        # Non-finite logits turn the block's sum into NaN (inf - inf, 0 * inf): reported below instead
        # of a separate finiteness pass over a stack that can hold 10^8 values.
        with np.errstate(invalid="ignore", over="ignore"):
            block_sum = float(
                _js_block(probs[rows], neg_entropy[rows], block, log_base).sum(dtype=np.float64)
            )
        if not np.isfinite(block_sum):
            raise MubenchError(
                f"{name} contains non-finite values (NaN or inf) among teachers "
                f"{t0}..{t0 + block.shape[0] - 1}"
            )
        total += block_sum
    return total


def _js_block(p: np.ndarray, p_neg_entropy: np.ndarray, q_logits: np.ndarray, log_base: float) -> np.ndarray:
    """JS(p || softmax(q_logits)) in the given log base for a (teachers, rows, classes) block.

    Uses ``JS = 1/2 [sum p ln p + sum q ln q - sum s ln s] + ln 2`` (in nats) with ``s = p + q``, which
    follows from ``m = s / 2`` and ``sum s = 2``; dividing by ``ln base`` changes the unit. It needs one
    exp (for q) and one log (for s) per element, the minimum for this divergence; ``sum q ln q`` comes
    from the logits without a log.
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
    s += p  # > 0: p is floored (see _model_terms)
    s_log_s = np.einsum("tik,tik->ti", s, np.log(s))
    js = (0.5 * (p_neg_entropy + q_neg_entropy - s_log_s) + math.log(2.0)) / log_base
    # Rounding can push identical distributions a hair below 0 (or one-hot opposites above the maximum,
    # ln 2 / ln base). NaN (from non-finite logits) passes through the clip so the caller can report it.
    return np.clip(js, 0.0, math.log(2.0) / log_base)
