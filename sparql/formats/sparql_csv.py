"""SPARQL 1.1 Query Results CSV (W3C): plain values, RFC 4180 (CRLF line ends, quoted as needed)."""

from __future__ import annotations

import csv
import io

import pyoxigraph as ox

from ..results import QueryResult, Term
from .registry import TABULAR, Format


def value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def write(r: QueryResult) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if r.kind == "ask":
        w.writerow(["boolean"])
        w.writerow(["true" if r.boolean else "false"])
    else:
        w.writerow(r.variables)
        for row in r.rows:
            w.writerow([value(t) for t in row])
    return buf.getvalue().encode("utf-8")


FORMAT = Format("csv", "text/csv", TABULAR, write)
