"""`policykg evidence` and `policykg progress`: what the annual reports say was done, task by task.

The links are made at build time (``policykg.follow``, ``analysis.evidence``); these commands read
them from the build and print one row per link, or per task the years with evidence.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from graph.textfmt import clip, table

from .build import Build


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def evidence_rows(b: Build, *, plan: str | None = None, task: str | None = None, year: int | None = None,
                  report: str | None = None) -> list[dict[str, Any]]:
    """One row per evidence link: report, year, line, text (the statement), plan, task, score, units …"""
    from .cli import CliError

    plan_ids = {p.id for p in b.plans}
    if plan is not None and plan not in plan_ids:
        raise CliError(f"no plan {plan!r} in the build (plans: {', '.join(sorted(plan_ids))})")
    if task is not None and plan is None and len(plan_ids) > 1:
        raise CliError("--task needs --plan when the build has several plans")
    rows = []
    for rep, _plans, links in b.reports:
        if report is not None and rep.id != report:
            continue
        for link in links:
            if plan is not None and link["plan"] != plan:
                continue
            if task is not None and link["task"] != str(task):
                continue
            if year is not None and link["year"] != year:
                continue
            statement = rep.statement(int(link["statement"]))
            rows.append({
                "report": rep.id, "year": link["year"], "line": link["line"], "text": link["text"],
                "plan": link["plan"], "task": link["task"], "score": link["score"],
                "units": link["units"], "rank": link["rank"], "reason": link["reason"],
                "statement": link["statement"], "heading": statement.heading if statement else "",
                "figures": [f.phrase for f in statement.figures] if statement else [],
            })
    rows.sort(key=lambda r: (r["year"] or 0, r["report"], r["statement"], r["rank"]))
    return rows


def unlinked_rows(b: Build, *, year: int | None = None, report: str | None = None) -> list[dict[str, Any]]:
    """Statements of the reports that no link starts from (below the threshold, or not progress)."""
    rows = []
    for rep, _plans, links in b.reports:
        if (report is not None and rep.id != report) or (year is not None and rep.year != year):
            continue
        linked = {int(lk["statement"]) for lk in links}
        for s in rep.statements:
            if s.position not in linked:
                rows.append({"report": rep.id, "year": rep.year, "line": s.line, "text": s.text,
                             "kind": s.kind, "units": list(s.units), "statement": s.position})
    return rows


def cmd_evidence(args: argparse.Namespace) -> int:
    from .cli import emit_json, open_build

    b = open_build(args)
    if args.unlinked:
        rows = unlinked_rows(b, year=args.year, report=args.report)
        if args.json:
            emit_json(rows)
            return 0
        print(table(["report", "year", "line", "kind", "statement"],
                    [[r["report"], r["year"], r["line"], r["kind"], clip(r["text"], 60)] for r in rows]))
        print(f"{len(rows)} statement(s) without evidence links")
        return 0
    rows = evidence_rows(b, plan=args.plan, task=args.task, year=args.year, report=args.report)
    if args.json:
        emit_json(rows)
        return 0
    if not b.reports:
        print("no annual reports in the build: put them in data/reports (or `policykg build FILE --kind report`)")
        return 0
    print(table(["年度", "行", "任务", "名次", "得分", "单位", "报告表述", "理由"],
                [[r["year"], r["line"], r["task"], r["rank"], f"{r['score']:.2f}", "、".join(r["units"]),
                  clip(r["text"], 40), clip(r["reason"], 36)] for r in rows]))
    print(f"{len(rows)} link(s) from {len({(r['report'], r['statement']) for r in rows})} statement(s)")
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from analysis.progress import STATUS_LABELS, task_progress

    from .cli import emit_json, open_build

    b = open_build(args)
    as_of = args.as_of or dt.date.today()
    links = [lk for _rep, _plans, lks in b.reports for lk in lks]
    rows = task_progress(b.plans, links, as_of=as_of, plan=args.plan, unit=args.unit)
    if args.json:
        emit_json([r.to_json() for r in rows])
        return 0
    years = sorted({rep.year for rep, _p, _l in b.reports if rep.year is not None})
    print(f"Progress as of {as_of.isoformat()}: {len(b.reports)} report(s)"
          + (f" ({', '.join(map(str, years))})" if years else "") + f", {len(rows)} task(s)")
    print()
    print(table(["任务", "状态", "时限", *[str(y) for y in years], "牵头单位", "内容"],
                [[r.task, STATUS_LABELS[r.status], r.deadline.wording if r.deadline else "",
                  *[str(r.years.get(y, "")) for y in years], clip("、".join(r.lead_units), 18), clip(r.text, 36)]
                 for r in rows]))
    counts = {s: sum(r.status == s for r in rows) for s in STATUS_LABELS}
    print("；".join(f"{STATUS_LABELS[s]} {n}" for s, n in counts.items()))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("evidence", help="annual-report statements linked to the tasks they evidence")
    p.add_argument("--plan", metavar="PLAN_ID")
    p.add_argument("--task", metavar="N", help="task number as printed (with --plan when there are several plans)")
    p.add_argument("--year", type=int, metavar="Y")
    p.add_argument("--report", metavar="REPORT_ID")
    p.add_argument("--unlinked", action="store_true", help="list the statements with no link instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evidence)

    p = sub.add_parser("progress", help="per task the years with reported evidence; overdue and unreported first")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="YYYY-MM-DD (default: today)")
    p.add_argument("--plan", metavar="PLAN_ID")
    p.add_argument("--unit", metavar="UNIT", help="tasks this unit leads or is responsible for")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_progress)
