"""Deletion ratios: parsing, validation, and how many samples each one forgets."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

from ..errors import MubenchError

DEFAULT_RATIOS: tuple[int, ...] = tuple(range(1, 11))


def parse_ratio(value: object) -> Fraction:
    """One ratio (a percentage of the train split) as an exact fraction: ``5``, ``"2.5"``, ``0.5``."""
    if isinstance(value, bool):
        raise MubenchError(f"ratio {value!r} is not a number; give a percentage in (0, 100], e.g. 5")
    try:
        ratio = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise MubenchError(
            f"ratio {value!r} is not a number; give a percentage in (0, 100], e.g. 5"
        ) from None
    if ratio <= 0 or ratio > 100:
        raise MubenchError(f"ratio {value!r} is out of range: a deletion ratio is a percentage in (0, 100]")
    return ratio


def parse_ratios(values: Iterable[object] | str) -> list[Fraction]:
    """Sorted, de-duplicated ratios from a list or a comma-separated string such as ``"1,5,10"``."""
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    ratios = sorted({parse_ratio(v) for v in values})
    if not ratios:
        raise MubenchError("no deletion ratios given; e.g. ratios=(1, 5, 10)")
    return ratios


def format_ratio(ratio: Fraction) -> str:
    """``5`` for whole percentages, ``2.5`` otherwise: the suffix of ``<task>_del<p>``."""
    if ratio.denominator == 1:
        return str(ratio.numerator)
    text = f"{float(ratio):.6f}".rstrip("0").rstrip(".")
    if Fraction(text) != ratio:
        raise MubenchError(f"ratio {ratio} has no short decimal form; use at most 6 decimals")
    return text


def forget_count(ratio: Fraction, order_size: int) -> int:
    """MU-Bench's rule: ratio p % forgets the first floor(p/10 * m) entries of an m-long deletion order
    (m is 10 % of the train split, so p % of the train split is forgotten)."""
    return math.floor(ratio * order_size / 10)


def forget_counts(ratios: list[Fraction], order_size: int, num_train: int) -> list[int]:
    """Forget-set size per ratio; refuses ratios that select nothing, exceed the train split, or
    select the same samples as a smaller ratio."""
    counts = [forget_count(r, order_size) for r in ratios]
    for ratio, count in zip(ratios, counts):
        if count < 1:
            smallest = Fraction(10, order_size) if order_size else None
            hint = f"; the smallest usable ratio here is {float(smallest):g}" if smallest else ""
            raise MubenchError(
                f"ratio {format_ratio(ratio)} is too small to select one sample "
                f"(deletion order of {order_size} samples){hint}"
            )
        if count > num_train:
            raise MubenchError(
                f"ratio {format_ratio(ratio)} asks for {count} samples but the train split has {num_train}"
            )
    for (r1, c1), (r2, c2) in zip(zip(ratios, counts), zip(ratios[1:], counts[1:])):
        if c1 == c2:
            raise MubenchError(
                f"ratios {format_ratio(r1)} and {format_ratio(r2)} both select {c1} samples; drop one of them"
            )
    return counts
