"""``mubench study scalability``: how unlearning scales with the deletion ratio (1 … 10 %) and the model
size (the task's tiny backbone at several widths): every metric and the unlearning time, per method.

Each width is its own sweep (its own base and retrain models, one per ratio) over the same splits
order; a width multiplies the backbone's hidden sizes (ResNet stages, or a transformer's hidden and
feed-forward sizes), and the table records the parameter count it gives.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import MubenchError
from .common import StudyOptions, StudyResult, cell_record, line_figure, table_row, write_table

RATIOS = (1, 2, 5, 10)
WIDTHS = (0.5, 1.0, 2.0)


def scaled_config(task: str, model: str, width: float) -> Any:
    """The config of ``model`` (a ``tiny:<arch>`` spec) with its hidden sizes multiplied by ``width``."""
    from ..kinds.classification import tiny_config

    if not model.startswith("tiny:"):
        raise MubenchError(f"the scalability study scales a tiny backbone (e.g. tiny:resnet), got {model!r}")
    config = tiny_config(task, model.split(":", 1)[1])
    if hasattr(config, "hidden_sizes"):  # ResNet-like: one width per stage
        config.hidden_sizes = [max(2, round(h * width)) for h in config.hidden_sizes]
        config.embedding_size = max(2, round(config.embedding_size * width))
    elif hasattr(config, "hidden_size"):  # transformers: keep the head size a whole number
        heads = getattr(config, "num_attention_heads", 1)
        config.hidden_size = max(heads, round(config.hidden_size * width / heads) * heads)
        if hasattr(config, "intermediate_size"):
            config.intermediate_size = max(2, round(config.intermediate_size * width))
    else:
        raise MubenchError(
            f"do not know how to widen a {type(config).__name__}; use tiny:resnet or a transformer"
        )
    return config


def parameter_count(task: str, config: Any) -> int:
    from ..kinds.classification import build_model
    from ..tasks import get_task

    return sum(p.numel() for p in build_model(get_task(task), config).parameters())


def run(
    options: StudyOptions, ratios: tuple[float, ...] = RATIOS, widths: tuple[float, ...] = WIDTHS
) -> StudyResult:
    if len(widths) < 1 or any(w <= 0 for w in widths):
        raise MubenchError(f"widths must be positive multipliers, got {', '.join(map(str, widths))}")
    folder = options.folder("scalability")
    rows = []
    for width in widths:
        config = scaled_config(options.task, options.model, width)
        where = folder / f"width{width:g}"
        model_file = where / "model" / "config.json"
        model_file.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n"
        if not model_file.is_file() or model_file.read_text() != text:
            model_file.write_text(text)
        size = parameter_count(options.task, config)
        options.log(
            f"scalability: width ×{width:g} ({size:,} parameters), ratios {', '.join(map(str, ratios))}"
        )
        grid = options.grid(where / "sweep", ratios=list(ratios), model=str(model_file.resolve()))
        options.sweep(grid)
        for config_name, ratio in zip(grid.configs, ratios):
            for method in ["retrain", *options.methods]:
                info = {"method": method, "width": width, "parameters": size, "ratio": ratio}
                rows.append(table_row(info, cell_record(grid, method, config_name)))
    findings = _findings(rows)
    csv_path, md_path = write_table(
        rows, folder, f"Scalability study on {options.task} (seed {options.seed})", findings
    )
    shown = [dict(r, series=f"{r['method']} ×{r['width']:g}") for r in rows if r["method"] != "retrain"]
    figure = line_figure(
        shown, x="ratio", series="series", panels=("forget_accuracy", "gap_to_retrain", "unlearn_time_s"),
        path=folder / "scalability.png", title="Deletion ratio and model width", x_label="deletion ratio (%)",
    )  # fmt: skip
    return StudyResult(rows, csv_path, md_path, figure, findings)


def _findings(rows: list[dict[str, Any]]) -> list[str]:
    """Per method: the unlearning time per model size (mean over ratios), and per size the gap to
    retrain at the smallest and the largest ratio."""
    lines = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method and r.get("unlearn_time_s") is not None]
        if not mine:
            continue
        sizes = sorted({r["parameters"] for r in mine})
        times = []
        for size in sizes:
            values = [r["unlearn_time_s"] for r in mine if r["parameters"] == size]
            times.append(f"{size:,} params {sum(values) / len(values):.2f} s")
        text = f"{method}: unlearning time (mean over ratios) {', '.join(times)}"
        if method != "retrain":
            gaps = []
            for size in sizes:
                scored = sorted(
                    (r for r in mine if r["parameters"] == size and r.get("gap_to_retrain") is not None),
                    key=lambda r: r["ratio"],
                )
                if scored:
                    first, last = scored[0], scored[-1]
                    gaps.append(
                        f"{size:,} params {first['gap_to_retrain']:.4f} at {first['ratio']:g} % -> "
                        f"{last['gap_to_retrain']:.4f} at {last['ratio']:g} %"
                    )
            text += f"; gap to retrain {'; '.join(gaps)}"
        lines.append(text + ".")
    return lines
