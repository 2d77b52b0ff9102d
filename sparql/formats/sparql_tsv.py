"""SPARQL 1.1 Query Results TSV (W3C): terms in SPARQL syntax, so types and languages survive."""

from __future__ import annotations

from ..results import QueryResult, Term
from .registry import TABULAR, Format


def value(term: Term | None) -> str:
    if term is None:
        return ""
    return str(term).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write(r: QueryResult) -> bytes:
    if r.kind == "ask":
        return f"?boolean\n{'true' if r.boolean else 'false'}\n".encode()
    lines = ["\t".join(f"?{v}" for v in r.variables)]
    lines += ["\t".join(value(t) for t in row) for row in r.rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


FORMAT = Format("tsv", "text/tab-separated-values", TABULAR, write)
