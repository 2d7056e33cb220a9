"""Sweeps: run every (deletion config, seed, method) cell of a grid, resumably, and summarise it.

``mubench run`` and ``mubench demo`` are thin front ends over :func:`run_grid`. The summaries of a
sweep folder cover every finished cell in it (:mod:`.summary`), ranked by the rule of :mod:`.ranking`.
"""

from .grid import Grid, load_grid, make_grid
from .ranking import RANKING_RULE
from .runner import SweepResult, run_grid, summarise

__all__ = ["RANKING_RULE", "Grid", "SweepResult", "load_grid", "make_grid", "run_grid", "summarise"]
