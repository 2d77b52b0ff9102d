"""A read-only SPARQL 1.1 Protocol endpoint over a build, on the standard library's HTTP server.

Why the stdlib: the endpoint is a thin layer over :class:`graph.sparql.SparqlEngine`, which already
does the hard parts (time limit by killing worker processes, result cap, refusals); a threaded
``http.server`` is enough for an analyst's laptop or a small intranet and adds no dependency.

Routes:
  ``/sparql``          GET ``?query=``, POST form (``query=``) or ``application/sparql-query``
  ``/``                index of canned queries (HTML, or JSON when asked for)
  ``/queries``         canned queries as JSON
  ``/queries/NAME``    run a canned query (same negotiation as ``/sparql``); ``NAME.rq`` is its text;
                       ``?plan=ID`` (repeatable) limits it to those plans (``graph.queries``)

Results are negotiated from ``Accept`` (or ``?format=``): SPARQL JSON (default), XML, CSV, TSV,
plain-text table; Turtle (default), N-Triples, RDF/XML, JSON-LD for CONSTRUCT/DESCRIBE. Every
response carries ``Access-Control-Allow-Origin: *`` so browser notebooks and YASGUI can call it.
"""

from __future__ import annotations

import html
import json
import sys
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graph.queries import QueryScopeError, UnknownPlanError, get_query, list_queries
from graph.remote import RemoteSparqlEngine, engine_for_build
from graph.sparql import (
    DEFAULT_LIMIT,
    DEFAULT_MAX_QUERY_BYTES,
    FORMAT_ALIASES,
    FORMATS,
    KIND_NAMES,
    EngineError,
    QueryResult,
    ResultKind,
    Scorer,
    SparqlEngine,
    SparqlError,
    default_format,
    scorer_for_build,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 10.0
DEFAULT_WORKERS = 2

# media type -> format name, per result kind (SELECT/ASK share one table)
_TABULAR_TYPES = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "text/javascript": "json",
    "application/javascript": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/plain": "table",
}
_GRAPH_TYPES = {
    "text/turtle": "turtle",
    "application/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/rdf+xml": "rdfxml",
    "application/xml": "rdfxml",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
    "text/plain": "table",
}
_EXPOSED = "X-PolicyKG-Elapsed-Ms, X-PolicyKG-Rows, X-PolicyKG-Truncated"


class BadRequest(Exception):
    """A request the endpoint cannot read; carries the status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _format_name(value: str) -> str | None:
    v = value.strip().lower()
    v = FORMAT_ALIASES.get(v, v)
    if v in FORMATS:
        return v
    return _TABULAR_TYPES.get(v) or _GRAPH_TYPES.get(v)


def _accepted(accept: str) -> list[str]:
    """Media types from an Accept header, best first (stable for equal q)."""
    items: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            items.append((-q, i, fields[0].lower()))
    return [m for _, _, m in sorted(items)]


def negotiate(kind: ResultKind, accept: str | None, fmt: str | None) -> str:
    """The format name for a result of ``kind``: ``fmt`` (name or media type) wins over ``Accept``.

    Raises BadRequest(406) when ``fmt`` names a format that cannot carry this kind of result;
    an ``Accept`` header with nothing usable falls back to the default (browsers send ``*/*``).
    """
    table = _GRAPH_TYPES if kind == "graph" else _TABULAR_TYPES
    if fmt:
        name = _format_name(fmt)
        if name is None:
            raise BadRequest(400, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        if kind not in FORMATS[name].kinds:
            # application/json or xml given as a name: map to the graph/tabular sibling
            alt = table.get(FORMATS[name].media_type) or {"json": "jsonld", "xml": "rdfxml"}.get(name)
            if alt and kind in FORMATS[alt].kinds:
                return alt
            ok = ", ".join(n for n, f in FORMATS.items() if kind in f.kinds)
            raise BadRequest(406, f"format {fmt!r} cannot carry a {KIND_NAMES[kind]} result; use one of {ok}")
        return name
    for media in _accepted(accept or ""):
        if media in table:
            return table[media]
    return default_format(kind)


@dataclass
class EndpointConfig:
    timeout: float = DEFAULT_TIMEOUT
    limit: int = DEFAULT_LIMIT
    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES
    plans: tuple[str, ...] | None = None  # the build's plan ids, for ?plan= on canned queries



class SparqlServer(ThreadingHTTPServer):
    """The HTTP server; owns the engine and closes it with the server."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # listen backlog: the default 5 resets connections under 20 concurrent clients

    def __init__(self, address: tuple[str, int], engine: SparqlEngine | RemoteSparqlEngine, config: EndpointConfig) -> None:
        self.engine = engine
        self.config = config
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def server_close(self) -> None:
        super().server_close()
        self.engine.close()


class Handler(BaseHTTPRequestHandler):
    server: SparqlServer
    protocol_version = "HTTP/1.1"
    server_version = "policykg-sparql/0.1"

    # --- plumbing --------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # quieter than stderr per request
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", _EXPOSED)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._cors()
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, (message + "\n").encode("utf-8"), "text/plain; charset=utf-8")

    def _dispatch(self, action: Callable[[], None]) -> None:
        try:
            action()
        except BadRequest as e:
            self._error(e.status, str(e))
        except SparqlError as e:
            self._error(e.status, str(e))
        except Exception as e:  # never a traceback to the client; one line to the log
            self.log_error("internal error: %s", " ".join(str(e).split()))
            self._error(500, f"internal error: {' '.join(str(e).split()) or type(e).__name__}")

    # --- verbs -------------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:  # CORS preflight
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, POST, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Allow", "GET, POST, HEAD, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._dispatch(self._get)

    def do_HEAD(self) -> None:
        self._dispatch(self._get)

    def do_POST(self) -> None:
        self._dispatch(self._post)

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        url = urllib.parse.urlsplit(self.path)
        try:
            params = urllib.parse.parse_qs(
                url.query, keep_blank_values=True, errors="strict", max_num_fields=64
            )
        except (UnicodeDecodeError, ValueError) as e:
            raise BadRequest(400, f"malformed query string: {e}") from None
        return urllib.parse.unquote(url.path), params

    def _get(self) -> None:
        path, params = self._route()
        if path == "/sparql":
            if "update" in params:
                raise BadRequest(403, "SPARQL Update is not supported: the policykg graph is read-only")
            self._run(_single(params, "query"), params)
        elif path in ("/", "/index.html"):
            self._index(params)
        elif path in ("/queries", "/queries/"):
            body = json.dumps([q.as_dict() for q in list_queries()], ensure_ascii=False, indent=1)
            self._send(200, body.encode("utf-8"), "application/json; charset=utf-8")
        elif path.startswith("/queries/"):
            name = path.removeprefix("/queries/")
            try:
                q = get_query(name)
            except KeyError as e:
                raise BadRequest(404, str(e.args[0])) from None
            text = q.text
            if params.get("plan"):  # ?plan=ID (repeatable): the canned query limited to those plans
                plans = [p for value in params["plan"] for p in value.split(",") if p]
                try:
                    text = q.for_plans(plans, known=self.server.config.plans)
                except QueryScopeError as e:
                    raise BadRequest(404 if isinstance(e, UnknownPlanError) else 400, str(e)) from None
            if name.endswith(".rq"):
                self._send(200, text.encode("utf-8"), "application/sparql-query; charset=utf-8")
            else:
                self._run(text, params)
        else:
            raise BadRequest(404, f"no such resource {path!r}; try /sparql, /queries or /")

    def _post(self) -> None:
        path, params = self._route()
        if path != "/sparql":
            raise BadRequest(
                404 if path not in ("/", "/queries") else 405, f"POST goes to /sparql, not {path!r}"
            )
        body = self._body()
        ctype, _, rest = (self.headers.get("Content-Type") or "").partition(";")
        ctype = ctype.strip().lower()
        charset = "utf-8"
        for p in rest.split(";"):
            k, _, v = p.strip().partition("=")
            if k.lower() == "charset" and v:
                charset = v.strip('"')
        try:
            text = body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise BadRequest(400, f"the request body is not valid {charset}") from None
        if ctype == "application/x-www-form-urlencoded":
            try:
                form = urllib.parse.parse_qs(text, keep_blank_values=True, errors="strict", max_num_fields=64)
            except (UnicodeDecodeError, ValueError) as e:
                raise BadRequest(400, f"malformed form body: {e}") from None
            if "update" in form:
                raise BadRequest(403, "SPARQL Update is not supported: the policykg graph is read-only")
            self._run(_single(form, "query"), {**params, **{k: v for k, v in form.items() if k != "query"}})
        elif ctype == "application/sparql-query":
            self._run(text, params)
        elif ctype == "application/sparql-update":
            raise BadRequest(403, "SPARQL Update is not supported: the policykg graph is read-only")
        else:
            raise BadRequest(
                415,
                f"unsupported Content-Type {ctype or '(none)'!r}; send application/sparql-query "
                "or application/x-www-form-urlencoded",
            )

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise BadRequest(411, "chunked bodies are not supported; send Content-Length")
        raw = self.headers.get("Content-Length")
        if raw is None:
            self.close_connection = True
            raise BadRequest(411, "POST needs a Content-Length header")
        try:
            n = int(raw)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise BadRequest(400, f"bad Content-Length {raw!r}") from None
        # a form-encoded query may be up to three times its text; allow that plus the other fields
        cap = self.server.config.max_query_bytes * 3 + 4096
        if n > cap:
            self.close_connection = True  # the body stays unread, so this connection is done
            raise BadRequest(413, f"request body of {n:,} bytes exceeds the limit of {cap:,} bytes")
        return self.rfile.read(n)

    # --- answers -----------------------------------------------------------------------------------

    def _run(self, text: str, params: dict[str, list[str]]) -> None:
        cfg = self.server.config
        timeout = cfg.timeout
        if "timeout" in params:  # a client may ask for less time, never more
            try:
                timeout = min(cfg.timeout, float(params["timeout"][-1]))
            except ValueError:
                raise BadRequest(400, f"bad timeout {params['timeout'][-1]!r}; give seconds") from None
        fmt = params.get("format", [None])[-1]
        if fmt and _format_name(fmt) is None:  # fail before running the query
            raise BadRequest(400, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        result = self.server.engine.query(text, timeout=timeout, limit=cfg.limit)
        name = negotiate(result.kind, self.headers.get("Accept"), fmt)
        self._result(result, name)

    def _result(self, result: QueryResult, name: str) -> None:
        spec = FORMATS[name]
        body = result.serialize(name)
        ctype = spec.media_type
        if ctype.startswith("text/") or ctype.endswith("json"):
            ctype += "; charset=utf-8"
        headers = {
            "Vary": "Accept",
            "X-PolicyKG-Elapsed-Ms": f"{result.elapsed * 1000:.1f}",
            "X-PolicyKG-Rows": str(len(result)),
        }
        if result.truncated:
            headers["X-PolicyKG-Truncated"] = str(result.limit)
        self._send(200, body, ctype, headers)

    def _index(self, params: dict[str, list[str]]) -> None:
        queries = list_queries()
        fmt = params.get("format", [""])[-1].lower()
        wants_json = fmt == "json" or (
            not fmt and next(iter(_accepted(self.headers.get("Accept") or "")), "") == "application/json"
        )
        if wants_json:
            doc = {
                "endpoint": "/sparql",
                "timeout_seconds": self.server.config.timeout,
                "result_limit": self.server.config.limit,
                "queries": [
                    {k: v for k, v in q.as_dict().items() if k != "query"} | {"href": f"/queries/{q.name}"}
                    for q in queries
                ],
            }
            self._send(
                200, json.dumps(doc, ensure_ascii=False, indent=1).encode(), "application/json; charset=utf-8"
            )
            return
        rows = "\n".join(
            f"<li><a href='/queries/{html.escape(q.name)}?format=table'>{html.escape(q.title_zh)}</a> "
            f"({html.escape(q.title_en)}) — <a href='/queries/{html.escape(q.name)}.rq'>SPARQL</a>, "
            f"<a href='/queries/{html.escape(q.name)}'>{'Turtle' if q.form in ('CONSTRUCT', 'DESCRIBE') else 'JSON'}</a>"
            f"<br><small>{html.escape(q.description_zh)}</small></li>"
            for q in queries
        )
        cfg = self.server.config
        page = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>policykg SPARQL</title></head>
<body><h1>policykg SPARQL 查询端点</h1>
<p>SPARQL 1.1 endpoint at <code>/sparql</code> (GET <code>?query=</code>, POST form or
<code>application/sparql-query</code>). Read-only; time limit {cfg.timeout:g} s; at most {cfg.limit:,} rows.
Prefixes pk:, pkid:, org:, dcterms:, rdf:, rdfs:, skos:, xsd: are predeclared.
Search inside SPARQL: <code>pk:searchScore(?task, "数据共享", 20)</code>.</p>
<form method="post" action="/sparql"><textarea name="query" rows="8" cols="90">SELECT ?task ?text WHERE {{ ?task a pk:Task ; pk:text ?text }} LIMIT 10</textarea><br>
<select name="format"><option>table</option><option>json</option><option>csv</option><option>tsv</option><option>xml</option><option>turtle</option></select>
<button>运行 Run</button></form>
<h2>预置查询 Canned queries</h2><ul>
{rows}
</ul></body></html>"""
        self._send(200, page.encode("utf-8"), "text/html; charset=utf-8")


def _single(params: dict[str, list[str]], key: str) -> str:
    values = params.get(key, [])
    if not values:
        raise BadRequest(400, f"missing {key!r} parameter; send ?{key}=SELECT…")
    if len(values) > 1:
        raise BadRequest(400, f"more than one {key!r} parameter")
    return values[0]


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
) -> SparqlServer:
    """A ready (bound, warmed-up) server; call ``serve_forever()`` and later ``shutdown()``/``server_close()``.

    ``build`` is a ``Build`` (its search engine backs pk:searchScore) or a build/store directory.
    ``port=0`` picks a free port (see ``server.url``).
    """
    if scorer is None:
        if isinstance(build, str | Path):
            p = Path(build)
            scorer = _scorer_for_dir(p if (p / "store").is_dir() else p.parent)
        else:
            scorer = scorer_for_build(build)
    # the embedded store's engine, or the SPARQL server of a build made with --store URL
    engine: SparqlEngine | RemoteSparqlEngine = engine_for_build(
        build, timeout=timeout, limit=limit, workers=workers, scorer=scorer, max_query_bytes=max_query_bytes)
    try:
        engine.warm_up()
        return SparqlServer((host, port), engine, EndpointConfig(timeout, limit, max_query_bytes, _plan_ids(build)))
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
) -> None:
    """Serve ``/sparql`` until interrupted (Ctrl-C)."""
    server = make_server(
        build, host, port, timeout=timeout, limit=limit, workers=workers, max_query_bytes=max_query_bytes
    )
    server.verbose = verbose  # type: ignore[attr-defined]
    print(
        f"policykg SPARQL endpoint on {server.url}/sparql (read-only, {timeout:g} s limit, "
        f"{limit:,} rows max, {workers} workers); Ctrl-C stops",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
