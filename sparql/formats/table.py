"""A plain-text table for terminals (``policykg sparql``) and ``?format=table``: CURIEs, aligned columns.

Columns are lined up by display width (a Chinese character takes two columns), and the footer says
how many rows came back, how long it took, and whether the row cap cut the result.
"""

from __future__ import annotations

import pyoxigraph as ox

from graph.namespaces import curie
from graph.textfmt import table

from ..results import QueryResult, Term
from .registry import Format


def display(term: Term | None) -> str:
    """A term as an analyst reads it: ``pk:leads`` for IRIs under a known prefix, literals as text."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return curie(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return f"<< {display(term.subject)} {display(term.predicate)} {display(term.object)} >>"
    return term.value


def write(r: QueryResult) -> bytes:
    if r.kind == "ask":
        text = "true" if r.boolean else "false"
    elif r.kind == "graph":
        text = table(
            ["subject", "predicate", "object"],
            ([display(t.subject), display(t.predicate), display(t.object)] for t in r.triples),
        )
    else:
        text = table(r.variables, [[display(c) for c in row] for row in r.rows], max_width=48)
    what = "triples" if r.kind == "graph" else "rows"
    footer = f"\n({len(r)} {what}, {r.elapsed * 1000:.0f} ms)" if r.kind != "ask" else ""
    if r.truncated:
        footer += f"\n{r.note}"
    return (text + footer + "\n").encode("utf-8")


FORMAT = Format(
    "table", "text/plain", ("select", "ask", "graph"), write, aliases=("text", "txt"),
)
