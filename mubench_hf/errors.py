"""Errors raised by mubench-hf. Each is a ``ValueError`` so callers that already catch bad input keep working."""


class MubenchError(ValueError):
    """Bad input or state detected by mubench-hf; the message says what was wrong and what would be right."""


class UnknownTaskError(MubenchError, KeyError):
    """A task name that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""
