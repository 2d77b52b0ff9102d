"""SPARQL 1.1 Query Results JSON (W3C), with a ``policykg`` member when the row cap cut the result."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from graph.namespaces import XSD

from ..results import QueryResult, Term
from .registry import TABULAR, Format


def term_json(term: Term) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        parts = {"subject": term.subject, "predicate": term.predicate, "object": term.object}
        return {"type": "triple", "value": {k: term_json(v) for k, v in parts.items()}}
    out: dict[str, Any] = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != str(XSD.string):
        out["datatype"] = term.datatype.value
    return out


def write(r: QueryResult) -> bytes:
    if r.kind == "ask":
        doc: dict[str, Any] = {"head": {}, "boolean": bool(r.boolean)}
    else:
        bindings = [
            {v: term_json(t) for v, t in zip(r.variables, row, strict=True) if t is not None} for row in r.rows
        ]
        doc = {"head": {"vars": r.variables}, "results": {"bindings": bindings}}
    if r.truncated:
        doc["policykg"] = {"truncated": True, "limit": r.limit}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


FORMAT = Format(
    "json", "application/sparql-results+json", TABULAR, write, aliases=("srj",),
    accepts=("application/json", "text/javascript", "application/javascript"),
)
