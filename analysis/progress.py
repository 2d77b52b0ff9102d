"""Per task, the years annual reports give evidence of work on it; overdue and unreported first.

An analyst of a 依法治区办 asks which tasks have reported progress year by year, and which are past
their deadline with nothing reported. A task is **overdue and unreported** when one of its deadlines
has passed (before ``as_of``) and no report of that deadline's year or later evidences it: the last
word on it, if any, comes before the deadline, and nothing says it was finished. The same rule is
the canned query ``overdue-unreported``.

Works on plain data (plans, and evidence links as dicts with ``plan``, ``position``, ``year``,
``report``, ``statement``), so the CLI, the app and the tests share it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.records import Deadline, Plan, Task

#: Statuses in the order the table lists them.
STATUSES = ("overdue-unreported", "unreported", "reported")
STATUS_LABELS = {"overdue-unreported": "逾期未报告", "unreported": "尚无佐证", "reported": "有佐证"}


@dataclass
class TaskProgress:
    plan: str
    position: int
    task: str  # number as printed
    chapter: int
    section: str  # printed label and title
    text: str
    lead_units: tuple[str, ...]
    responsible_units: tuple[str, ...]
    deadline: Deadline | None  # the deadline that is overdue and unreported, else the last one
    status: str
    years: dict[int, int] = field(default_factory=dict)  # year → statements evidencing the task

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan, "task": self.task, "position": self.position, "chapter": self.chapter,
            "section": self.section, "text": self.text, "lead_units": list(self.lead_units),
            "responsible_units": list(self.responsible_units),
            "deadline": {"date": self.deadline.date.isoformat(), "wording": self.deadline.wording}
            if self.deadline else None,
            "status": self.status, "years": sorted(self.years),
            "statements_by_year": {str(y): n for y, n in sorted(self.years.items())},
        }


def _status(task: Task, years: Mapping[int, int], as_of: dt.date) -> tuple[str, Deadline | None]:
    for d in sorted(task.deadlines, key=lambda d: d.date):
        if d.date < as_of and not any(y >= d.date.year for y in years):
            return "overdue-unreported", d
    last = max(task.deadlines, key=lambda d: d.date) if task.deadlines else None
    return ("reported" if years else "unreported"), last


def task_progress(plans: Sequence[Plan], links: Iterable[Mapping[str, Any]], *, as_of: dt.date,
                  plan: str | None = None, unit: str | None = None) -> list[TaskProgress]:
    """Every task's progress; overdue-and-unreported first (earliest deadline first), then the
    unreported, then the reported (fewest years with evidence first), each in plan order."""
    seen: dict[tuple[str, int], set[tuple[str, int]]] = {}
    by_year: dict[tuple[str, int], dict[int, int]] = {}
    for link in links:
        key = (str(link["plan"]), int(link["position"]))
        stmt = (str(link["report"]), int(link["statement"]))
        if link.get("year") is None or stmt in seen.setdefault(key, set()):
            continue
        seen[key].add(stmt)
        years = by_year.setdefault(key, {})
        years[int(link["year"])] = years.get(int(link["year"]), 0) + 1
    out: list[TaskProgress] = []
    for p in plans:
        if plan is not None and p.id != plan:
            continue
        for t in p.tasks:
            if unit is not None and not any(unit == n or unit in n for n in (*t.lead_units, *t.responsible_units)):
                continue
            years = by_year.get((p.id, t.position), {})
            status, deadline = _status(t, years, as_of)
            section = p.section(t.section)
            out.append(TaskProgress(
                plan=p.id, position=t.position, task=t.label, chapter=t.chapter,
                section=f"{section.label}{section.title}" if section else "", text=t.text,
                lead_units=t.lead_units, responsible_units=t.responsible_units, deadline=deadline,
                status=status, years=dict(years),
            ))
    order = {s: i for i, s in enumerate(STATUSES)}
    plan_order = {p.id: i for i, p in enumerate(plans)}
    out.sort(key=lambda r: (
        order[r.status],
        r.deadline.date if r.status == "overdue-unreported" and r.deadline else dt.date.max,
        len(r.years) if r.status == "reported" else 0,
        plan_order[r.plan], r.position,
    ))
    return out
