"""The graph on a SPARQL 1.1 server (Virtuoso, Fuseki, GraphDB, QLever …) instead of embedded Oxigraph.

Why: one analyst's laptop is fine with the embedded store, but a team that already runs a triple
store wants the plans next to its other data, queried by its own tools. Everything goes through the
two standard protocols, so no server-specific client is needed:

* SPARQL 1.1 Protocol for queries (HTTP POST ``query=``), with ``default-graph-uri=`` naming the
  build's graph, so each build's triples stay in their own named graph and queries see exactly one
  build (servers whose default graph is the union of all graphs, like Virtuoso, would otherwise mix
  builds);
* SPARQL 1.1 Update for writes (HTTP POST ``update=``): ``INSERT DATA { GRAPH <g> { … } }`` in
  batches, ``DELETE DATA`` for an incremental build, ``COPY``/``DROP`` for graphs.

Credentials come from the URL's user info (``http://dba:dba@host:8890/sparql-auth``) or the
environment (``POLICYKG_STORE_USER``, ``POLICYKG_STORE_PASSWORD``); HTTP Basic and Digest are both
answered. They are never written into a build's manifest (:func:`public_url`).

Results come back as :class:`sparql.results.QueryResult` holding pyoxigraph terms, the same type the
embedded engine returns, so the CLI, the endpoint and the tests treat both stores alike
(:class:`sparql.protocol.SparqlEngine`).
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from graph.namespaces import PK, PREFIXES, sparql_prologue

from .defaults import DEFAULT_LIMIT, DEFAULT_MAX_QUERY_BYTES, DEFAULT_SEARCH_TOP, DEFAULT_TIMEOUT
from .errors import EngineError, QuerySyntaxError, QueryTimeout, SparqlError
from .guard import check_query, query_form
from .results import QueryResult
from .search import Scorer, compute_scores, search_calls, unescape

BATCH_TRIPLES = 2_000  # per INSERT DATA request: small enough for any server's request limits
GRAPH_BASE = "https://w3id.org/policykg/graph/"
Term = ox.NamedNode | ox.BlankNode | ox.Literal


class RemoteStoreError(SparqlError):
    """The server refused or failed a request; the message has its status and first line of reply."""

    status = 502


@dataclass(frozen=True)
class Endpoint:
    """Where a server answers queries and updates, and how to log in."""

    query_url: str
    update_url: str
    user: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str, update_url: str | None = None) -> Endpoint:
        """Split user info off the URL; the update URL defaults to the query URL (Virtuoso, QLever).

        Fuseki and GraphDB answer updates elsewhere (``…/update``, ``…/statements``): pass it.
        """
        parts = urllib.parse.urlsplit(url)
        user = urllib.parse.unquote(parts.username) if parts.username else os.environ.get("POLICYKG_STORE_USER")
        password = (urllib.parse.unquote(parts.password) if parts.password
                    else os.environ.get("POLICYKG_STORE_PASSWORD"))
        clean = public_url(url)
        return cls(clean, public_url(update_url) if update_url else clean, user, password)


def public_url(url: str) -> str:
    """The URL without user info: what may be written into a manifest or printed."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def graph_iri(build_name: str) -> str:
    """The named graph one build's triples go into."""
    return GRAPH_BASE + urllib.parse.quote(build_name, safe="-_.~")


# --- term conversion: SPARQL JSON results → pyoxigraph -----------------------------------------


def term_from_json(binding: dict[str, Any]) -> Term:
    kind = binding.get("type")
    value = str(binding.get("value", ""))
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if kind in ("literal", "typed-literal"):
        lang = binding.get("xml:lang") or binding.get("lang")  # Virtuoso writes "lang" in CONSTRUCT JSON
        if lang:
            return ox.Literal(value, language=str(lang))
        dtype = binding.get("datatype")
        return ox.Literal(value, datatype=ox.NamedNode(str(dtype)) if dtype else None)
    raise RemoteStoreError(f"unexpected term in a SPARQL JSON result: {binding!r}")


def result_from_json(data: dict[str, Any], *, limit: int = DEFAULT_LIMIT) -> QueryResult:
    if "boolean" in data:
        return QueryResult("ask", boolean=bool(data["boolean"]), limit=limit)
    variables = [str(v) for v in data.get("head", {}).get("vars", [])]
    rows: list[tuple[Any, ...]] = []
    bindings = data.get("results", {}).get("bindings", [])
    for b in bindings[:limit]:
        rows.append(tuple(term_from_json(b[v]) if v in b else None for v in variables))
    return QueryResult("select", variables, rows, truncated=len(bindings) > limit, limit=limit)


# --- search inside SPARQL on a server that cannot call back into policykg ----------------------

_BIND_SEARCH = re.compile(
    r"BIND\s*\(\s*(?:pk:|<" + re.escape(str(PK)) + r")search(?P<fn>Score|Rank)>?\s*\(\s*"
    r"(?P<var>[?$]\w+)\s*,\s*(?P<lit>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')(?:@[\w\-]+)?"
    r"(?:\s*,\s*(?P<top>\d+))?\s*\)\s*AS\s+(?P<out>[?$]\w+)\s*\)",
    re.I,
)


def inline_search(text: str, scorer: Scorer | None) -> str:
    """Replace ``BIND(pk:searchScore(?task, "…", top) AS ?s)`` by the search's answers as data.

    A remote server cannot call policykg's search engine, so the search runs here first and its
    hits go into the query as ``OPTIONAL { VALUES (?task ?s) { … } }``: a left join, so a task
    that is not among the hits keeps ``?s`` unbound, exactly as the embedded engine's function.
    Only the ``BIND(... AS ?var)`` form can be rewritten; other uses are refused with a message.
    """
    calls = search_calls(text)
    if not calls:
        return text
    scores = compute_scores(text, scorer)
    counter = iter(range(1_000_000))

    def repl(m: re.Match[str]) -> str:
        top = int(m.group("top")) if m.group("top") else DEFAULT_SEARCH_TOP
        hits = scores.get((unescape(m.group("lit")), top), {})
        tmp = f"?__pk_search{next(counter)}"
        if m.group("fn").lower() == "score":
            rows = " ".join(f"(<{iri}> \"{score!r}\"^^xsd:double)" for iri, (score, _) in hits.items())
        else:
            rows = " ".join(f"(<{iri}> {rank})" for iri, (_, rank) in hits.items())
        return f"OPTIONAL {{ VALUES ({m.group('var')} {tmp}) {{ {rows} }} }} BIND({tmp} AS {m.group('out')})"

    rewritten = _BIND_SEARCH.sub(repl, text)
    if search_calls(rewritten):
        raise QuerySyntaxError(
            'on a remote store pk:searchScore/pk:searchRank work only as BIND(pk:searchScore(?task, "text"'
            "[, top]) AS ?var)"
        )
    return rewritten


# --- the store ------------------------------------------------------------------------------------


class RemoteStore:
    """One build's graph on a SPARQL server: query it, and (while building) write it."""

    def __init__(self, url: str, graph: str, *, update_url: str | None = None, timeout: float = 120.0) -> None:
        self.endpoint = Endpoint.parse(url, update_url)
        self.graph = graph
        self.timeout = timeout
        self.path = None  # no local directory (callers that need one check for it)
        self._opener = self._make_opener()
        self._ox: ox.Store | None = None

    def _make_opener(self) -> urllib.request.OpenerDirector:
        handlers: list[Any] = []
        if self.endpoint.user is not None:
            mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            for url in {self.endpoint.query_url, self.endpoint.update_url}:
                mgr.add_password(None, url, self.endpoint.user, self.endpoint.password or "")
            handlers += [urllib.request.HTTPDigestAuthHandler(mgr), urllib.request.HTTPBasicAuthHandler(mgr)]
        # servers on 127.0.0.1 must not go through an HTTP proxy from the environment
        handlers.append(urllib.request.ProxyHandler({}))
        return urllib.request.build_opener(*handlers)

    # -- HTTP --

    def _post(self, url: str, fields: list[tuple[str, str]], accept: str, timeout: float | None = None
              ) -> tuple[str, bytes]:
        body = urllib.parse.urlencode(fields).encode("utf-8")
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": accept})
        try:
            with self._opener.open(req, timeout=timeout or self.timeout) as resp:
                return resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip().splitlines()
            first = next((line for line in detail if line.strip()), "")[:300]
            cls = QuerySyntaxError if exc.code == 400 else RemoteStoreError
            raise cls(f"{public_url(url)} answered HTTP {exc.code}: {first}") from None
        except TimeoutError:
            raise QueryTimeout(f"{public_url(url)} did not answer within {timeout or self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            raise RemoteStoreError(f"cannot reach the SPARQL server at {public_url(url)}: {exc.reason}") from None

    def update(self, text: str) -> None:
        """Run a SPARQL Update (with the policykg prefixes declared)."""
        self._post(self.endpoint.update_url, [("update", sparql_prologue() + text)], "*/*")

    def query(self, text: str, *, limit: int = DEFAULT_LIMIT, timeout: float | None = None) -> QueryResult:
        """Run a query against this build's graph; SELECT/ASK as JSON, CONSTRUCT/DESCRIBE as N-Triples."""
        t0 = time.perf_counter()
        fields = [("query", sparql_prologue() + text), ("default-graph-uri", self.graph)]
        graph_form = query_form(text) in ("CONSTRUCT", "DESCRIBE")
        accept = ("application/n-triples, text/turtle;q=0.9, application/sparql-results+json;q=0.5" if graph_form
                  else "application/sparql-results+json")
        ctype, data = self._post(self.endpoint.query_url, fields, accept, timeout)
        ctype = ctype.split(";")[0].strip().lower()
        if ctype in ("application/sparql-results+json", "application/json"):
            result = result_from_json(json.loads(data.decode("utf-8")), limit=limit)
            if graph_form:  # a server that answers CONSTRUCT with ?s ?p ?o bindings
                found = [ox.Triple(*row) for row in result.rows if None not in row]  # type: ignore[arg-type,misc]
                result = QueryResult("graph", triples=found, truncated=result.truncated, limit=limit)
        else:
            fmt = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES
                   }.get(ctype, ox.RdfFormat.TURTLE)
            triples = [q.triple for q in ox.parse(data, format=fmt)]
            result = QueryResult("graph", triples=triples[:limit], truncated=len(triples) > limit, limit=limit)
        result.elapsed = time.perf_counter() - t0
        return result

    # -- graph management (build time) --

    def insert(self, ntriples: Iterable[bytes], *, batch: int = BATCH_TRIPLES) -> int:
        """Upload N-Triples into this graph in batches of ``batch`` triples; returns lines sent."""
        sent = 0
        for lines in _batches(ntriples, batch):
            self.update(f"INSERT DATA {{ GRAPH <{self.graph}> {{\n{lines}\n}} }}")
            sent += lines.count("\n") + 1
        return sent

    def delete(self, triples: Iterable[ox.Triple], *, batch: int = BATCH_TRIPLES) -> None:
        data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""
        for lines in _batches([data], batch):
            self.update(f"DELETE DATA {{ GRAPH <{self.graph}> {{\n{lines}\n}} }}")

    def copy_from(self, source_graph: str) -> None:
        self.update(f"COPY SILENT <{source_graph}> TO <{self.graph}>")

    def drop(self) -> None:
        self.update(f"DROP SILENT GRAPH <{self.graph}>")

    def __len__(self) -> int:
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        cell = result.rows[0][0] if result.rows else None
        return int(cell.value) if isinstance(cell, ox.Literal) else 0

    # -- what local code needs from a store --

    def dump_ntriples(self) -> bytes:
        result = self.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", limit=1 << 62)
        return ox.serialize(result.triples, format=ox.RdfFormat.N_TRIPLES) or b""

    @property
    def ox(self) -> ox.Store:
        """An in-memory copy (downloaded once) for exporters that read a pyoxigraph store."""
        if self._ox is None:
            store = ox.Store()
            store.load(self.dump_ntriples(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
            self._ox = store
        return self._ox

    def to_memory_graph(self) -> Graph:
        g = Graph()
        for prefix, iri in PREFIXES.items():
            g.bind(prefix, iri, override=True)
        g.parse(data=self.dump_ntriples().decode("utf-8"), format="nt")
        return g

    def rdflib_graph(self) -> Graph:
        return self.to_memory_graph()


def _batches(chunks: Iterable[bytes], size: int) -> Iterator[str]:
    lines: list[str] = []
    for chunk in chunks:
        for line in chunk.decode("utf-8").splitlines():
            if line.strip():
                lines.append(line)
                if len(lines) >= size:
                    yield "\n".join(lines)
                    lines = []
    if lines:
        yield "\n".join(lines)


_SEPARATOR = re.compile(r"""(separator\s*=\s*)("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""", re.I)


def protect_separators(text: str) -> tuple[str, dict[str, str]]:
    """Swap non-ASCII GROUP_CONCAT separators for ASCII tokens (see :class:`RemoteSparqlEngine`)."""
    tokens: dict[str, str] = {}

    def repl(m: re.Match[str]) -> str:
        sep = m.group(2)[1:-1]
        if sep.isascii():
            return m.group(0)
        token = f"~@{len(tokens)}@~"
        tokens[token] = sep
        return f'{m.group(1)}"{token}"'

    return _SEPARATOR.sub(repl, text), tokens


def restore_separators(result: QueryResult, tokens: dict[str, str]) -> QueryResult:
    if not tokens or result.kind != "select":
        return result

    def fix(term: Any) -> Any:
        if isinstance(term, ox.Literal) and "~@" in term.value:
            value = term.value
            for token, sep in tokens.items():
                value = value.replace(token, sep)
            return (ox.Literal(value, language=term.language) if term.language
                    else ox.Literal(value, datatype=term.datatype))
        return term

    result.rows = [tuple(fix(c) for c in row) for row in result.rows]
    return result


class RemoteSparqlEngine:
    """What :class:`sparql.engine.EmbeddedSparqlEngine` is for the embedded store, for a remote one.

    Same refusals (:func:`check_query`: read-only, no SERVICE, no file: IRIs), same result cap and
    time limit (the HTTP timeout; the server may stop later), same ``pk:searchScore`` (inlined).

    Virtuoso 7.2 turns a non-ASCII ``GROUP_CONCAT`` separator (the canned queries join Chinese
    names with "、") into "?"; such separators are sent as ASCII tokens and put back in the rows.
    """

    def __init__(self, store: RemoteStore, *, timeout: float = DEFAULT_TIMEOUT, limit: int = DEFAULT_LIMIT,
                 scorer: Scorer | None = None, max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES) -> None:
        self.store = store
        self.timeout = timeout
        self.limit = limit
        self.scorer = scorer
        self.max_query_bytes = max_query_bytes
        self.workers = 1

    def warm_up(self) -> None:
        """Fail early when the server is unreachable."""
        self.store.query("ASK { }", timeout=self.timeout)

    def query(self, text: str, *, timeout: float | None = None, limit: int | None = None) -> QueryResult:
        t0 = time.perf_counter()
        check_query(text, max_bytes=self.max_query_bytes)
        sent, tokens = protect_separators(inline_search(text, self.scorer))
        try:
            result = restore_separators(
                self.store.query(sent, limit=self.limit if limit is None else limit,
                                 timeout=self.timeout if timeout is None else timeout), tokens)
        except SparqlError:
            raise
        except Exception as exc:  # a reply that is not valid JSON/RDF
            raise EngineError(f"query failed on the SPARQL server: {exc}") from None
        result.elapsed = time.perf_counter() - t0
        return result

    def close(self) -> None:
        pass

    def __enter__(self) -> RemoteSparqlEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
