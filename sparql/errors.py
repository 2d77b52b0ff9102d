"""SPARQL errors: each carries a one-line message for the user and the HTTP status the endpoint answers."""

from __future__ import annotations

from ingest.errors import PolicykgError


class SparqlError(PolicykgError):
    """A query could not be answered; ``str(err)`` is one line meant for the user."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class QuerySyntaxError(SparqlError):
    status = 400


class QueryRefused(SparqlError):
    status = 403


class QueryTooLarge(SparqlError):
    status = 413


class QueryTimeout(SparqlError):
    status = 503


class EngineBusy(SparqlError):
    status = 503


class EngineError(SparqlError):
    status = 500


class UnknownFormat(SparqlError, ValueError):
    """``--format``/``?format=`` names no registered result format."""

    status = 400


class FormatMismatch(SparqlError, ValueError):
    """The format exists but cannot carry this kind of result (CSV for a CONSTRUCT)."""

    status = 406


#: By class name: worker processes send errors back as (name, message).
ERRORS: dict[str, type[SparqlError]] = {
    c.__name__: c
    for c in (SparqlError, QuerySyntaxError, QueryRefused, QueryTooLarge, QueryTimeout, EngineBusy, EngineError)
}


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
