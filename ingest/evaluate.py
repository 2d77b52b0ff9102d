"""Measures the parser on the layout gallery: per layout, task precision/recall and unit-role F1.

Each gallery document (``tests/fixtures/layouts``) has an ``.expected.json`` written from the same
declaration as the document (``make_gallery.py``), so the numbers compare the parser with what a
reader of the document would record, not with the parser's own earlier output.

    python -m ingest.evaluate                      # the table printed in README ("Layouts")
    python -m ingest.evaluate --json               # per document, machine-readable
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import IngestError, read_plan
from .records import Plan, Task
from .structure import IMPLICIT_CHAPTER
from .units import UnitTable, load_unit_table

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "tests" / "fixtures" / "layouts"
UNITS = ROOT / "data" / "units.toml"


@dataclass
class DocResult:
    document: str
    layout: str
    expected_tasks: int
    found_tasks: int
    matched_tasks: int
    unit_roles: tuple[int, int, int]  # expected, found, matched (task text, unit, role) triples
    deadlines: tuple[int, int, int]  # expected, found, matched (task text, date, wording) triples
    exact: bool
    problems: list[str] = field(default_factory=list)
    layouts_found: list[str] = field(default_factory=list)


def _key(text: str) -> str:
    return "".join(text.split())


def _task_view(task: Task) -> dict[str, Any]:
    return {"label": task.label, "text": task.text, "lead": list(task.lead_units),
            "responsible": list(task.responsible_units), "participating": list(task.participating_units),
            "deadlines": [[d.date.isoformat(), d.wording] for d in task.deadlines], "timeframe": task.timeframe}


def _triples(tasks: list[dict[str, Any]], kind: str) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for t in tasks:
        if kind == "units":
            out |= {(_key(t["text"]), u, role) for role in ("lead", "responsible", "participating") for u in t[role]}
        else:
            out |= {(_key(t["text"]), *d) for d in t["deadlines"]}
    return out


def evaluate_document(path: Path, expected: dict[str, Any], table: UnitTable) -> DocResult:
    want = expected.get("tasks", [])
    try:
        plan: Plan | None = read_plan(path, table)
    except IngestError as exc:
        plan = None
        refusal = str(exc)
    if expected["refused"] or plan is None:
        ok = expected["refused"] and plan is None
        problems = [] if ok else ["refused: " + refusal if plan is None else "should have been refused"]
        return DocResult(path.name, expected["layout"], len(want), len(plan.tasks) if plan else 0, 0,
                         (0, 0, 0), (0, 0, 0), ok, problems)
    got = [_task_view(t) for t in plan.tasks]
    by_text = {_key(t["text"]): t for t in got}
    matched = [t for t in want if _key(t["text"]) in by_text]
    problems = [f"task {t['label']} differs: expected {t}, got {by_text[_key(t['text'])]}"
                for t in matched if by_text[_key(t["text"])] != t]
    problems += [f"missed task {t['label']}: {t['text']}" for t in want if _key(t["text"]) not in by_text]
    wanted = {_key(t["text"]) for t in want}
    problems += [f"extra task {t['label']}: {t['text']}" for t in got if _key(t["text"]) not in wanted]
    titled = [(c.line, c.title) for c in plan.chapters if c.number != IMPLICIT_CHAPTER]
    headings = [title for _, title in sorted([*titled, *((s.line, s.title) for s in plan.sections)])]
    if headings != expected["headings"]:
        problems.append(f"headings {headings} != {expected['headings']}")
    if plan.year != expected["year"]:
        problems.append(f"year {plan.year} != {expected['year']}")
    if sorted(plan.layouts) != sorted(expected["layouts"]):
        problems.append(f"layouts {sorted(plan.layouts)} != {sorted(expected['layouts'])}")
    kinds = {d.kind for d in plan.defects}
    problems += [f"defect {k} not reported" for k in expected["defects"] if k not in kinds]
    counts = []
    for kind in ("units", "deadlines"):
        a, b = _triples(want, kind), _triples(got, kind)
        counts.append((len(a), len(b), len(a & b)))
    return DocResult(path.name, expected["layout"], len(want), len(got), len(matched), counts[0], counts[1],
                     not problems, problems, list(plan.layouts))


def evaluate(directory: Path = GALLERY, units: Path | None = UNITS) -> list[DocResult]:
    table = load_unit_table(units) if units else UnitTable()
    results = []
    for expected_path in sorted(directory.glob("*.expected.json")):
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        results.append(evaluate_document(directory / expected["document"], expected, table))
    return results


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def table_rows(results: list[DocResult]) -> list[dict[str, Any]]:
    """One row per layout (and one for all): documents, exact ones, task P/R, unit-role F1, deadline F1."""
    groups: dict[str, list[DocResult]] = defaultdict(list)
    for r in results:
        groups[r.layout].append(r)
    groups["all"] = results
    rows = []
    for layout, rs in groups.items():
        exp, found, hit = (sum(getattr(r, f) for r in rs) for f in ("expected_tasks", "found_tasks", "matched_tasks"))
        f1 = []
        for attr in ("unit_roles", "deadlines"):
            e, f, m = (sum(getattr(r, attr)[i] for r in rs) for i in range(3))
            p, rec = _ratio(m, f), _ratio(m, e)
            f1.append(2 * p * rec / (p + rec) if p + rec else 0.0)
        rows.append({"layout": layout, "documents": len(rs), "exact": sum(r.exact for r in rs), "tasks": exp,
                     "precision": _ratio(hit, found), "recall": _ratio(hit, exp), "unit_role_f1": f1[0],
                     "deadline_f1": f1[1]})
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| layout | documents | exact | tasks | task precision | task recall | unit-role F1 | deadline F1 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['layout']} | {r['documents']} | {r['exact']} | {r['tasks']} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['unit_role_f1']:.3f} | {r['deadline_f1']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", type=Path, default=GALLERY)
    parser.add_argument("--units", type=Path, default=UNITS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = evaluate(args.gallery, args.units)
    if args.json:
        print(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1))
    else:
        print(format_table(table_rows(results)))
        for r in results:
            for problem in r.problems:
                print(f"{r.document}: {problem}", file=sys.stderr)
    return 0 if all(r.exact for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
