"""Typed records that flow from ingest to graph, search, the CLI and the app.

Every later stage reads these records (or their JSON form, ``records/<plan id>.json`` in a build) and
never re-parses a document, so the graph, the NetworkX view and the search index always agree.
Records are frozen: a stage that needs a different shape derives it, it does not patch a record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

# The vocabulary lives in .vocab; records re-export it because every record names these types.
from .vocab import ROLES as ROLES
from .vocab import UNIT_TYPES as UNIT_TYPES
from .vocab import Role as Role
from .vocab import Severity as Severity
from .vocab import UnitType as UnitType


@dataclass(frozen=True)
class Defect:
    """Something wrong in the source document; reported, never fatal."""

    kind: str
    message: str
    line: int | None = None
    severity: Severity = "warning"
    source: str = ""


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    wording: str  # the phrase as printed, e.g. "2023年底前"


@dataclass(frozen=True)
class Target:
    """A quantitative target, kept with the phrase it comes from."""

    phrase: str  # the matched expression, e.g. "不少于60学时"
    context: str  # the clause it stands in
    value: float | None
    unit: str  # "%", "学时", "期", "个领域", "次" ...
    comparator: str  # ">=", "=", "<="


@dataclass(frozen=True)
class UnitMention:
    """A unit as printed in a task's unit clause, resolved to a canonical unit."""

    raw: str
    canonical: str
    role: Role


@dataclass(frozen=True)
class Unit:
    name: str  # canonical name
    type: UnitType
    aliases: tuple[str, ...] = ()
    collective: bool = False
    kind: str = ""  # the body it is, without the district prefix ("司法局"), for cross-plan links


@dataclass(frozen=True)
class Chapter:
    number: int  # 1-based, as printed (一 → 1)
    label: str  # printed numeral, e.g. "十"
    title: str
    line: int
    text: str = ""  # prose under the heading that is not a task (chapter 一 is all prose)


@dataclass(frozen=True)
class Section:
    position: int  # 1-based document order: the identity of a section
    label: str  # printed label, e.g. "（二十八）"
    printed_number: int | None  # numeral inside the label, None when unreadable
    title: str
    chapter: int
    line: int


@dataclass(frozen=True)
class Task:
    position: int  # 1-based document order
    number: int  # printed number
    label: str  # number as printed, e.g. "74"
    chapter: int
    section: int | None  # section position, None when the task precedes any section heading
    text: str  # the task text without its unit clause
    unit_clause: str  # the clause as printed, without its brackets ("" when absent)
    lead_units: tuple[str, ...] = ()
    responsible_units: tuple[str, ...] = ()
    participating_units: tuple[str, ...] = ()
    mentions: tuple[UnitMention, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    targets: tuple[Target, ...] = ()
    line: int = 0
    original_text: str = ""  # the paragraph as printed, when the plan was converted (Traditional → Simplified)
    layout: str = ""  # how the task was printed: one of ingest.layouts.TASK_LAYOUTS
    timeframe: str = ""  # the time wording as printed (完成时限 column or segment), e.g. "长期坚持", "6月底前"

    def units(self, role: Role) -> tuple[str, ...]:
        return {
            "lead": self.lead_units,
            "responsible": self.responsible_units,
            "participating": self.participating_units,
        }[role]


@dataclass(frozen=True)
class Plan:
    id: str  # stable id from issuer and period, e.g. "chongqing-bishan-2021-2025"
    title: str
    issuer: str  # the government whose plan it is, e.g. "重庆市璧山区"
    period_start: int | None
    period_end: int | None
    status: str  # e.g. "征求意见稿"; "" for a final text
    source: str  # file name the plan was read from
    sha256: str  # of the source bytes
    encoding: str
    preamble: str = ""
    closing: str = ""
    script: str = "simplified"  # "traditional" when the source was converted with OpenCC
    chapters: tuple[Chapter, ...] = ()
    sections: tuple[Section, ...] = ()
    tasks: tuple[Task, ...] = ()
    units: tuple[Unit, ...] = ()
    defects: tuple[Defect, ...] = field(default=())
    layouts: tuple[str, ...] = ()  # layouts recognised in the document, most tasks first (ingest.layouts)
    body_share: float = 0.0  # share of the body text (after the title block) that ended up in tasks
    year: int | None = None  # an annual plan's year (工作要点 2024年): relative deadlines are dated from it

    def section(self, position: int | None) -> Section | None:
        if position is None:
            return None
        return self.sections[position - 1] if 0 < position <= len(self.sections) else None

    def chapter(self, number: int) -> Chapter | None:
        return next((c for c in self.chapters if c.number == number), None)

    def unit(self, name: str) -> Unit | None:
        return next((u for u in self.units if u.name == name), None)


# --- JSON round trip: a build stores one record file per plan and every later stage reads it back


def _encode(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return _encode(asdict(plan))  # type: ignore[no-any-return]


def plan_from_dict(data: dict[str, Any]) -> Plan:
    def task(d: dict[str, Any]) -> Task:
        return Task(
            **{
                **d,
                "lead_units": tuple(d["lead_units"]),
                "responsible_units": tuple(d["responsible_units"]),
                "participating_units": tuple(d["participating_units"]),
                "mentions": tuple(UnitMention(**m) for m in d["mentions"]),
                "deadlines": tuple(
                    Deadline(dt.date.fromisoformat(x["date"]), x["wording"]) for x in d["deadlines"]
                ),
                "targets": tuple(Target(**x) for x in d["targets"]),
            }
        )

    return Plan(
        **{
            **data,
            "chapters": tuple(Chapter(**c) for c in data["chapters"]),
            "sections": tuple(Section(**s) for s in data["sections"]),
            "tasks": tuple(task(t) for t in data["tasks"]),
            "units": tuple(Unit(**{**u, "aliases": tuple(u["aliases"])}) for u in data["units"]),
            "defects": tuple(Defect(**x) for x in data["defects"]),
            "layouts": tuple(data.get("layouts", ())),
        }
    )
