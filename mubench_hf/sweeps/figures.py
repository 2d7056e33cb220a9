"""PNG figures of an aggregated sweep (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .grid import RETRAIN


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only; never opens a window or needs a display
    import matplotlib.pyplot as plt

    return plt


def _value(row: dict[str, Any], name: str) -> tuple[float, float] | None:
    mean = row.get(f"{name}_mean")
    return None if mean is None else (mean, row.get(f"{name}_std", 0.0))


def _method_points(
    ax: Any, rows: list[dict[str, Any]], x: str, y: str, *, y_floor: float | None = None, y_bars: bool = True
) -> None:
    """One point per method at (mean ``x``, mean ``y``) with ± std bars over seeds (``y_bars=False``: on x
    only), the retrain model as a black star. ``y_floor`` lifts smaller values to it (a p-value of 0 would
    fall off a log axis)."""
    import matplotlib.pyplot as plt

    palette = plt.get_cmap("tab20")  # tab10 would repeat colours beyond ten methods
    for index, row in enumerate(rows):
        x_value, y_value = _value(row, x), _value(row, y)
        if x_value is None or y_value is None:
            continue
        is_retrain = row["method"] == RETRAIN
        ax.errorbar(
            x_value[0],
            max(y_value[0], y_floor) if y_floor is not None else y_value[0],
            xerr=x_value[1],
            yerr=y_value[1] if y_bars else None,
            fmt="*" if is_retrain else "o",
            markersize=16 if is_retrain else 7,
            color="black" if is_retrain else palette(index % 20),
            capsize=3,
            label=f"{row['method']} (reference)" if is_retrain else row["method"],
        )


def forget_vs_test(rows: list[dict[str, Any]], num_labels: int, path: Path, title: str) -> Path:
    """Forget vs test accuracy per method (mean ± std over seeds), the retrain model as a star and
    chance (1/K) as a dashed line: close to the star is the retrain target, close to the line is what
    the MU-Bench score rewards."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    _method_points(ax, rows, "forget_accuracy", "test_accuracy")
    ax.axvline(1.0 / num_labels, linestyle="--", color="grey", label=f"chance 1/K = {1 / num_labels:.2f}")
    ax.set_xlabel("forget-set accuracy")
    ax.set_ylabel("test accuracy")
    ax.set_xlim(-0.02, 1.02)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    return _save(plt, fig, path)


def quality_vs_utility(rows: list[dict[str, Any]], path: Path, title: str) -> Path:
    """Generation tasks on TOFU's axes: forget quality (a KS p-value, so on a log axis) against model
    utility per method, the retrain model as a star (its forget quality against itself is 1)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    _method_points(ax, rows, "model_utility", "forget_quality", y_floor=1e-12, y_bars=False)
    ax.set_yscale("log")
    ax.set_xlabel("model utility (higher is better)")
    ax.set_ylabel("forget quality: KS p-value against retrain (higher is better)")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    return _save(plt, fig, path)


def metric_bars(rows: list[dict[str, Any]], metric: str, label: str, path: Path, title: str) -> Path:
    """One bar per method (mean ± std over seeds) of ``metric``."""
    plt = _pyplot()
    kept = [(row["method"], _value(row, metric)) for row in rows]
    kept = [(method, value) for method, value in kept if value is not None]
    fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(kept) + 2), 4))
    positions = range(len(kept))
    ax.bar(
        positions,
        [v[0] for _, v in kept],
        yerr=[v[1] for _, v in kept],
        capsize=3,
        color=["black" if m == RETRAIN else "tab:blue" for m, _ in kept],
    )
    ax.set_xticks(list(positions), [m for m, _ in kept], rotation=45, ha="right")
    ax.set_ylabel(label)
    ax.set_title(title)
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    partial = path.with_name(path.stem + ".partial.png")
    fig.savefig(partial, dpi=110)
    plt.close(fig)
    partial.replace(path)
    return path
