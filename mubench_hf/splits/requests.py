"""Request schedules: deletion requests that arrive one after another (sequential unlearning).

A schedule ``k×p`` (``--requests 4x2.5``) cuts a task's deletion order into k requests of p % each. The
requests are consecutive pieces of the same order, so they are disjoint, and the union of the first i
is a prefix of the order: the forget set of ratio i·p. Step i of the schedule is then described by
config ``<task>_req<k>x<p>_step<i>`` with the splits

* ``forget``: Df_i, the rows request i adds (what a method unlearns at step i);
* ``forget_cumulative``: Df_≤i, every row requested so far (the forget set of ``<task>_del<i·p>``);
* ``retain``: Dr_i, the train rows never requested up to step i (the retain set of ``<task>_del<i·p>``,
  what the retrain model of step i is trained on);
* the shared evaluation splits.

Nothing is stored twice: the build cuts the order at every ratio i·p as well, so each request is made of
whole chunk files, and a step config only lists files that the ``<task>_del<p>`` configs list too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import MubenchError
from .ratios import format_ratio, parse_ratio

NEW_SPLIT = "forget"  # the rows of this request
CUMULATIVE_SPLIT = "forget_cumulative"  # every row requested up to this step
MAX_REQUESTS = 100
_SCHEDULE = re.compile(r"^\s*(?P<count>[0-9]+)\s*[xX×]\s*(?P<size>[0-9.]+)\s*$")
_STEP_CONFIG = re.compile(r"^(?P<task>.+)_req(?P<schedule>[0-9]+x[0-9.]+)_step(?P<step>[0-9]+)$")


@dataclass(frozen=True)
class RequestSchedule:
    """k requests of p % of the train split each (``count`` = k, ``size`` = p)."""

    count: int
    size: Fraction

    @property
    def name(self) -> str:
        """``4x2.5``: how the schedule is written on the command line and in config names."""
        return f"{self.count}x{format_ratio(self.size)}"

    @property
    def steps(self) -> range:
        """The step numbers, 1..k."""
        return range(1, self.count + 1)

    def cumulative_ratio(self, step: int) -> Fraction:
        """The deletion ratio of everything requested up to ``step``: step · p."""
        return self.size * step

    @property
    def cumulative_ratios(self) -> list[Fraction]:
        return [self.cumulative_ratio(step) for step in self.steps]

    def step_config(self, task: str, step: int) -> str:
        """``digits_req4x2.5_step2``: the config of step ``step``."""
        return f"{task}_req{self.name}_step{step}"

    def cumulative_config(self, task: str, step: int) -> str:
        """``digits_del5``: the ordinary deletion config of everything requested up to ``step``."""
        from .layout import del_config_name

        return del_config_name(task, self.cumulative_ratio(step))


def parse_schedule(value: object) -> RequestSchedule:
    """``"4x2.5"`` → 4 requests of 2.5 %; k in 1..100, p > 0 and k·p ≤ 100."""
    if isinstance(value, RequestSchedule):
        return value
    match = _SCHEDULE.match(str(value))
    if match is None:
        raise MubenchError(
            f"request schedule {value!r} is not of the form <k>x<p> (k requests of p % each), e.g. 4x2.5"
        )
    count = int(match.group("count"))
    if not 1 <= count <= MAX_REQUESTS:
        raise MubenchError(f"request schedule {value!r}: the number of requests must be in 1..{MAX_REQUESTS}")
    size = parse_ratio(match.group("size"))
    if size * count > 100:
        raise MubenchError(
            f"request schedule {value!r} asks for {float(size * count):g} % of the train split; "
            f"k × p must be at most 100 (with {count} requests, p at most {100 / count:.4g})"
        )
    schedule = RequestSchedule(count, size)
    format_ratio(schedule.cumulative_ratio(count))  # every i·p must have a short decimal name
    return schedule


def parse_schedules(values: Iterable[object] | str | None) -> list[RequestSchedule]:
    """Schedules from a list or a comma-separated string (``"4x2.5,2x5"``), each once."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    schedules: list[RequestSchedule] = []
    for value in values:
        schedule = parse_schedule(value)
        if schedule in schedules:
            raise MubenchError(f"request schedule {schedule.name} is given twice; give each schedule once")
        schedules.append(schedule)
    return schedules


def schedule_ratios(schedules: Iterable[RequestSchedule]) -> list[Fraction]:
    """The ratios the splits must be cut at for these schedules (every i·p), sorted, each once."""
    return sorted({ratio for schedule in schedules for ratio in schedule.cumulative_ratios})


def step_of_config(config: str) -> tuple[str, RequestSchedule, int] | None:
    """(task, schedule, step) of a step config name, or ``None`` for any other config."""
    match = _STEP_CONFIG.match(config)
    if match is None:
        return None
    return match.group("task"), parse_schedule(match.group("schedule")), int(match.group("step"))


def plan_request_configs(
    task: str,
    schedules: list[RequestSchedule],
    ratios: list[Fraction],
    segments: list[Any],
    eval_splits: list[str],
) -> dict[str, dict[str, list[str]]]:
    """Config name → split → files, for every step of every schedule. ``ratios`` are the sorted ratios
    the order was cut at (chunk j ends at ratio j), ``segments`` the train files (``layout.Segment``)."""
    from .layout import EVAL_SPLITS, eval_file

    chunk_of = {ratio: number for number, ratio in enumerate(ratios, start=1)}
    everything = [s.path for s in segments]
    evals = {split: [eval_file(task, split)] for split in EVAL_SPLITS if split in eval_splits}
    configs: dict[str, dict[str, list[str]]] = {}
    for schedule in schedules:
        for step in schedule.steps:
            missing = [r for r in (schedule.cumulative_ratio(step),) if r not in chunk_of]
            if missing:  # the build adds every i·p to its ratios; a caller that did not is wrong
                raise MubenchError(
                    f"request schedule {schedule.name}: the order is not cut at ratio {missing[0]}"
                )
            last = chunk_of[schedule.cumulative_ratio(step)]
            first = chunk_of[schedule.cumulative_ratio(step - 1)] if step > 1 else 0
            cumulative = [s for s in segments if s.chunk is not None and s.chunk <= last]
            retain = [s.path for s in segments if s.chunk is None or s.chunk > last]
            configs[schedule.step_config(task, step)] = {
                "train": list(everything),
                NEW_SPLIT: [s.path for s in cumulative if s.chunk > first],
                CUMULATIVE_SPLIT: [s.path for s in cumulative],
                **({"retain": retain} if retain else {}),
                **{k: list(v) for k, v in evals.items()},
            }
    return configs
