"""SPARQL Query Results XML Format (W3C)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from graph.namespaces import SPARQL_RESULTS, XSD

from ..results import QueryResult, Term
from .registry import TABULAR, Format


def term_xml(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{term_xml(term.subject)}</subject><predicate>{term_xml(term.predicate)}"
            f"</predicate><object>{term_xml(term.object)}</object></triple>"
        )
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != str(XSD.string):
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def write(r: QueryResult) -> bytes:
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="{SPARQL_RESULTS}">']
    if r.kind == "ask":
        out.append(f"<head/><boolean>{'true' if r.boolean else 'false'}</boolean>")
    else:
        out.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in r.variables) + "</head>")
        out.append("<results>")
        for row in r.rows:
            cells = "".join(
                f"<binding name={quoteattr(v)}>{term_xml(t)}</binding>"
                for v, t in zip(r.variables, row, strict=True)
                if t is not None
            )
            out.append(f"<result>{cells}</result>")
        out.append("</results>")
    out.append("</sparql>\n")
    return "\n".join(out).encode("utf-8")


FORMAT = Format(
    "xml", "application/sparql-results+xml", TABULAR, write, aliases=("srx",),
    accepts=("application/xml", "text/xml"),
)
