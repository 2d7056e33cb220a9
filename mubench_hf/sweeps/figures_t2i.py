"""The figures of a text-to-image sweep, per deletion config: unlearning accuracy against in-domain retain
accuracy per method (the retrain model as a star), the gap to retrain per method, and one grid of samples
per method (each cell's ``samples.png``: the forgotten concept and a kept one, stacked with the method's
name), so what each method still draws for the forgotten concept can be seen side by side."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from .figures import _method_points, _pyplot, _save, metric_bars
from .ranking import rank_for

LABEL_HEIGHT = 14


def ua_vs_ira(rows: list[dict[str, Any]], path: Path, title: str) -> Path:
    """Unlearning accuracy (forgotten concept) against in-domain retain accuracy (kept concepts)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    _method_points(ax, rows, "in_domain_retain_accuracy", "unlearning_accuracy")
    ax.set_xlabel("in-domain retain accuracy: kept concepts' images recognised (higher is better)")
    ax.set_ylabel("unlearning accuracy: forgotten concept's images not recognised")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    return _save(plt, fig, path)


def sample_montage(methods: list[str], grids: list[Path], path: Path) -> Path:
    """The methods' sample grids stacked, each under its method's name."""
    images = [Image.open(p).convert("RGB") for p in grids]
    width = max(i.width for i in images)
    height = sum(i.height + LABEL_HEIGHT for i in images)
    montage = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(montage)
    y = 0
    for method, image in zip(methods, images):
        draw.text((4, y), method, fill=(0, 0, 0))
        montage.paste(image, (0, y + LABEL_HEIGHT))
        y += image.height + LABEL_HEIGHT
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_name(path.stem + ".partial.png")
    montage.save(partial_path)
    partial_path.replace(path)
    return path


def _ranked(group: list[dict[str, Any]]) -> list[dict[str, Any]]:
    _, ranked = rank_for(
        "image_generation", group, name=lambda r: r["method"], is_reference=lambda r: r["method"] == "retrain",
        gap=lambda r: r.get("gap_to_retrain_mean"),
    )  # fmt: skip
    return [row for row, _ in ranked]


def figure_writer(task: Any, rows: list[dict[str, Any]], output: Path) -> Callable[..., list[Path]] | None:
    """What draws a sweep's figures (called with ``draw=False`` it lists them): class accuracies against
    chance for classification tasks, this module's for text-to-image tasks, ``None`` for tasks without
    classes (generation)."""
    from .outputs import write_figures

    if task.kind == "image_generation":
        return partial(write_image_generation_figures, rows, output)
    return partial(write_figures, rows, task.num_labels, output / "figures") if task.num_labels else None


def write_image_generation_figures(
    rows: list[dict[str, Any]], output: Path, *, draw: bool = True
) -> list[Path]:
    """The figures of every config (see the module docstring) in ``output / "figures"``; ``draw=False``
    only lists the files it would write."""
    from .outputs import by_config

    folder = output / "figures"
    planned: list[tuple[Path, Callable[[], Path]]] = []
    for config, group in by_config(rows).items():
        shown = [r for r in _ranked(group) if r["n_seeds"]]
        if not shown:
            continue
        path = folder / f"{config}_ua_vs_ira.png"
        planned.append((path, partial(ua_vs_ira, shown, path, f"{config}: unlearning vs retain accuracy")))
        if any(r.get("gap_to_retrain_mean") is not None for r in shown):
            path = folder / f"{config}_gap_to_retrain.png"
            planned.append((path, partial(metric_bars, shown, "gap_to_retrain", "gap to retrain (lower is better)", path, config)))  # fmt: skip
        grids = [
            (r["method"], sorted((output / "cells" / config).glob(f"seed*/{r['method']}/samples.png")))
            for r in shown
        ]
        grids = [(method, found[0]) for method, found in grids if found]
        if grids:
            path = folder / f"{config}_samples.png"
            planned.append(
                (path, partial(sample_montage, [m for m, _ in grids], [g for _, g in grids], path))
            )
    return [make() if draw else path for path, make in planned]
