"""Deletion ratios: parsing, validation, and how many samples each one forgets.

The rule (m = length of the task's deletion order, 10 % of the n train rows by default):

* ratio p ≤ 10 forgets the first ⌊p/10 · m⌋ entries of the order (MU-Bench's rule, unchanged);
* ratio p > 10 goes on linearly from m rows at 10 % to all n rows at 100 %:
  m + ⌊(p − 10)/90 · (n − m)⌋ entries of an order extended past its first m entries.

So ``del100`` forgets every train row, sizes grow with p (forget sets stay nested: each is a prefix of
the same order), and every ratio ≤ 10 keeps the size it always had. Above 10 % the size is p % of n
rounded down, or one less (when m = ⌊n/10⌋).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

from ..errors import MubenchError

DEFAULT_RATIOS: tuple[int, ...] = tuple(range(1, 11))
ORDER_RATIO = Fraction(10)  # the ratio that forgets exactly the first m entries of the order


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
    """Sorted ratios from a list or a comma-separated string such as ``"1,5,10"``.

    A ratio given twice (``5,5`` or ``5,5.0``) is refused, naming both spellings: it would build the
    same config twice."""
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    seen: dict[Fraction, object] = {}
    for value in values:
        ratio = parse_ratio(value)
        if ratio in seen:
            raise MubenchError(
                f"ratio {value!r} repeats ratio {seen[ratio]!r} (both are {format_ratio(ratio)} %): "
                "give each ratio once"
            )
        seen[ratio] = value
    if not seen:
        raise MubenchError("no deletion ratios given; e.g. ratios=(1, 5, 10) (--ratios 1,5,10)")
    return sorted(seen)


def format_ratio(ratio: Fraction) -> str:
    """``5`` for whole percentages, ``2.5`` otherwise: the suffix of ``<task>_del<p>``."""
    if ratio.denominator == 1:
        return str(ratio.numerator)
    text = f"{float(ratio):.6f}".rstrip("0").rstrip(".")
    if Fraction(text) != ratio:
        raise MubenchError(f"ratio {ratio} has no short decimal form; use at most 6 decimals")
    return text


def forget_count(ratio: Fraction, order_size: int, num_train: int) -> int:
    """How many entries of the deletion order ratio ``ratio`` forgets (the rule in the module docstring)."""
    if ratio <= ORDER_RATIO:
        return math.floor(ratio * order_size / 10)
    return order_size + math.floor((ratio - ORDER_RATIO) * (num_train - order_size) / (100 - ORDER_RATIO))


def forget_counts(ratios: list[Fraction], order_size: int, num_train: int) -> list[int]:
    """Forget-set size per ratio; refuses ratios that select nothing or the same samples as a smaller one."""
    counts = [forget_count(r, order_size, num_train) for r in ratios]
    for ratio, count in zip(ratios, counts):
        if count < 1:
            # an empty order (10 % of fewer than 10 rows or groups): only ratios above 10 select anything
            smallest = (
                Fraction(10, order_size)
                if order_size
                else Fraction(math.ceil((ORDER_RATIO + Fraction(90, num_train)) * 100), 100)
                if num_train
                else None
            )
            hint = f"; the smallest usable ratio here is {float(smallest):g}" if smallest else ""
            raise MubenchError(
                f"ratio {format_ratio(ratio)} is too small to select one sample "
                f"(deletion order of {order_size} samples){hint}"
            )
    for (r1, c1), (r2, c2) in zip(zip(ratios, counts), zip(ratios[1:], counts[1:])):
        if c1 == c2:
            raise MubenchError(
                f"ratios {format_ratio(r1)} and {format_ratio(r2)} both select {c1} samples; drop one of them"
            )
    return counts
