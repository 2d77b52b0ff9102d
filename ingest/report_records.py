"""Typed records of annual reports (法治政府建设情况报告), the second kind of document (issue #15).

A plan says what is to be done; a government's yearly report says what was done. A report is read
into statements (paragraphs and 一是/二是 items), each with the heading it stands under, the units it
names and the figures it gives. Like plan records they are frozen and round-trip through JSON
(``reports/<report id>.json`` in a build), so linking never re-parses a document.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .records import Defect

#: What part of a report a statement stands in. Only ``progress`` statements say what was done;
#: ``shortcoming`` (存在的不足) and ``plan`` (下一步工作安排) are kept but not linked as evidence.
StatementKind = Literal["progress", "shortcoming", "plan", "other"]
STATEMENT_KINDS: tuple[StatementKind, ...] = ("progress", "shortcoming", "plan", "other")


@dataclass(frozen=True)
class Figure:
    """A figure a statement gives: 审查重大合同39份 → value 39, unit 份."""

    phrase: str  # as printed, e.g. "39份", "100余场次", "95.6%"
    context: str  # the clause it stands in
    value: float | None
    unit: str  # the measure word, e.g. "份", "件", "场次", "%"


@dataclass(frozen=True)
class Statement:
    position: int  # 1-based order in the report: the identity of a statement
    line: int  # 1-based line of the source where it starts
    label: str  # its marker as printed: "一是", "3.", "（二）" or "" for a plain paragraph
    heading: str  # the headings it stands under, joined with " › " (its section context)
    text: str  # the statement without its marker
    kind: StatementKind = "progress"
    units: tuple[str, ...] = ()  # canonical names of the units it names, in order of appearance
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True)
class Report:
    id: str  # e.g. "chongqing-bishan-report-2022"
    title: str
    issuer: str  # the government reporting, e.g. "重庆市璧山区"
    year: int | None  # the year reported on
    source: str
    sha256: str
    encoding: str
    preamble: str = ""
    statements: tuple[Statement, ...] = ()
    defects: tuple[Defect, ...] = field(default=())

    def statement(self, position: int) -> Statement | None:
        return self.statements[position - 1] if 0 < position <= len(self.statements) else None


def report_to_dict(report: Report) -> dict[str, Any]:
    return asdict(report)


def report_from_dict(data: dict[str, Any]) -> Report:
    return Report(
        **{
            **data,
            "statements": tuple(
                Statement(
                    **{
                        **s,
                        "units": tuple(s["units"]),
                        "figures": tuple(Figure(**f) for f in s["figures"]),
                    }
                )
                for s in data["statements"]
            ),
            "defects": tuple(Defect(**d) for d in data["defects"]),
        }
    )
