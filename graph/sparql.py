"""Run SPARQL over a build's Oxigraph store safely, and turn results into every format policykg serves.

Why a worker process: pyoxigraph has no query timeout and holds the GIL-free Rust thread until the
query ends, so the only reliable way to stop a runaway query is to kill the process running it.
:class:`QueryPool` keeps warm workers (each opens the store with ``Store.read_only``) and replaces a
worker it had to kill, so one bad query never takes the CLI or the endpoint down.

Why read-only twice: the worker can only query (read-only store, ``Store.query`` only), and
:func:`check_query` refuses updates, ``SERVICE`` and ``file:`` IRIs up front with a message a user can
act on, instead of a parser error about an unexpected ``INSERT``.

Search inside SPARQL: ``pk:searchScore(?task, "text" [, top])`` is the fused search score of ``?task``
when it is among the ``top`` (default 20) hits of the search for ``text``, unbound otherwise;
``pk:searchRank(?task, "text" [, top])`` is its 1-based rank. pyoxigraph custom functions return
one term per call and run inside the worker, so the search itself runs once per distinct
(text, top) in the parent (which has the search engine loaded) and the worker only looks scores up.
The text must therefore be a string literal in the query. Example::

    SELECT ?task ?score WHERE {
      ?unit rdfs:label "区司法局"@zh ; pk:leads ?task .
      ?task pk:deadline ?d . FILTER(?d < "2024-01-01"^^xsd:date)
      BIND(pk:searchScore(?task, "数据共享", 30) AS ?score) FILTER(BOUND(?score))
    } ORDER BY DESC(?score)
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from graph.namespaces import ID, PK, PREFIXES
from graph.textfmt import table
from ingest.errors import PolicykgError

DEFAULT_TIMEOUT = 10.0  # seconds
DEFAULT_LIMIT = 10_000  # rows (triples for CONSTRUCT/DESCRIBE)
DEFAULT_MAX_QUERY_BYTES = 1_000_000
DEFAULT_SEARCH_TOP = 20

SEARCH_SCORE = str(PK.searchScore)
SEARCH_RANK = str(PK.searchRank)

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
ResultKind = Literal["select", "ask", "graph"]
KIND_NAMES: dict[str, str] = {"select": "SELECT", "ask": "ASK", "graph": "CONSTRUCT/DESCRIBE"}
#: (search text, top) -> {task IRI: (score, rank)}
ScoreMap = dict[tuple[str, int], dict[str, tuple[float, int]]]
#: (search text, top) -> {task IRI: score}; the search engine behind pk:searchScore
Scorer = Callable[[str, int], Mapping[str, float]]


# --- errors: every one carries a one-line message and the HTTP status the endpoint answers with ---


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


_ERRORS: dict[str, type[SparqlError]] = {
    c.__name__: c
    for c in (
        SparqlError,
        QuerySyntaxError,
        QueryRefused,
        QueryTooLarge,
        QueryTimeout,
        EngineBusy,
        EngineError,
    )
}


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# --- refusing what a read-only endpoint must not do ---------------------------------------------

_LEXEME = re.compile(
    r'''(?P<long>"""(?:[^"\\]|\\.|"(?!""))*"""|'\'\''(?:[^'\\]|\\.|'(?!''))*'\'\'')'''
    r"""|(?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"""|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)"""
    r"""|(?P<comment>\#[^\n]*)""",
    re.S,
)
_UPDATE_WORDS = re.compile(
    r"(?<![\w?$:.\-])(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY)(?![\w:\-])", re.I
)
_SERVICE_WORD = re.compile(r"(?<![\w?$:.\-])SERVICE(?![\w:\-])", re.I)
_FROM_IRI = re.compile(r"(?<![\w?$:.\-])FROM\s+(?:NAMED\s+)?<>", re.I)


def _lex(text: str) -> tuple[str, list[str]]:
    """The query with strings and comments blanked and IRIs replaced by ``<>``, and the IRIs."""
    iris: list[str] = []

    def repl(m: re.Match[str]) -> str:
        if m.group("iri") is not None:
            iris.append(m.group("iri")[1:-1])
            return "<>"
        if m.group("comment") is not None:
            return " "
        return '""'

    return _LEXEME.sub(repl, text), iris


def check_query(text: str, *, max_bytes: int = DEFAULT_MAX_QUERY_BYTES) -> None:
    """Refuse queries a read-only, self-contained endpoint must not run, with a message saying why.

    The worker's store is read-only anyway; this check exists so that the user learns *why*.
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise QueryTooLarge(f"query is {size:,} bytes; the limit is {max_bytes:,} bytes")
    if not text.strip():
        raise QuerySyntaxError("empty query")
    code, iris = _lex(text)
    m = _UPDATE_WORDS.search(code)
    if m:
        raise QueryRefused(
            f"{m.group(1).upper()} is a SPARQL Update operation; the policykg graph is read-only "
            "(use SELECT, ASK, CONSTRUCT or DESCRIBE)"
        )
    if _SERVICE_WORD.search(code):
        raise QueryRefused("SERVICE (federated query) is not allowed: policykg only queries its own graph")
    for iri in iris:
        if iri.lower().startswith("file:"):
            raise QueryRefused(f"file: IRIs are not allowed (<{iri}>): policykg never reads local files")
    for m in _FROM_IRI.finditer(code):
        iri = iris[code.count("<>", 0, m.end()) - 1]
        if not iri.startswith(str(ID)):
            raise QueryRefused(
                f"FROM <{iri}> names a graph on another host; policykg never fetches graphs "
                "and answers from its own store only (drop the FROM clause)"
            )


# --- search inside SPARQL -------------------------------------------------------------------------

_SEARCH_CALL = re.compile(
    r"(?:\b[A-Za-z][\w\-.]*:|<" + re.escape(str(PK)) + r")search(Score|Rank)>?\s*\(", re.S
)
_SEARCH_ARGS = re.compile(
    r"""\s*(?:[?$]\w+|<[^>]*>|[\w\-]*:[\w\-.]*)\s*,\s*"""
    r"""(?P<lit>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')(?:@[\w\-]+)?"""
    r"""(?:\s*,\s*(?P<top>\d+))?\s*\)""",
    re.S,
)


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(
        r"\\(.)",
        lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)),
        body,
    )


def search_calls(text: str) -> list[tuple[str, int]]:
    """The (search text, top) pairs of every ``pk:searchScore``/``pk:searchRank`` call in ``text``.

    Raises QuerySyntaxError when a call's text is not a string literal, because the worker can only
    look up searches that were run before the query started.
    """
    code = _LEXEME.sub(lambda m: " " * len(m.group()) if m.group("comment") else m.group(), text)
    found: list[tuple[str, int]] = []
    for m in _SEARCH_CALL.finditer(code):  # comments are blanked, so documented examples do not run
        args = _SEARCH_ARGS.match(code, m.end())
        if not args:
            raise QuerySyntaxError(
                f'pk:search{m.group(1)} takes (?task, "search text" [, top]) with the text as a string '
                'literal, e.g. pk:searchScore(?task, "数据共享", 20)'
            )
        top = int(args.group("top")) if args.group("top") else DEFAULT_SEARCH_TOP
        pair = (_unescape(args.group("lit")), top)
        if pair not in found:
            found.append(pair)
    return found


def _search_functions(scores: ScoreMap) -> dict[ox.NamedNode, Callable[..., Term | None]]:
    def lookup(task: Term, text: Term, top: Term | None = None) -> tuple[float, int] | None:
        if not isinstance(task, ox.NamedNode) or not isinstance(text, ox.Literal):
            return None
        k = DEFAULT_SEARCH_TOP if top is None or not isinstance(top, ox.Literal) else int(float(top.value))
        return scores.get((text.value, k), {}).get(task.value)

    def score(task: Term, text: Term, top: Term | None = None) -> Term | None:
        hit = lookup(task, text, top)
        return None if hit is None else ox.Literal(repr(float(hit[0])), datatype=ox.NamedNode(_XSD_DOUBLE))

    def rank(task: Term, text: Term, top: Term | None = None) -> Term | None:
        hit = lookup(task, text, top)
        return None if hit is None else ox.Literal(str(hit[1]), datatype=ox.NamedNode(_XSD_INTEGER))

    return {ox.NamedNode(SEARCH_SCORE): score, ox.NamedNode(SEARCH_RANK): rank}


_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def compute_scores(text: str, scorer: Scorer | None) -> ScoreMap:
    """Run each search the query asks for once; ranks follow descending score."""
    calls = search_calls(text)
    if not calls:
        return {}
    if scorer is None:
        raise EngineError("this query calls pk:searchScore/pk:searchRank but no search index is available")
    out: ScoreMap = {}
    for q, top in calls:
        hits = sorted(scorer(q, top).items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        out[(q, top)] = {iri: (float(s), i + 1) for i, (iri, s) in enumerate(hits)}
    return out


# --- results ----------------------------------------------------------------------------------------


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

    def __len__(self) -> int:
        if self.kind == "select":
            return len(self.rows)
        if self.kind == "graph":
            return len(self.triples)
        return 1

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts of plain Python values (str, int, float, bool, date strings), for pandas/apps."""
        if self.kind == "ask":
            return [{"boolean": self.boolean}]
        if self.kind == "graph":
            return [
                {
                    "subject": to_python(t.subject),
                    "predicate": to_python(t.predicate),
                    "object": to_python(t.object),
                }
                for t in self.triples
            ]
        return [{v: to_python(c) for v, c in zip(self.variables, row, strict=True)} for row in self.rows]

    def serialize(self, fmt: str) -> bytes:
        """Bytes in ``fmt`` (a name from :data:`FORMATS`); ValueError if it does not fit the result kind."""
        spec = FORMATS.get(fmt)
        if spec is None or self.kind not in spec.kinds:
            allowed = ", ".join(f for f, s in FORMATS.items() if self.kind in s.kinds)
            raise ValueError(
                f"format {fmt!r} does not fit a {KIND_NAMES[self.kind]} result; use one of {allowed}"
            )
        return spec.writer(self)

    @property
    def note(self) -> str:
        """A line to show users when the result was capped."""
        what = "triples" if self.kind == "graph" else "rows"
        return f"result truncated to the first {self.limit:,} {what} (result limit)" if self.truncated else ""


_NUMERIC = {
    "http://www.w3.org/2001/XMLSchema#integer": int,
    "http://www.w3.org/2001/XMLSchema#int": int,
    "http://www.w3.org/2001/XMLSchema#long": int,
    "http://www.w3.org/2001/XMLSchema#decimal": float,
    "http://www.w3.org/2001/XMLSchema#double": float,
    "http://www.w3.org/2001/XMLSchema#float": float,
}


def to_python(term: Term | None) -> Any:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        if dt in _NUMERIC:
            try:
                return _NUMERIC[dt](term.value)
            except ValueError:
                return term.value
        if dt == "http://www.w3.org/2001/XMLSchema#boolean":
            return term.value in ("true", "1")
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def run_query(
    store: ox.Store,
    text: str,
    *,
    limit: int = DEFAULT_LIMIT,
    scores: ScoreMap | None = None,
    prefixes: Mapping[str, str] = PREFIXES,
) -> QueryResult:
    """Run ``text`` in this process (no time limit): the worker's core, also handy in notebooks."""
    t0 = time.perf_counter()
    try:
        answer = store.query(text, prefixes=dict(prefixes), custom_functions=_search_functions(scores or {}))
        if isinstance(answer, ox.QueryBoolean):
            result = QueryResult("ask", boolean=bool(answer), limit=limit)
        elif isinstance(answer, ox.QuerySolutions):
            variables = [v.value for v in answer.variables]
            rows: list[tuple[Term | None, ...]] = []
            truncated = False
            for sol in answer:
                if len(rows) >= limit:
                    truncated = True
                    break
                rows.append(tuple(sol[v] for v in variables))
            result = QueryResult("select", variables, rows, truncated=truncated, limit=limit)
        else:
            triples: list[ox.Triple] = []
            truncated = False
            for t in answer:
                if len(triples) >= limit:
                    truncated = True
                    break
                triples.append(t)
            result = QueryResult("graph", triples=triples, truncated=truncated, limit=limit)
    except SyntaxError as e:
        raise QuerySyntaxError(explain_syntax_error(text, one_line(e), prefixes)) from None
    except SparqlError:
        raise
    except Exception as e:  # pyoxigraph raises OSError/ValueError/RuntimeError for evaluation failures
        raise EngineError(f"query failed: {one_line(e)}") from None
    result.elapsed = time.perf_counter() - t0
    return result


_DECLARED = re.compile(r"PREFIX\s+([A-Za-z][\w\-.]*)?:", re.I)
_PNAME = re.compile(r"(?<![\w?$:<])([A-Za-z][\w\-.]*)?:(?=[\w%\\]|\s|[;,.)\]}]|$)")


def explain_syntax_error(text: str, message: str, prefixes: Mapping[str, str] = PREFIXES) -> str:
    """pyoxigraph's parser messages list every expected character class; say what is wrong instead."""
    code, _ = _lex(text)
    # an undeclared prefix is the commonest slip, whatever the parser says about it
    declared = set(prefixes) | {m.group(1) or "" for m in _DECLARED.finditer(code)}
    unknown = sorted({m.group(1) or "" for m in _PNAME.finditer(code)} - declared)
    if unknown:
        known = ", ".join(f"{p}:" for p in prefixes)
        return f"syntax error: unknown prefix {unknown[0]}: (declared: {known}; add a PREFIX line)"
    where = ""
    m = re.match(r"error at (\d+):(\d+)", message)
    if m:
        line_no, col = int(m.group(1)), int(m.group(2))
        lines = text.splitlines() or [""]
        if 0 < line_no <= len(lines):
            line = lines[line_no - 1]
            near = line[max(0, col - 21) : col + 20].strip()
            where = f" near {near!r}" if near else ""
    if len(message) > 160:
        message = message[:157] + "..."
    return f"syntax error{where}: {message}"


def query_store(
    store: ox.Store,
    text: str,
    *,
    limit: int = DEFAULT_LIMIT,
    scorer: Scorer | None = None,
    max_bytes: int = DEFAULT_MAX_QUERY_BYTES,
) -> QueryResult:
    """Checked, search-aware query on an open store in this process (no time limit: trusted callers)."""
    check_query(text, max_bytes=max_bytes)
    return run_query(store, text, limit=limit, scores=compute_scores(text, scorer))


# --- worker processes --------------------------------------------------------------------------------


def _worker_main(conn: Connection, store_path: str) -> None:
    """Open the store read-only once, then answer (query, limit, scores) requests until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the parent, which kills us
    try:
        store = ox.Store.read_only(store_path)
    except Exception as e:
        conn.send(("error", "EngineError", f"cannot open the store at {store_path}: {one_line(e)}"))
        return
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        text, limit, scores = request
        try:
            reply: tuple[Any, ...] = ("ok", run_query(store, text, limit=limit, scores=scores))
        except SparqlError as e:
            reply = ("error", type(e).__name__, str(e))
        except BaseException as e:
            reply = ("error", "EngineError", f"query failed: {one_line(e)}")
        try:
            conn.send(reply)
        except Exception as e:  # e.g. a result that cannot be pickled
            conn.send(("error", "EngineError", f"cannot return the result: {one_line(e)}"))


def _worker_entry() -> None:
    """Entry point of a worker process started by :class:`_Worker` (``python -c``)."""
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    with contextlib.suppress(Exception):  # Linux: die with the parent even in the middle of a query
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[5]):  # the parent died before prctl took effect
        return
    conn = _Duplex(Connection(read_fd, writable=False), Connection(write_fd, readable=False))
    _worker_main(conn, sys.argv[3])  # type: ignore[arg-type]


class _Duplex:
    """Two one-way pipe connections used as one (what ``multiprocessing.Pipe`` gives, across exec)."""

    def __init__(self, incoming: Connection, outgoing: Connection) -> None:
        self.incoming, self.outgoing = incoming, outgoing

    def send(self, obj: Any) -> None:
        self.outgoing.send(obj)

    def recv(self) -> Any:
        return self.incoming.recv()

    def poll(self, timeout: float) -> bool:
        return self.incoming.poll(timeout)

    def close(self) -> None:
        self.incoming.close()
        self.outgoing.close()


_BOOT = "import sys; sys.path[:0] = __import__('json').loads(sys.argv[4]); import graph.sparql as s; s._worker_entry()"


class _Worker:
    """A worker started with ``python -c`` rather than multiprocessing's spawn, which re-runs the
    parent's ``__main__`` (fatal under Streamlit, ``python -`` or notebooks) and fork, which is
    unsafe in a threaded server."""

    def __init__(self, store_path: str) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _BOOT,
                    str(to_child_r),
                    str(from_child_w),
                    store_path,
                    json.dumps(sys.path),
                    str(os.getpid()),
                ],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.conn = _Duplex(Connection(from_child_r, writable=False), Connection(to_child_w, readable=False))
        self.ready = False

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        if not self.conn.poll(timeout):
            raise EngineError(f"query worker did not start within {timeout:g} s")
        msg = self.conn.recv()
        if msg[0] != "ready":
            raise _ERRORS.get(msg[1], EngineError)(msg[2])
        self.ready = True

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.wait(2)
        with contextlib.suppress(Exception):
            self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
            self.proc.wait(1)
        self.kill()


class _Spawner:
    """Starts every worker from one thread that lives as long as the process.

    Linux delivers PR_SET_PDEATHSIG when the *thread* that started the child exits, not the process.
    Workers are (re)started from request threads of a threaded server or from Streamlit script
    threads, which end quickly; starting them here instead makes "die with the parent" mean the
    process, and keeps it from killing healthy workers when a request thread finishes.
    """

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[str, Future[_Worker]]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, store_path: str) -> _Worker:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="policykg-sparql-spawner", daemon=True
                )
                self._thread.start()
        fut: Future[_Worker] = Future()
        self._requests.put((store_path, fut))
        return fut.result()

    def _loop(self) -> None:
        while True:
            path, fut = self._requests.get()
            try:
                fut.set_result(_Worker(path))
            except BaseException as e:
                fut.set_exception(e)


_SPAWNER = _Spawner()


class QueryPool:
    """Warm worker processes over one store; a query that overruns its time limit kills its worker.

    ``size`` workers answer queries in parallel; a caller waits up to ``wait`` seconds for a free one
    (default: the query's timeout) and then gets :class:`EngineBusy`.
    """

    def __init__(self, store_path: str | Path, size: int = 1, *, start_timeout: float = 60.0) -> None:
        if size < 1:
            raise ValueError("a query pool needs at least one worker")
        self.store_path = str(store_path)
        self.size = size
        self.start_timeout = start_timeout
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._closed = False
        for _ in range(size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        w = _SPAWNER.start(self.store_path)
        with self._lock:
            self._workers.append(w)
        return w

    def _retire(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            if w in self._workers:
                self._workers.remove(w)

    def warm_up(self) -> None:
        """Wait until every idle worker has opened the store (so the first query's timer is fair)."""
        held = []
        try:
            while True:
                held.append(self._idle.get_nowait())
        except queue.Empty:
            pass
        try:
            for w in held:
                w.wait_ready(self.start_timeout)
        finally:
            for w in held:
                self._idle.put(w)

    def run(
        self,
        text: str,
        *,
        timeout: float,
        limit: int,
        scores: ScoreMap | None = None,
        wait: float | None = None,
    ) -> QueryResult:
        if self._closed:
            raise EngineError("the query engine is closed")
        try:
            w = self._idle.get(timeout=timeout if wait is None else wait)
        except queue.Empty:
            raise EngineBusy(f"all {self.size} query workers are busy; try again shortly") from None
        healthy = False
        try:
            w.wait_ready(self.start_timeout)
            w.conn.send((text, limit, scores or {}))
            if not w.conn.poll(timeout):
                raise QueryTimeout(
                    f"query stopped after {timeout:g} s (time limit); narrow it down, add a LIMIT, "
                    "or allow more time (--timeout)"
                )
            msg = w.conn.recv()
            healthy = True
        except (EOFError, OSError, BrokenPipeError):
            raise EngineError("the query worker died (out of memory?); it has been restarted") from None
        finally:
            if healthy or self._closed:
                self._idle.put(w) if not self._closed else w.stop()
            else:
                self._retire(w)
                if not self._closed:
                    self._idle.put(self._spawn())
        if msg[0] == "ok":
            result: QueryResult = msg[1]
            return result
        raise _ERRORS.get(msg[1], EngineError)(msg[2])

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for w in workers:
            w.stop()


class SparqlEngine:
    """Checked, time-limited, size-capped SPARQL over a store directory: what the CLI and endpoint use.

    ``scorer`` backs ``pk:searchScore``; :func:`scorer_for_build` adapts a build's search engine.
    Searches are cached per (text, top), so a query repeated from the app does not search again.
    """

    def __init__(
        self,
        store_path: str | Path,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        limit: int = DEFAULT_LIMIT,
        workers: int = 1,
        scorer: Scorer | None = None,
        max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES,
    ) -> None:
        path = Path(store_path)
        if not path.is_dir():
            raise EngineError(f"no Oxigraph store at {path}; run `policykg build` first")
        self.store_path = path
        self.timeout = timeout
        self.limit = limit
        self.max_query_bytes = max_query_bytes
        self.scorer = scorer
        self._pool = QueryPool(path, workers)
        self._search_cache: OrderedDict[tuple[str, int], dict[str, tuple[float, int]]] = OrderedDict()
        self._search_lock = threading.Lock()

    @property
    def workers(self) -> int:
        return self._pool.size

    def warm_up(self) -> None:
        self._pool.warm_up()

    def _scores(self, text: str) -> ScoreMap:
        calls = search_calls(text)
        if not calls:
            return {}
        out: ScoreMap = {}
        with self._search_lock:  # search engines are not guaranteed thread-safe
            for call in calls:
                if call not in self._search_cache:
                    self._search_cache[call] = compute_scores(_call_query(*call), self.scorer)[call]
                    while len(self._search_cache) > 128:
                        self._search_cache.popitem(last=False)
                out[call] = self._search_cache[call]
        return out

    def query(self, text: str, *, timeout: float | None = None, limit: int | None = None) -> QueryResult:
        t0 = time.perf_counter()
        check_query(text, max_bytes=self.max_query_bytes)
        scores = self._scores(text)
        lim = self.limit if limit is None else limit
        result = self._pool.run(
            text, timeout=self.timeout if timeout is None else timeout, limit=lim, scores=scores
        )
        result.elapsed = time.perf_counter() - t0
        return result

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> SparqlEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _call_query(text: str, top: int) -> str:
    """A one-call query whose only search is (text, top), to reuse :func:`compute_scores`."""
    return f"SELECT * {{ BIND(pk:searchScore(?t, {json.dumps(text, ensure_ascii=False)}, {top}) AS ?s) }}"


def scorer_for_build(build: Any) -> Scorer:
    """Adapt ``build.search_engine().scores_for(text, top)`` (keys (plan_id, task position)) to task IRIs.

    The search engine is loaded on first use, so queries without search never pay for it.
    """
    from graph.namespaces import task_iri

    def score(text: str, top: int) -> dict[str, float]:
        hits = build.search_engine().scores_for(text, top)
        return {task_iri(plan_id, pos): float(s) for (plan_id, pos), s in hits.items()}

    return score


def store_path_of(build_or_dir: Any) -> Path:
    """The store directory of a ``Build`` (``build.store.path``) or of a build directory path."""
    if isinstance(build_or_dir, str | Path):
        p = Path(build_or_dir)
        return p / "store" if (p / "store").is_dir() else p
    return Path(build_or_dir.store.path)


# --- serializers -----------------------------------------------------------------------------------


def term_json(term: Term) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": term_json(term.subject),
                "predicate": term_json(term.predicate),
                "object": term_json(term.object),
            },
        }
    out: dict[str, Any] = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _json(r: QueryResult) -> bytes:
    if r.kind == "ask":
        doc: dict[str, Any] = {"head": {}, "boolean": bool(r.boolean)}
    else:
        bindings = [
            {v: term_json(t) for v, t in zip(r.variables, row, strict=True) if t is not None}
            for row in r.rows
        ]
        doc = {"head": {"vars": r.variables}, "results": {"bindings": bindings}}
    if r.truncated:
        doc["policykg"] = {"truncated": True, "limit": r.limit}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _term_xml(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{_term_xml(term.subject)}</subject><predicate>{_term_xml(term.predicate)}"
            f"</predicate><object>{_term_xml(term.object)}</object></triple>"
        )
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _xml(r: QueryResult) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if r.kind == "ask":
        out.append(f"<head/><boolean>{'true' if r.boolean else 'false'}</boolean>")
    else:
        out.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in r.variables) + "</head>")
        out.append("<results>")
        for row in r.rows:
            cells = "".join(
                f"<binding name={quoteattr(v)}>{_term_xml(t)}</binding>"
                for v, t in zip(r.variables, row, strict=True)
                if t is not None
            )
            out.append(f"<result>{cells}</result>")
        out.append("</results>")
    out.append("</sparql>\n")
    return "\n".join(out).encode("utf-8")


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def _csv(r: QueryResult) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if r.kind == "ask":
        w.writerow(["boolean"])
        w.writerow(["true" if r.boolean else "false"])
    else:
        w.writerow(r.variables)
        for row in r.rows:
            w.writerow([_csv_value(t) for t in row])
    return buf.getvalue().encode("utf-8")


def _tsv_value(term: Term | None) -> str:
    if term is None:
        return ""
    return str(term).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _tsv(r: QueryResult) -> bytes:
    if r.kind == "ask":
        return f"?boolean\n{'true' if r.boolean else 'false'}\n".encode()
    lines = ["\t".join(f"?{v}" for v in r.variables)]
    lines += ["\t".join(_tsv_value(t) for t in row) for row in r.rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _rdf(fmt: ox.RdfFormat) -> Callable[[QueryResult], bytes]:
    def write(r: QueryResult) -> bytes:
        prefixes = PREFIXES if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        data = ox.serialize(r.triples, format=fmt, prefixes=prefixes) or b""
        return data if not data or data.endswith(b"\n") else data + b"\n"

    return write


def curie(iri: str) -> str:
    """``pk:leads`` for a known prefix, else the IRI in angle brackets (for tables)."""
    best = max((ns for ns in PREFIXES.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return f"<{iri}>"
    prefix = next(p for p, ns in PREFIXES.items() if ns == best)
    local = iri[len(best) :]
    return f"{prefix}:{local}" if re.fullmatch(r"[\w\-./%]*", local) else f"<{iri}>"


def display(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return curie(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return f"<< {display(term.subject)} {display(term.predicate)} {display(term.object)} >>"
    return term.value


def _table(r: QueryResult) -> bytes:
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


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    kinds: tuple[ResultKind, ...]
    writer: Callable[[QueryResult], bytes]


_TABULAR: tuple[ResultKind, ...] = ("select", "ask")
FORMATS: dict[str, Format] = {
    "json": Format("json", "application/sparql-results+json", _TABULAR, _json),
    "xml": Format("xml", "application/sparql-results+xml", _TABULAR, _xml),
    "csv": Format("csv", "text/csv", _TABULAR, _csv),
    "tsv": Format("tsv", "text/tab-separated-values", _TABULAR, _tsv),
    "turtle": Format("turtle", "text/turtle", ("graph",), _rdf(ox.RdfFormat.TURTLE)),
    "ntriples": Format("ntriples", "application/n-triples", ("graph",), _rdf(ox.RdfFormat.N_TRIPLES)),
    "rdfxml": Format("rdfxml", "application/rdf+xml", ("graph",), _rdf(ox.RdfFormat.RDF_XML)),
    "jsonld": Format("jsonld", "application/ld+json", ("graph",), _rdf(ox.RdfFormat.JSON_LD)),
    "table": Format("table", "text/plain", ("select", "ask", "graph"), _table),
}
#: Other names accepted for ``format=`` / ``--format``.
FORMAT_ALIASES = {
    "srj": "json",
    "srx": "xml",
    "ttl": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "rdf": "rdfxml",
    "json-ld": "jsonld",
    "text": "table",
    "txt": "table",
}


def default_format(kind: ResultKind) -> str:
    return "turtle" if kind == "graph" else "json"
