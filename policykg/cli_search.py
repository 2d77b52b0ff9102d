"""`policykg search QUERY`: semantic search over the tasks of the built plans.

The engine lives in :mod:`search.engine`; this module parses the options into ``Filters`` and prints
the result as readable cards (matched terms marked 【like this】) or as JSON.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ingest.vocab import ROLE_LABELS
from policykg.cli import add_unit_arguments
from search.modes import MODES

if TYPE_CHECKING:  # the engine (faiss, bm25s, jieba) loads when a search runs, not at every CLI start
    from search.engine import Filters, Hit, SearchResult

_RETRIEVER_LABELS = {"dense": "语义", "bm25": "关键词"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "search",
        help="semantic search over tasks (dense, BM25 or hybrid)",
        description="Find tasks by meaning or keywords. A unit named in the query "
        "(e.g. 区司法局牵头的数据共享任务) becomes a filter.",
    )
    p.add_argument("query", metavar="QUERY", help="what to look for, in Chinese")
    p.add_argument("--top", type=_positive, default=10, metavar="K", help="number of tasks (default 10)")
    p.add_argument("--mode", choices=MODES, default="hybrid", help="retriever (default hybrid)")
    add_unit_arguments(p)  # resolved by ingest.lexicon.UnitLexicon, as `tasks` resolves them
    p.add_argument("--chapter", type=int, metavar="N", help="only tasks in chapter N (一 = 1)")
    p.add_argument("--year", type=int, metavar="Y", help="only tasks with a deadline in year Y")
    p.add_argument("--plan", metavar="PLAN_ID", help="only tasks of this plan")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_search)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def filters_from_args(args: argparse.Namespace) -> Filters:
    from search.engine import Filters

    return Filters(
        lead=args.lead,
        responsible=args.responsible,
        participating=args.participating,
        chapter=args.chapter,
        year=args.year,
        plan=args.plan,
    )


def cmd_search(args: argparse.Namespace) -> int:
    from policykg.cli import emit_json, open_build

    build = open_build(args)  # a SearchIndexError is a PolicykgError: the CLI's edge reports it
    result = build.search_engine().search(args.query, top=args.top, mode=args.mode, filters=filters_from_args(args))
    if args.json:
        emit_json(result.to_json())
    else:
        print(format_result(result, several_plans=len(build.plans) > 1))
    return 0


def format_card(hit: Hit, rank: int, *, several_plans: bool = False) -> str:
    """One hit as a few lines of Chinese text."""
    where = " ".join(x for x in (hit.section_label, hit.section_title) if x)
    head = f"{rank}. 任务 {hit.task}（得分 {hit.score:.4f}）"
    if several_plans:
        head += f"  [{hit.plan}]"
    if where:
        head += f"  {where}"
    from search.text import mark

    lines = [head, "   " + mark(hit.text, hit.spans)]
    units = "；".join(
        f"{label}：{'、'.join(getattr(hit, f'{role}_units'))}" for role, label in ROLE_LABELS.items()
        if getattr(hit, f"{role}_units")
    )
    if units:
        lines.append(f"   单位  {units}")
    if hit.deadlines:
        lines.append("   时限  " + "、".join(d["wording"] for d in hit.deadlines))
    if hit.matched_by:
        found = "，".join(
            f"{_RETRIEVER_LABELS.get(name, name)}第{info['rank']}名"
            for name, info in sorted(hit.matched_by.items())
        )
        lines.append(f"   命中  {found}")
    return "\n".join(lines)


def format_result(result: SearchResult, *, several_plans: bool = False) -> str:
    lines = [f"※ {note}" for note in result.notes]
    if not result.hits:
        lines.append("没有找到相关任务。")
    for rank, hit in enumerate(result.hits, start=1):
        if lines:
            lines.append("")
        lines.append(format_card(hit, rank, several_plans=several_plans))
    return "\n".join(lines)
