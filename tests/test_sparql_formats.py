"""The result format registry: formats are found by name, alias and media type, per kind of result,
and a format registered by a new module is offered by serialisation and negotiation alike."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from graph.namespaces import XSD
from sparql.errors import FormatMismatch, UnknownFormat
from sparql.formats import FORMATS, Format, choose, lookup, negotiate, register, unregister
from sparql.results import QueryResult

ROWS = QueryResult("select", ["unit", "n"],
                   [(ox.Literal("区司法局", language="zh"), ox.Literal("26", datatype=ox.NamedNode(str(XSD.integer))))])


def markdown(r: QueryResult) -> bytes:
    head = "| " + " | ".join(r.variables) + " |\n|" + "---|" * len(r.variables) + "\n"
    return (head + "".join("| " + " | ".join(c.value if c else "" for c in row) + " |\n" for row in r.rows)).encode()


@pytest.fixture
def with_markdown() -> Iterator[Format]:
    fmt = register(Format("markdown", "text/markdown", ("select",), markdown, aliases=("md",)))
    try:
        yield fmt
    finally:
        unregister("markdown")


def test_a_registered_format_is_served_by_name_alias_and_media_type(with_markdown: Format) -> None:
    assert ROWS.serialize("markdown") == ROWS.serialize("md") == "| unit | n |\n|---|---|\n| 区司法局 | 26 |\n".encode()
    assert negotiate("select", "text/markdown, application/sparql-results+json;q=0.5") is with_markdown
    assert negotiate("select", None, "md") is with_markdown
    with pytest.raises(FormatMismatch):
        choose("graph", "markdown")


def test_names_are_not_shadowed_and_unregistering_removes_them(with_markdown: Format) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(Format("md", "text/x-md", ("select",), markdown))
    unregister("markdown")
    with pytest.raises(UnknownFormat):
        ROWS.serialize("md")
    register(with_markdown)  # for the fixture's own unregister


@pytest.mark.parametrize(
    ("kind", "accept", "fmt", "chosen"),
    [
        ("select", "application/json", None, "json"),
        ("graph", "application/json", None, "jsonld"),
        ("select", "application/xml", None, "xml"),
        ("graph", "application/xml", None, "rdfxml"),
        ("graph", None, "json", "jsonld"),  # a name given for SELECT results, read for a graph
        ("graph", None, "xml", "rdfxml"),
        ("ask", "text/html,*/*;q=0.8", None, "json"),  # a browser: the default
        ("graph", "text/html,*/*;q=0.8", None, "turtle"),
        ("select", "text/csv;q=0.5, text/tab-separated-values", None, "tsv"),
        ("select", "text/csv", "table", "table"),  # ?format= wins over Accept
        ("graph", None, "nt", "ntriples"),
    ],
)
def test_negotiation(kind: str, accept: str | None, fmt: str | None, chosen: str) -> None:
    assert negotiate(kind, accept, fmt).name == chosen  # type: ignore[arg-type]


def test_a_format_that_cannot_carry_the_result_is_406_and_an_unknown_one_400() -> None:
    with pytest.raises(FormatMismatch, match="CONSTRUCT") as mismatch:
        choose("graph", "csv")
    with pytest.raises(UnknownFormat, match="yaml") as unknown:
        choose("select", "yaml")
    assert (mismatch.value.status, unknown.value.status) == (406, 400)
    assert {"json", "xml", "csv", "tsv", "turtle", "ntriples", "rdfxml", "jsonld", "table"} <= set(FORMATS)


def test_built_in_formats_are_listed_sparql_results_first() -> None:
    """Error messages and ``--format`` help list formats in registration order; a media type shared by
    two kinds (application/json) names the SPARQL results format when no kind is given."""
    assert list(FORMATS)[:9] == ["json", "xml", "csv", "tsv", "turtle", "ntriples", "rdfxml", "jsonld", "table"]
    assert lookup("application/json") is FORMATS["json"] and lookup("application/json", "graph") is FORMATS["jsonld"]
