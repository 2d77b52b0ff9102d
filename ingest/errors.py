"""Errors a user can act on: each names the file (and line) and says what to do."""

from __future__ import annotations


class PolicykgError(Exception):
    """Base of every error a user can act on (a file to fix, a command to run, a server to start).

    The CLI catches this one type at its edge and prints ``policykg: error: <message>``, exiting with
    ``exit_status`` (2, argparse's status for a usage error); anything else is a bug and shows its
    traceback. It lives here, at the bottom of the flow, so every layer can subclass it.
    """

    exit_status = 2


class IngestError(PolicykgError):
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
