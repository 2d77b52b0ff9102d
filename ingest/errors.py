"""Errors a user can act on: each names the file (and line) and says what to do."""

from __future__ import annotations


class IngestError(Exception):
    """A document could not be read as a plan. The message is one line, meant for the user."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None, hint: str = "") -> None:
        self.source = source
        self.line = line
        self.hint = hint
        where = source + (f":{line}" if line is not None else "")
        text = f"{where}: {message}" if where else message
        if hint:
            text += f" ({hint})"
        super().__init__(text)
