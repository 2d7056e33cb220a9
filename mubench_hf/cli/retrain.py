"""``mubench retrain``: see :mod:`mubench_hf.cli.train_base`."""

from .train_base import retrain_main as main

__all__ = ["main"]
