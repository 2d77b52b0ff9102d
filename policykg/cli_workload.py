"""`policykg workload` and `policykg findings`: the analyst's view of who carries a plan.

The logic lives in :mod:`analysis.workload` and :mod:`analysis.network`; this module only turns a build
into the report dicts (:func:`workload_report`, :func:`findings_report`, usable without argparse)
and prints them as tables or JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graph.textfmt import clip, table
from ingest.records import Plan
from ingest.vocab import unit_type_label

if TYPE_CHECKING:  # pandas and networkx load when a report is made, not at every CLI start
    import networkx as nx

    from analysis.workload import RoleWeights



def _weights(text: str) -> RoleWeights:
    from analysis.workload import RoleWeights

    try:
        return RoleWeights.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _population(include_collectives: bool) -> str:
    return "collective units included" if include_collectives else "collective units excluded"


# --- reports (plain data; the CLI prints them, tests and notebooks can call them) ----------------


def workload_report(
    plans: Sequence[Plan],
    *,
    top: int = 10,
    weights: RoleWeights | None = None,
    include_collectives: bool = True,
    kg: nx.MultiDiGraph | None = None,
    with_communities: bool = False,
) -> dict[str, Any]:
    """The top units by weighted load (default weights 3/2/1), and optionally the communities."""
    from analysis.network import co_assignment_graph, communities, unit_metrics
    from analysis.workload import DEFAULT_WEIGHTS, unit_workload

    weights = weights or DEFAULT_WEIGHTS
    w = unit_workload(plans, weights=weights, include_collectives=include_collectives)
    rows = w.head(top) if top > 0 else w
    report: dict[str, Any] = {
        "weights": weights.as_dict(),
        "include_collectives": include_collectives,
        "plans": w.attrs["plans"],
        "tasks": w.attrs["tasks"],
        "units_total": len(w),
        "units": [
            {"rank": i + 1, "unit": r.unit, "unit_type": r.unit_type, "collective": bool(r.collective),
             "lead": int(r.lead), "responsible": int(r.responsible), "participating": int(r.participating),
             "tasks": int(r.tasks), "load": float(r.load), "task_share": round(float(r.task_share), 4),
             "load_share": round(float(r.load_share), 4)}
            for i, r in enumerate(rows.itertuples(index=False))
        ],
    }
    if with_communities:
        g = co_assignment_graph(kg if kg is not None else plans, include_collectives=include_collectives)
        metrics = unit_metrics(g).set_index("unit")
        report["communities"] = [c.to_json() for c in communities(g)]
        report["brokers"] = [
            {"unit": u, "betweenness": round(float(metrics.loc[u, "betweenness"]), 4),
             "degree": int(metrics.loc[u, "degree"])}
            for u in metrics.sort_values("betweenness", ascending=False, kind="stable").index[:5]
        ]
    return report


def findings_report(
    plans: Sequence[Plan], *, as_of: dt.date | None = None, include_collectives: bool = True
) -> dict[str, Any]:
    """All flagged findings as JSON-ready data (:meth:`analysis.workload.Findings.to_json`)."""
    from analysis.workload import find_issues

    return find_issues(plans, as_of=as_of, include_collectives=include_collectives).to_json()


# --- text output -------------------------------------------------------------------------------


def format_workload(report: dict[str, Any]) -> str:
    w = report["weights"]
    head = (f"Workload of {report['units_total']} units over {report['tasks']} tasks "
            f"(weights lead {w['lead']:g} / responsible {w['responsible']:g} / participating "
            f"{w['participating']:g}; {_population(report['include_collectives'])})")
    rows = [(u["rank"], u["unit"], unit_type_label(u["unit_type"]), u["lead"], u["responsible"],
             u["participating"], u["tasks"], f"{u['load']:g}", f"{u['task_share']:.0%}", f"{u['load_share']:.1%}")
            for u in report["units"]]
    out = [head, "", table(["#", "unit", "type", "lead", "resp", "part", "tasks", "load", "of plan", "of load"],
                           rows)]
    if "communities" in report:
        out += ["", f"Co-assignment communities (Louvain, seeded): {len(report['communities'])}"]
        for c in report["communities"]:
            out.append(f"  [{c['id']}] {c['label']}  ({c['size']} units, {c['tasks']} tasks)")
            out.append(f"      {clip('、'.join(c['units']), 100)}")
        out += ["", "Brokers (betweenness on the co-assignment graph):"]
        out += [f"  {b['unit']}  {b['betweenness']:.3f}  ({b['degree']} partners)" for b in report["brokers"]]
    return "\n".join(out)


def _task_line(t: dict[str, Any]) -> str:
    return f"任务{t['label']} (ch.{t['chapter']}, line {t['line']}): {clip(t['text'], 56)}"


def format_findings(report: dict[str, Any]) -> str:
    out = [f"Findings as of {report['as_of']} ({_population(report['include_collectives'])})", ""]
    twl = report["tasks_without_lead"]
    out.append(f"Tasks with no lead unit (牵头单位): {len(twl)}")
    out += [f"  {_task_line(t)}\n      （{t['unit_clause']}）" for t in twl]
    once = report["units_named_once"]
    out += ["", f"Units named on only one task: {len(once)}"]
    out += [f"  {u['unit']}  {u['role']} on 任务{u['task']['label']}" for u in once]
    rnl = report["responsible_never_lead"]
    out += ["", f"Units always responsible (责任单位), never lead: {len(rnl)}"]
    out += [f"  {u['unit']}  tasks {', '.join(u['tasks'])}" for u in rnl]
    od = report["overdue"]
    out += ["", f"Tasks past their printed deadline: {len(od)}"]
    out += [f"  {o['deadline']} ({o['wording']})  {_task_line(o['task'])}  lead: {'、'.join(o['lead_units']) or '-'}"
            for o in od]
    return "\n".join(out)


# --- commands ----------------------------------------------------------------------------------


def cmd_workload(args: argparse.Namespace) -> int:
    from policykg.cli import emit_json, open_build

    build = open_build(args)
    report = workload_report(
        build.plans,
        top=args.top,
        weights=args.weights,
        include_collectives=not args.no_collectives,
        kg=build.networkx() if args.communities else None,
        with_communities=args.communities,
    )
    if args.json:
        emit_json(report)
    else:
        print(format_workload(report))
    return 0


def cmd_findings(args: argparse.Namespace) -> int:
    from policykg.cli import emit_json, open_build

    build = open_build(args)
    report = findings_report(build.plans, as_of=args.as_of, include_collectives=not args.no_collectives)
    if args.json:
        emit_json(report)
    else:
        print(format_findings(report))
    return 0


def register(subparsers: Any) -> None:
    """Add ``workload`` and ``findings`` to the ``policykg`` command line."""
    p = subparsers.add_parser("workload", help="units ranked by weighted task load (lead/responsible/participating)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="units to show (0 = all; default 10)")
    p.add_argument("--weights", type=_weights, default="3,2,1", metavar="L,R,P",
                   help="role weights lead,responsible,participating (default 3,2,1)")
    p.add_argument("--no-collectives", action="store_true",
                   help="leave out collective units (区政府有关部门, 各镇人民政府、街道办事处 …)")
    p.add_argument("--communities", action="store_true",
                   help="also show the co-assignment communities and the main brokers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_workload)

    p = subparsers.add_parser("findings", help="tasks without lead, units named once, responsible-only "
                                               "units, tasks past their deadline")
    p.add_argument("--as-of", dest="as_of", type=_date, default=None, metavar="DATE",
                   help="date for the overdue check, YYYY-MM-DD (default: today)")
    p.add_argument("--no-collectives", action="store_true", help="leave out collective units")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_findings)
