"""CLI commands for SPARQL: ``sparql``, ``queries``, ``serve`` and ``describe``.

Every query goes through a :class:`sparql.protocol.SparqlEngine`, so the CLI has the same time limit,
result cap and refusals as the endpoint: a user who copies a query from the terminal into the
endpoint (or back) gets the same answer or the same one-line error.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.namespaces import DISPLAY_PREFIXES, PREFIXES, RDF, RDFS, curie, expand_curie
from graph.textfmt import table
from sparql.defaults import DEFAULT_LIMIT, DEFAULT_TIMEOUT, DEFAULT_WORKERS
from sparql.formats import FORMAT_ALIASES, FORMATS, default_format, display
from sparql.protocol import SparqlEngine, engine_for_build
from sparql.queries import get_query, list_queries
from sparql.results import QueryResult
from sparql.search import scorer_for_build

from .cli import CliError

ONTOLOGY = Path(__file__).resolve().parent.parent / "graph" / "ontology.ttl"
_FORMAT_CHOICES = sorted({*FORMATS, *FORMAT_ALIASES})


def register(subparsers: Any) -> None:
    """Add the SPARQL commands to ``policykg``'s sub-command parser."""
    p = subparsers.add_parser(
        "sparql",
        help="run a SPARQL query: a canned query name, a .rq file, '-' for stdin, or query text",
        description=f"Prefixes {', '.join(f'{p}:' for p in PREFIXES)} are predeclared. "
        'Search inside SPARQL: pk:searchScore(?task, "数据共享", 20).',
    )
    p.add_argument("query", metavar="QUERY_OR_FILE_OR_NAME")
    p.add_argument(
        "--format", "-f", default="table", choices=_FORMAT_CHOICES, help="output format (default: table)"
    )
    p.add_argument(
        "--timeout", type=float, default=None, metavar="S", help=f"time limit in seconds (default: {DEFAULT_TIMEOUT:g})"
    )
    p.add_argument(
        "--limit", type=int, default=None, metavar="N", help=f"row cap (default: {DEFAULT_LIMIT:,})"
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write the result here instead of stdout")
    p.add_argument(
        "--plan", action="append", default=[], metavar="ID",
        help="limit a canned query to this plan (repeat for several; ids from `policykg stats --json`)",
    )
    p.set_defaults(func=cmd_sparql)

    p = subparsers.add_parser("queries", help="list the canned SPARQL queries")
    p.add_argument("--json", action="store_true", help="machine-readable, with the query text")
    p.set_defaults(func=cmd_queries)

    p = subparsers.add_parser("serve", help="serve a read-only SPARQL endpoint at /sparql")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7878)
    p.add_argument(
        "--timeout", type=float, default=None, metavar="S", help=f"per-query time limit (default: {DEFAULT_TIMEOUT:g})"
    )
    p.add_argument(
        "--limit", type=int, default=None, metavar="N", help=f"row cap (default: {DEFAULT_LIMIT:,})"
    )
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help=f"query worker processes (default: {DEFAULT_WORKERS})")
    p.add_argument("--in-memory", action="store_true",
                   help="each worker answers from a copy of the graph in memory: corpus-wide listings "
                        "2.1-3.6x faster at 1,000 plans, but minutes to start and ~0.4 KB of memory per "
                        "triple per worker (also POLICYKG_SPARQL_IN_MEMORY=1)")
    p.add_argument("--verbose", action="store_true", help="log each request")
    p.set_defaults(func=cmd_serve)

    p = subparsers.add_parser(
        "describe",
        help="ontology term (pk:leads), IRI or label (区司法局): labels, comments, domain, range, triples",
    )
    p.add_argument("term", metavar="TERM")
    p.add_argument("--format", "-f", default="table", choices=["table", "turtle", "json"])
    p.set_defaults(func=cmd_describe)


def resolve_query(arg: str) -> str:
    """Query text for a canned query name, a file path, '-' (stdin) or the query itself."""
    if arg == "-":
        return sys.stdin.read()
    try:
        return get_query(arg).text
    except KeyError:
        pass
    path = Path(arg)
    if len(arg) < 4096 and "\n" not in arg and path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{path}: cannot read the query ({exc}); give a UTF-8 text file") from exc
    if "{" in arg or arg.strip().upper().startswith(
        ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "PREFIX", "BASE")
    ):
        return arg
    names = [q.name for q in list_queries()]
    close = difflib.get_close_matches(arg, names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `policykg queries` lists the names"
    raise CliError(f"{arg!r} is not a canned query, a file or a SPARQL query{hint}")


def scoped_query(name: str, plans: Sequence[str], known: Sequence[str]) -> str:
    """The canned query ``name`` limited to ``plans``, which must be among the build's ``known`` ids."""
    try:
        query = get_query(name)
    except KeyError:
        raise CliError("--plan limits canned queries only; in your own query, bind ?plan yourself") from None
    return query.for_plans(plans, known=set(known))


def _config_value(args: argparse.Namespace, build: Any, name: str, default: Any) -> Any:
    value = getattr(args, name, None)
    if value is not None:
        return value
    return getattr(
        getattr(build, "config", None), {"timeout": "query_timeout", "limit": "result_limit"}[name], default
    )


def _engine(args: argparse.Namespace, build: Any, workers: int = 1) -> SparqlEngine:
    """The build's engine: embedded, or its SPARQL server for a build made with ``--store URL``."""
    return engine_for_build(
        build,
        timeout=_config_value(args, build, "timeout", DEFAULT_TIMEOUT),
        limit=_config_value(args, build, "limit", DEFAULT_LIMIT),
        workers=workers,
        scorer=scorer_for_build(build),
    )


def _write(data: bytes, output: str | None) -> None:
    if output:
        Path(output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def cmd_sparql(args: argparse.Namespace) -> int:
    from policykg.cli import open_build

    text = resolve_query(args.query)  # errors are PolicykgError: policykg.cli.main reports them
    fmt = FORMAT_ALIASES.get(args.format, args.format)
    build = open_build(args)
    if args.plan:
        text = scoped_query(args.query, args.plan, build.manifest.plan_ids)
    with _engine(args, build) as engine:
        result = engine.query(text)
    if fmt != "table" and result.kind not in FORMATS[fmt].kinds:
        fmt = default_format(result.kind)
        print(f"policykg: {args.format} cannot carry this result; writing {fmt}", file=sys.stderr)
    _write(result.serialize(fmt), args.output)
    if result.truncated and fmt != "table":
        print(f"policykg: {result.note}", file=sys.stderr)
    return 0


def cmd_queries(args: argparse.Namespace) -> int:
    queries = list_queries()
    if args.json:
        json.dump([q.as_dict() for q in queries], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(
        table(
            ["name", "标题", "title", "form", "--plan"],
            ([q.name, q.title_zh, q.title_en, q.form, "yes" if q.scopable else ""] for q in queries),
        )
    )
    print("\nrun one with `policykg sparql NAME` (or NAME --plan ID for one plan); "
          "its text is in graph/queries/NAME.rq")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from policykg.cli import open_build
    from policykg.server import serve

    build = open_build(args)
    try:
        serve(
            build,
            args.host,
            args.port,
            timeout=_config_value(args, build, "timeout", DEFAULT_TIMEOUT),
            limit=_config_value(args, build, "limit", DEFAULT_LIMIT),
            workers=args.workers,
            verbose=args.verbose,
            in_memory=args.in_memory or build.config.sparql_in_memory,
        )
    except OSError as e:
        raise CliError(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}") from e
    return 0


# --- describe -----------------------------------------------------------------------------------


def ontology_entry(iri: str) -> dict[str, Any] | None:
    """What the ontology says about ``iri``: types, labels and comments by language, domain, range."""
    from rdflib import Graph, URIRef

    g = Graph()
    g.parse(ONTOLOGY, format="turtle")
    node = URIRef(iri)
    if (node, None, None) not in g:
        return None
    entry: dict[str, Any] = {"iri": iri}
    names = {
        "type": RDF.type,
        "label": RDFS.label,
        "comment": RDFS.comment,
        "domain": RDFS.domain,
        "range": RDFS.range,
        "subClassOf": RDFS.subClassOf,
    }
    for key, pred in names.items():
        values = []
        for o in g.objects(node, pred):
            lang = getattr(o, "language", None)
            values.append(f"{o}@{lang}" if lang else _short(str(o)))
        if values:
            entry[key] = sorted(values)
    subclasses = sorted(_short(str(s)) for s in g.subjects(RDFS.subClassOf, node))
    if subclasses:
        entry["subClasses"] = subclasses
    return entry


def _short(iri: str) -> str:
    """A CURIE for an ontology term (``owl:`` included), else the IRI as it is."""
    short = curie(iri, DISPLAY_PREFIXES)
    return iri if short == f"<{iri}>" else short


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def cmd_describe(args: argparse.Namespace) -> int:
    from policykg.cli import open_build

    iri = expand_curie(args.term)
    entry = ontology_entry(iri) if iri else None
    build = open_build(args)
    with _engine(args, build) as engine:
        if entry is not None:  # an ontology term: how much the build uses it
            p = f"<{iri}>"
            n = engine.query(
                f"SELECT ?triples ?instances WHERE {{ {{ SELECT (COUNT(*) AS ?triples) WHERE {{ ?s {p} ?o }} }} "
                f"{{ SELECT (COUNT(DISTINCT ?x) AS ?instances) WHERE {{ ?x rdf:type {p} }} }} }}"
            ).records()[0]
            entry["usage"] = {"triples": int(n["triples"]), "instances": int(n["instances"])}
            return _print_entry(entry, args.format)
        if iri is None:  # a label: every resource that carries it
            subjects = [
                r["s"]
                for r in engine.query(
                    "SELECT DISTINCT ?s WHERE { { ?s rdfs:label ?l } UNION { ?s skos:altLabel ?l } "
                    f"UNION {{ ?s dcterms:identifier ?l }} FILTER(STR(?l) = {_literal(args.term)}) }} "
                    "ORDER BY ?s"
                ).records()
            ]
            if not subjects:
                raise CliError(f"nothing is labelled {args.term!r}; give a CURIE (pk:leads) or an IRI")
        else:
            subjects = [iri]
        values = " ".join(f"<{s}>" for s in subjects)
        result = engine.query(f"DESCRIBE {values}")
    if not result.triples:
        raise CliError(f"nothing is known about {args.term!r} in the ontology or the build")
    return _print_graph(result, args.format)


def _print_entry(entry: dict[str, Any], fmt: str) -> int:
    if fmt == "json":
        json.dump(entry, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if fmt == "turtle":
        from rdflib import Graph, URIRef

        g = Graph()
        g.parse(ONTOLOGY, format="turtle")
        out = Graph()
        for p, iri in PREFIXES.items():
            out.bind(p, iri)
        for t in g.triples((URIRef(entry["iri"]), None, None)):
            out.add(t)
        sys.stdout.write(out.serialize(format="turtle"))
        return 0
    print(f"{_short(entry['iri'])}  <{entry['iri']}>")
    for key in ("type", "label", "comment", "domain", "range", "subClassOf", "subClasses"):
        for v in entry.get(key, []):
            print(f"  {key:<11} {v}")
    usage = entry["usage"]
    print(
        f"  {'in build':<11} {usage['triples']} triples use it as predicate; {usage['instances']} instances"
    )
    return 0


def _print_graph(result: QueryResult, fmt: str) -> int:
    if fmt == "turtle":
        _write(result.serialize("turtle"), None)
    elif fmt == "json":
        json.dump(result.records(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        rows = sorted((display(t.subject), display(t.predicate), display(t.object)) for t in result.triples)
        print(table(["subject", "predicate", "object"], rows, max_width=70))
    return 0
