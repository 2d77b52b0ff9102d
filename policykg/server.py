"""A read-only SPARQL 1.1 Protocol endpoint over a build: a Starlette app served by uvicorn.

Why Starlette on uvicorn: Python's documentation says ``http.server`` is not for production; both
come with Streamlit, so serving the same routes with them adds no dependency. The endpoint is a thin
layer over a :class:`sparql.protocol.SparqlEngine`, which does the hard parts (time limit by killing
worker processes, result cap, refusals); queries run in Starlette's thread pool so a slow one never
holds the event loop.

Routes:
  ``/sparql``          GET ``?query=``, POST form (``query=``) or ``application/sparql-query``
  ``/``                index of canned queries (HTML, or JSON when asked for)
  ``/queries``         canned queries as JSON
  ``/queries/NAME``    run a canned query (same negotiation as ``/sparql``); ``NAME.rq`` is its text;
                       ``?plan=ID`` (repeatable) limits it to those plans (``sparql.queries``)

Results are negotiated from ``Accept`` (or ``?format=``) over the registered formats
(:mod:`sparql.formats`): SPARQL JSON (default), XML, CSV, TSV, plain-text table; Turtle (default),
N-Triples, RDF/XML, JSON-LD for CONSTRUCT/DESCRIBE. CORS is open (``Access-Control-Allow-Origin: *``)
so browser notebooks and YASGUI can call it. Errors are one line of plain text with the status the
:class:`~sparql.errors.SparqlError` carries (400 syntax or nesting, 403 refused, 406, 413, 503 time
limit or busy).
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graph.namespaces import PREFIXES
from sparql.defaults import DEFAULT_LIMIT, DEFAULT_MAX_QUERY_BYTES, DEFAULT_TIMEOUT, DEFAULT_WORKERS
from sparql.errors import EngineError, SparqlError, UnknownFormat
from sparql.formats import FORMATS, accepted, lookup, negotiate
from sparql.protocol import SparqlEngine, engine_for_build
from sparql.queries import QueryScopeError, UnknownPlanError, get_query, list_queries
from sparql.results import QueryResult
from sparql.search import Scorer, scorer_for_build

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
SERVER_NAME = "policykg-sparql"
#: Seconds uvicorn waits for requests in flight when stopping: a query is cut at the time limit anyway.
SHUTDOWN_GRACE = 5
#: Connections the kernel queues before uvicorn accepts them (the stdlib's default of 5 reset connections
#: under the load test's 20 concurrent clients).
BACKLOG = 128
EXPOSED_HEADERS = ["X-PolicyKG-Elapsed-Ms", "X-PolicyKG-Rows", "X-PolicyKG-Truncated"]
_METHODS = ["GET", "HEAD", "POST"]
_READ_ONLY = "SPARQL Update is not supported: the policykg graph is read-only"

log = logging.getLogger("policykg.server")


class BadRequest(Exception):
    """A request the endpoint cannot read; carries the status to answer with."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.close = close  # the body was left unread, so the connection cannot be reused


@dataclass
class EndpointConfig:
    timeout: float = DEFAULT_TIMEOUT
    limit: int = DEFAULT_LIMIT
    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES
    plans: tuple[str, ...] | None = None  # the build's plan ids, for ?plan= on canned queries

    @property
    def max_body_bytes(self) -> int:
        """A form-encoded query may be up to three times its text; allow that plus the other fields."""
        return self.max_query_bytes * 3 + 4096


Params = dict[str, list[str]]
Handler = Callable[[Request], Awaitable[Response]]


def _text(status: int, message: str, *, close: bool = False) -> Response:
    headers = {"Connection": "close"} if close else None
    return Response((message + "\n").encode("utf-8"), status, headers, "text/plain; charset=utf-8")


def _parse_qs(text: str, what: str) -> Params:
    try:
        return urllib.parse.parse_qs(text, keep_blank_values=True, errors="strict", max_num_fields=64)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(400, f"malformed {what}: {e}") from None


def _single(params: Params, key: str) -> str:
    values = params.get(key, [])
    if not values:
        raise BadRequest(400, f"missing {key!r} parameter; send ?{key}=SELECT…")
    if len(values) > 1:
        raise BadRequest(400, f"more than one {key!r} parameter")
    return values[0]


class Endpoint:
    """The routes over one engine; every handler answers errors as one line of text, never a traceback."""

    def __init__(self, engine: SparqlEngine, config: EndpointConfig) -> None:
        self.engine = engine
        self.config = config

    def app(self) -> Starlette:
        guard = self._guarded
        routes = [
            Route("/sparql", guard(self.sparql), methods=_METHODS),
            Route("/", guard(self.index), methods=_METHODS),
            Route("/index.html", guard(self.index), methods=_METHODS),
            Route("/queries", guard(self.listing), methods=_METHODS),
            Route("/queries/", guard(self.listing), methods=_METHODS),
            Route("/queries/{name:path}", guard(self.canned), methods=_METHODS),
            Route("/{path:path}", guard(self.not_found), methods=_METHODS),
        ]
        cors = Middleware(
            CORSMiddleware, allow_origins=["*"], allow_methods=[*_METHODS, "OPTIONS"],
            allow_headers=["Content-Type", "Accept"], expose_headers=EXPOSED_HEADERS, max_age=86400,
        )
        return Starlette(routes=routes, middleware=[cors])

    @staticmethod
    def _guarded(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except BadRequest as e:
                return _text(e.status, str(e), close=e.close)
            except SparqlError as e:
                return _text(e.status, str(e))
            except Exception as e:  # never a traceback to the client; one line to the log
                message = " ".join(str(e).split()) or type(e).__name__
                log.error("internal error: %s", message)
                return _text(500, f"internal error: {message}")

        return guarded

    # --- routes ------------------------------------------------------------------------------------

    async def sparql(self, request: Request) -> Response:
        params = _parse_qs(request.scope["query_string"].decode("latin-1"), "query string")
        if request.method != "POST":
            if "update" in params:
                raise BadRequest(403, _READ_ONLY)
            return await self._run(_single(params, "query"), params, request)
        ctype, _, rest = (request.headers.get("content-type") or "").partition(";")
        ctype = ctype.strip().lower()
        charset = "utf-8"
        for p in rest.split(";"):
            k, _, v = p.strip().partition("=")
            if k.lower() == "charset" and v:
                charset = v.strip('"')
        body = await self._body(request)
        try:
            text = body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise BadRequest(400, f"the request body is not valid {charset}") from None
        if ctype == "application/x-www-form-urlencoded":
            form = _parse_qs(text, "form body")
            if "update" in form:
                raise BadRequest(403, _READ_ONLY)
            return await self._run(_single(form, "query"), {**params, **{k: v for k, v in form.items() if k != "query"}},
                                   request)
        if ctype == "application/sparql-query":
            return await self._run(text, params, request)
        if ctype == "application/sparql-update":
            raise BadRequest(403, _READ_ONLY)
        raise BadRequest(415, f"unsupported Content-Type {ctype or '(none)'!r}; send application/sparql-query "
                              "or application/x-www-form-urlencoded")

    async def canned(self, request: Request) -> Response:
        if request.method == "POST":
            raise BadRequest(405, f"POST goes to /sparql, not {request.url.path!r}")
        name = request.path_params["name"]
        params = _parse_qs(request.scope["query_string"].decode("latin-1"), "query string")
        try:
            q = get_query(name)
        except KeyError as e:
            raise BadRequest(404, str(e.args[0])) from None
        text = q.text
        if params.get("plan"):  # ?plan=ID (repeatable): the canned query limited to those plans
            plans = [p for value in params["plan"] for p in value.split(",") if p]
            try:
                text = q.for_plans(plans, known=self.config.plans)
            except QueryScopeError as e:
                raise BadRequest(404 if isinstance(e, UnknownPlanError) else 400, str(e)) from None
        if name.endswith(".rq"):
            return Response(text.encode("utf-8"), 200, None, "application/sparql-query; charset=utf-8")
        return await self._run(text, params, request)

    async def listing(self, request: Request) -> Response:
        if request.method == "POST":
            raise BadRequest(405, f"POST goes to /sparql, not {request.url.path!r}")
        body = json.dumps([q.as_dict() for q in list_queries()], ensure_ascii=False, indent=1)
        return Response(body.encode("utf-8"), 200, None, "application/json; charset=utf-8")

    async def not_found(self, request: Request) -> Response:
        raise BadRequest(404, f"no such resource {request.url.path!r}; try /sparql, /queries or /")

    async def index(self, request: Request) -> Response:
        if request.method == "POST":
            raise BadRequest(405, f"POST goes to /sparql, not {request.url.path!r}")
        fmt = request.query_params.get("format", "").lower()
        first = next(iter(accepted(request.headers.get("accept") or "")), "")
        if fmt == "json" or (not fmt and first == "application/json"):
            return Response(json.dumps(self._index_doc(), ensure_ascii=False, indent=1).encode("utf-8"), 200, None,
                            "application/json; charset=utf-8")
        return Response(self._index_page().encode("utf-8"), 200, None, "text/html; charset=utf-8")

    # --- helpers -----------------------------------------------------------------------------------

    async def _body(self, request: Request) -> bytes:
        if "chunked" in (request.headers.get("transfer-encoding") or "").lower():
            raise BadRequest(411, "chunked bodies are not supported; send Content-Length", close=True)
        raw = request.headers.get("content-length")
        if raw is None:
            raise BadRequest(411, "POST needs a Content-Length header", close=True)
        n = int(raw)  # the HTTP parser (h11) has already refused a malformed Content-Length with 400
        cap = self.config.max_body_bytes
        if n > cap:
            raise BadRequest(413, f"request body of {n:,} bytes exceeds the limit of {cap:,} bytes", close=True)
        return await request.body()

    async def _run(self, text: str, params: Params, request: Request) -> Response:
        cfg = self.config
        timeout = cfg.timeout
        if "timeout" in params:  # a client may ask for less time, never more
            try:
                timeout = min(cfg.timeout, float(params["timeout"][-1]))
            except ValueError:
                raise BadRequest(400, f"bad timeout {params['timeout'][-1]!r}; give seconds") from None
        fmt = params.get("format", [None])[-1]
        if fmt and lookup(fmt) is None:  # fail before running the query
            raise UnknownFormat(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        result: QueryResult = await run_in_threadpool(self.engine.query, text, timeout=timeout, limit=cfg.limit)
        chosen = negotiate(result.kind, request.headers.get("accept"), fmt)
        headers = {
            "Content-Type": chosen.content_type,
            "Vary": "Accept",
            "X-PolicyKG-Elapsed-Ms": f"{result.elapsed * 1000:.1f}",
            "X-PolicyKG-Rows": str(len(result)),
        }
        if result.truncated:
            headers["X-PolicyKG-Truncated"] = str(result.limit)
        return Response(chosen.writer(result), 200, headers)

    def _index_doc(self) -> dict[str, Any]:
        return {
            "endpoint": "/sparql",
            "timeout_seconds": self.config.timeout,
            "result_limit": self.config.limit,
            "queries": [
                {k: v for k, v in q.as_dict().items() if k != "query"} | {"href": f"/queries/{q.name}"}
                for q in list_queries()
            ],
        }

    def _index_page(self) -> str:
        rows = "\n".join(
            f"<li><a href='/queries/{html.escape(q.name)}?format=table'>{html.escape(q.title_zh)}</a> "
            f"({html.escape(q.title_en)}) — <a href='/queries/{html.escape(q.name)}.rq'>SPARQL</a>, "
            f"<a href='/queries/{html.escape(q.name)}'>{'Turtle' if q.form in ('CONSTRUCT', 'DESCRIBE') else 'JSON'}</a>"
            f"<br><small>{html.escape(q.description_zh)}</small></li>"
            for q in list_queries()
        )
        cfg = self.config
        return f"""<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>policykg SPARQL</title></head>
<body><h1>policykg SPARQL 查询端点</h1>
<p>SPARQL 1.1 endpoint at <code>/sparql</code> (GET <code>?query=</code>, POST form or
<code>application/sparql-query</code>). Read-only; time limit {cfg.timeout:g} s; at most {cfg.limit:,} rows.
Prefixes {", ".join(f"{p}:" for p in PREFIXES)} are predeclared.
Search inside SPARQL: <code>pk:searchScore(?task, "数据共享", 20)</code>.</p>
<form method="post" action="/sparql"><textarea name="query" rows="8" cols="90">SELECT ?task ?text WHERE {{ ?task a pk:Task ; pk:text ?text }} LIMIT 10</textarea><br>
<select name="format"><option>table</option><option>json</option><option>csv</option><option>tsv</option><option>xml</option><option>turtle</option></select>
<button>运行 Run</button></form>
<h2>预置查询 Canned queries</h2><ul>
{rows}
</ul></body></html>"""


class SparqlServer:
    """The endpoint bound to a socket, served by uvicorn; owns the engine and closes it with the server.

    ``serve_forever()`` blocks (run it in a thread to serve in the background), ``shutdown()`` stops
    it and waits, ``server_close()`` releases the socket and the engine's workers.
    """

    def __init__(self, sock: socket.socket, engine: SparqlEngine, config: EndpointConfig, *,
                 verbose: bool = False) -> None:
        self.engine = engine
        self.config = config
        self.socket = sock
        self.server_address: tuple[str, int] = sock.getsockname()[:2]
        self.app = Endpoint(engine, config).app()
        self._uvicorn = uvicorn.Server(uvicorn.Config(
            self.app, lifespan="off", timeout_graceful_shutdown=SHUTDOWN_GRACE, backlog=BACKLOG,
            server_header=False, headers=[("Server", SERVER_NAME)],
            log_config=uvicorn.config.LOGGING_CONFIG if verbose else None,
            log_level="info" if verbose else "warning", access_log=verbose,
        ))
        self._running = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        with self._running:
            self._uvicorn.run(sockets=[self.socket])

    def shutdown(self) -> None:
        """Stop serving and wait until ``serve_forever`` has returned."""
        self._uvicorn.should_exit = True
        with self._running:
            pass

    def server_close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.close()
        self.engine.close()


def _scorer_for_dir(build_dir: Path) -> Scorer:
    """A scorer that opens the build's search engine the first time a query asks for search."""
    state: dict[str, Any] = {}
    lock = threading.Lock()

    def score(text: str, top: int) -> Any:
        with lock:
            if "scorer" not in state:
                try:
                    from policykg.build import Build
                    from policykg.config import Config

                    build = Build.open(Config(build_dir=build_dir), auto_build=False)
                except Exception as e:
                    raise EngineError(
                        f"search is unavailable for {build_dir}: {' '.join(str(e).split())}"
                    ) from None
                state["scorer"] = scorer_for_build(build)
        return state["scorer"](text, top)

    return score


def _plan_ids(build: Any) -> tuple[str, ...] | None:
    """The plan ids of a build (or of the build directory a store lives in), when they can be read."""
    from policykg.manifest import BuildManifest, try_read_manifest

    manifest = getattr(build, "manifest", None)
    if manifest is None and isinstance(build, str | Path):
        for directory in (Path(build), Path(build).parent):
            if (manifest := try_read_manifest(directory)) is not None:
                break
    if not isinstance(manifest, BuildManifest):
        return None
    return tuple(manifest.plan_ids)


def _size_hint(build: Any) -> str:
    """" (4,409,885 triples)" from the build's manifest, or "" when it cannot be read."""
    manifest = getattr(build, "manifest", None)
    triples = getattr(getattr(manifest, "counts", None), "triples", 0)
    return f" ({triples:,} triples)" if triples else ""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)  # listening now: clients may connect before serve_forever() starts accepting
    except BaseException:
        sock.close()
        raise
    return sock


def make_server(
    build: Any,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    limit: int = DEFAULT_LIMIT,
    workers: int = DEFAULT_WORKERS,
    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES,
    scorer: Scorer | None = None,
    verbose: bool = False,
    in_memory: bool = False,
) -> SparqlServer:
    """A ready (bound, warmed-up) server; call ``serve_forever()`` and later ``shutdown()``/``server_close()``.

    ``build`` is a ``Build`` (its search engine backs pk:searchScore) or a build/store directory.
    ``port=0`` picks a free port (see ``server.url``). ``in_memory``: each worker answers from a copy
    of the store in memory; this returns once they have it (sparql.run.open_store).
    """
    if scorer is None:
        if isinstance(build, str | Path):
            p = Path(build)
            scorer = _scorer_for_dir(p if (p / "store").is_dir() else p.parent)
        else:
            scorer = scorer_for_build(build)
    # the embedded store's engine, or the SPARQL server of a build made with --store URL
    engine = engine_for_build(
        build, timeout=timeout, limit=limit, workers=workers, scorer=scorer, max_query_bytes=max_query_bytes,
        in_memory=in_memory)
    try:
        engine.warm_up()
        config = EndpointConfig(timeout, limit, max_query_bytes, _plan_ids(build))
        return SparqlServer(_bind(host, port), engine, config, verbose=verbose)
    except BaseException:
        engine.close()
        raise


def serve(
    build: Any,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    timeout: float = DEFAULT_TIMEOUT,
    limit: int = DEFAULT_LIMIT,
    *,
    workers: int = DEFAULT_WORKERS,
    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES,
    verbose: bool = False,
    in_memory: bool = False,
) -> None:
    """Serve ``/sparql`` until interrupted (Ctrl-C)."""
    in_memory = in_memory and not getattr(build, "is_remote", False)  # a SPARQL server holds its own data
    if in_memory:
        t0 = time.perf_counter()
        print(f"policykg: {workers} workers are copying the graph into memory{_size_hint(build)}; "
              "the endpoint answers once they have it", file=sys.stderr, flush=True)
    server = make_server(
        build, host, port, timeout=timeout, limit=limit, workers=workers, max_query_bytes=max_query_bytes,
        verbose=verbose, in_memory=in_memory,
    )
    if in_memory:
        print(f"policykg: the graph is in memory ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    print(
        f"policykg SPARQL endpoint on {server.url}/sparql (read-only, {timeout:g} s limit, "
        f"{limit:,} rows max, {workers} workers{', in memory' if in_memory else ''}); Ctrl-C stops",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
