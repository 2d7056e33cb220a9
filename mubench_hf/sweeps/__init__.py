"""Sweeps: run every (deletion config, seed, method) cell of a grid, resumably, and summarise it.

``mubench run`` and ``mubench demo`` are thin front ends over :func:`run_grid`.
"""

from .grid import Grid, load_grid
from .runner import run_grid

__all__ = ["Grid", "load_grid", "run_grid"]
