"""A query's answer, whichever engine gave it: pyoxigraph terms, capped at a row limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pyoxigraph as ox

from graph.namespaces import XSD

from .defaults import DEFAULT_LIMIT

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
ResultKind = Literal["select", "ask", "graph"]
KIND_NAMES: dict[str, str] = {"select": "SELECT", "ask": "ASK", "graph": "CONSTRUCT/DESCRIBE"}


@dataclass
class QueryResult:
    """A query's answer, capped at ``limit`` rows (``truncated`` says when rows were dropped)."""

    kind: ResultKind
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    truncated: bool = False
    limit: int = DEFAULT_LIMIT
    elapsed: float = 0.0  # seconds, measured where the query was asked
    # a worker's answer as pyoxigraph wrote it (``run_query(..., wire=True)``): a SELECT's rows as
    # SPARQL TSV, a CONSTRUCT's triples as N-Triples; sent as they are, read into terms where they arrive
    wire: bytes | None = field(default=None, repr=False)

    def __len__(self) -> int:
        if self.kind == "select":
            return len(self.rows) if self.wire is None else self.wire.count(b"\n") - 1
        if self.kind == "graph":
            return len(self.triples) if self.wire is None else self.wire.count(b"\n")
        return 1

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts of plain Python values (str, int, float, bool, date strings), for pandas/apps."""
        if self.kind == "ask":
            return [{"boolean": self.boolean}]
        if self.kind == "graph":
            return [
                {"subject": to_python(t.subject), "predicate": to_python(t.predicate), "object": to_python(t.object)}
                for t in self.triples
            ]
        return [{v: to_python(c) for v, c in zip(self.variables, row, strict=True)} for row in self.rows]

    def serialize(self, fmt: str) -> bytes:
        """Bytes in the registered format ``fmt`` (:mod:`sparql.formats`); FormatMismatch if it cannot
        carry this kind of result, UnknownFormat if no such format is registered."""
        from .formats import serialize  # the formats import this module for their types

        return serialize(self, fmt)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without a pickle per term. A worker's answer comes as ``wire``, written by
        pyoxigraph (``run_query(..., wire=True)``; chapter-coverage at 1,000 plans, three runs:
        23-123 ms over the query against 228-303 ms the way below, ``python -m
        bench.worker_overhead``). An answer made
        in-process and pickled (by a notebook or a caller's own pool; workers sent these before
        ``wire``) has its rows written in the registered "tsv" format and its triples in "ntriples",
        both read back in Rust; term by term, chapter-coverage took 1,896 ms against 311 ms in-process
        (BENCHMARKS.md, "A slow day"). A triple term (RDF 1.2), which
        ``str()`` writes without the ``<<( )>>`` that TSV and N-Triples need, keeps its rows or triples
        pickled as terms there, as do rows of no variables."""
        state = dict(self.__dict__)
        if self.wire is not None:  # written in Rust already, in a worker
            state["rows" if self.kind == "select" else "triples"], state["wire"] = self.wire, None
            return state
        if self.kind == "select" and self.variables and not any(
            isinstance(cell, ox.Triple) for row in self.rows for cell in row
        ):
            state["rows"] = self.serialize("tsv")
        if self.kind == "graph" and not any(isinstance(t.object, ox.Triple) for t in self.triples):
            state["triples"] = self.serialize("ntriples")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("rows"), bytes):
            state["rows"] = rows_from_tsv(state["rows"])
        if isinstance(state.get("triples"), bytes):
            state["triples"] = [quad.triple for quad in ox.parse(state["triples"], format=ox.RdfFormat.N_TRIPLES)]
        self.__dict__.update(state)

    @property
    def note(self) -> str:
        """A line to show users when the result was capped."""
        what = "triples" if self.kind == "graph" else "rows"
        return f"result truncated to the first {self.limit:,} {what} (result limit)" if self.truncated else ""


def rows_from_tsv(data: bytes) -> list[tuple[Term | None, ...]]:
    """The rows of a SELECT answer written as SPARQL TSV by pyoxigraph (a header line, then a row per
    line, each ending with a newline), as tuples of terms (``None`` for an unbound cell).

    Each distinct cell is made a term once, and the rows share it: for answers whose cells repeat
    (counts, numbers, labels) far cheaper than a term per cell; :data:`sparql.run.ONE_BY_ONE` says
    when ``run_query`` reads rows this way, and gives the figures. The distinct cells are parsed in
    one go by pyoxigraph (as a one-column TSV answer), so every term is read exactly as pyoxigraph
    reads TSV. Tabs and newlines inside a term are escaped in TSV, so splitting on them is safe.
    """
    lines = data.decode("utf-8").split("\n")
    lines.pop()  # after the last newline
    header = lines.pop(0)
    if not header:  # no variables: a row is an empty line
        return [() for _ in lines]
    cells = set("\t".join(lines).split("\t"))
    cells.discard("")  # an unbound cell
    distinct = list(cells)
    terms: dict[str, Term | None] = {"": None}
    if distinct:
        column = ox.parse_query_results(("?x\n" + "\n".join(distinct) + "\n").encode("utf-8"),
                                        format=ox.QueryResultsFormat.TSV)
        assert isinstance(column, ox.QuerySolutions)
        terms.update(zip(distinct, (solution[0] for solution in column), strict=True))
    term = terms.__getitem__
    return [tuple(map(term, line.split("\t"))) for line in lines]


_NUMERIC: dict[str, type[int] | type[float]] = {
    **{str(XSD[t]): int for t in ("integer", "int", "long")},
    **{str(XSD[t]): float for t in ("decimal", "double", "float")},
}


def to_python(term: Term | None) -> Any:
    """A plain Python value: numbers and booleans converted, other literals as text, IRIs as strings."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        if dt in _NUMERIC:
            try:
                return _NUMERIC[dt](term.value)
            except ValueError:
                return term.value
        if dt == str(XSD.boolean):
            return term.value in ("true", "1")
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value

