"""Errors raised by the unlearning trainers (all are ``MubenchError``, hence ``ValueError``)."""

from __future__ import annotations

from ..errors import MubenchError


class UnknownMethodError(MubenchError, KeyError):
    """A method name that is not registered; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NonFiniteLossError(MubenchError, FloatingPointError):
    """Training produced a non-finite loss or gradient (e.g. gradient ascent diverging).

    Raised before the optimizer step that would have used it, so the model still holds the weights
    of the last finished step. ``step`` is the optimizer step (``TrainerState.global_step + 1``)
    that failed.
    """

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step
