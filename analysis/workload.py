"""Workload of the units a plan names, and the findings an analyst should see flagged.

A plan spreads its tasks over units in three roles (牵头单位 lead, 责任单位 responsible, 参加单位
participating). Counting tasks per role answers "who carries this plan"; a *weighted* load answers it
in one number, because leading a task costs a unit more than being one of twelve responsible units.
The weights are a parameter (:class:`RoleWeights`, default lead 3 / responsible 2 / participating 1)
so an analyst can state and vary the assumption instead of inheriting a hidden one.

Collective units (区政府有关部门, 各镇人民政府、街道办事处 …) stand for many bodies at once; they top
every count, which is true but rarely what the question is about. Every analysis therefore takes
``include_collectives`` and records which it used (``DataFrame.attrs`` / the ``include_collectives``
field of a record), so a table can never be read without knowing which population it describes.

Everything here is a pure function of :class:`~ingest.records.Plan` records; nothing reads or writes
files. A ``source`` is one plan or an iterable of plans; units are keyed by the issuing government
(:func:`graph.rdf.gov_id`), so plans of one issuer pool their units and plans of two issuers do not.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

import pandas as pd

from graph.rdf import gov_id
from ingest.records import ROLES, Plan, Role, Task

PlanSource: TypeAlias = Plan | Iterable[Plan]


# --- weights ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleWeights:
    """How much one task in each role counts toward a unit's load.

    The default 3 / 2 / 1 encodes only an ordering (a lead coordinates, reports and answers for the
    task; a responsible unit delivers its part; a participant contributes) with equal steps. It is an
    assumption, not a measurement: pass other weights to see whether a ranking survives them.
    """

    lead: float = 3.0
    responsible: float = 2.0
    participating: float = 1.0

    def __post_init__(self) -> None:
        for role in ROLES:
            if self.of(role) < 0:
                raise ValueError(f"role weight for {role} must not be negative, got {self.of(role)}")

    @classmethod
    def parse(cls, text: str) -> RoleWeights:
        """Read ``"3,2,1"`` (lead, responsible, participating), as typed on the command line."""
        parts = [p.strip() for p in text.replace("/", ",").split(",") if p.strip()]
        if len(parts) != 3:
            raise ValueError(f"weights need three numbers lead,responsible,participating, got {text!r}")
        try:
            lead, responsible, participating = (float(p) for p in parts)
        except ValueError as exc:
            raise ValueError(f"weights must be numbers, got {text!r}") from exc
        return cls(lead, responsible, participating)

    def of(self, role: Role) -> float:
        return {"lead": self.lead, "responsible": self.responsible, "participating": self.participating}[role]

    def as_dict(self) -> dict[str, float]:
        return {role: self.of(role) for role in ROLES}

    def __str__(self) -> str:
        return " / ".join(f"{role} {self.of(role):g}" for role in ROLES)


DEFAULT_WEIGHTS = RoleWeights()


# --- the assignment table: one row per (task, unit, role) ------------------------------------


def plans_of(source: PlanSource) -> list[Plan]:
    """Accept one plan or many, so a notebook can pass ``build.plans`` or ``plan`` alike."""
    return [source] if isinstance(source, Plan) else list(source)


def short_title(title: str) -> str:
    """The first clause of a chapter or section title (健全行政执法工作体系), for labels and axes."""
    for sep in ("，", ",", "；"):
        if sep in title:
            return title.split(sep, 1)[0]
    return title


def _collectives(plan: Plan) -> set[str]:
    return {u.name for u in plan.units if u.collective}


def _task_units(task: Task, role: Role, skip: set[str]) -> tuple[str, ...]:
    return tuple(u for u in task.units(role) if u not in skip)


def _iter_assignments(plans: list[Plan], include_collectives: bool) -> Iterator[dict[str, Any]]:
    for plan in plans:
        skip = set() if include_collectives else _collectives(plan)
        types = {u.name: u for u in plan.units}
        for task in plan.tasks:
            chapter = plan.chapter(task.chapter)
            section = plan.section(task.section)
            for role in ROLES:
                for name in _task_units(task, role, skip):
                    unit = types.get(name)
                    yield {
                        "plan": plan.id,
                        "government": gov_id(plan),
                        "task": task.position,
                        "number": task.number,
                        "label": task.label,
                        "chapter": task.chapter,
                        "chapter_title": chapter.title if chapter else "",
                        "section": task.section if task.section is not None else 0,
                        "section_title": section.title if section else "",
                        "unit": name,
                        "unit_type": unit.type if unit else "other",
                        "collective": bool(unit and unit.collective),
                        "role": role,
                    }


_ASSIGNMENT_COLUMNS = ["plan", "government", "task", "number", "label", "chapter", "chapter_title", "section",
                       "section_title", "unit", "unit_type", "collective", "role"]


def _stamp(df: pd.DataFrame, plans: list[Plan], include_collectives: bool, **extra: Any) -> pd.DataFrame:
    """Record in the table itself which population and assumptions produced it."""
    df.attrs = {
        "include_collectives": include_collectives,
        "plans": [p.id for p in plans],
        "tasks": sum(len(p.tasks) for p in plans),
        **extra,
    }
    return df


def assignments(source: PlanSource, *, include_collectives: bool = True) -> pd.DataFrame:
    """One row per (plan, task, unit, role): the long table every other count is a group-by of."""
    plans = plans_of(source)
    rows = list(_iter_assignments(plans, include_collectives))
    df = pd.DataFrame(rows, columns=_ASSIGNMENT_COLUMNS)
    return _stamp(df, plans, include_collectives)


# --- workload ----------------------------------------------------------------------------------


def unit_workload(
    source: PlanSource, *, weights: RoleWeights = DEFAULT_WEIGHTS, include_collectives: bool = True
) -> pd.DataFrame:
    """Tasks per unit and role, weighted load and shares, heaviest first.

    Columns: ``unit, unit_type, collective, lead, responsible, participating, tasks`` (distinct tasks
    naming the unit), ``load`` (Σ weight × tasks per role), ``task_share`` (tasks / all tasks of the
    plans: how much of the plan the unit touches) and ``load_share`` (load / the summed load of the
    units in the table, so shares add up to 1 over the population chosen).
    Ties in load are broken by leads, then by name, so the order is stable.
    """
    plans = plans_of(source)
    a = assignments(plans, include_collectives=include_collectives)
    total_tasks = sum(len(p.tasks) for p in plans)
    cols = ["government", "unit", "unit_type", "collective", "lead", "responsible", "participating", "tasks",
            "load", "task_share", "load_share"]
    if a.empty:
        return _stamp(pd.DataFrame(columns=cols), plans, include_collectives, weights=weights.as_dict())
    keys = ["government", "unit", "unit_type", "collective"]
    counts = a.pivot_table(index=keys, columns="role", values="task", aggfunc="count", fill_value=0)
    counts = counts.reindex(columns=list(ROLES), fill_value=0).reset_index()
    counts.columns.name = None
    distinct = a.groupby(["government", "unit"])[["plan", "task"]].apply(
        lambda g: len(set(zip(g["plan"], g["task"], strict=True)))
    )
    counts["tasks"] = [int(distinct[(g, u)]) for g, u in zip(counts["government"], counts["unit"], strict=True)]
    counts["load"] = sum(counts[r] * weights.of(r) for r in ROLES)
    counts["task_share"] = counts["tasks"] / total_tasks if total_tasks else 0.0
    total_load = counts["load"].sum()
    counts["load_share"] = counts["load"] / total_load if total_load else 0.0
    for role in ROLES:
        counts[role] = counts[role].astype(int)
    counts = counts.sort_values(["load", "lead", "unit"], ascending=[False, False, True], kind="stable")
    counts = counts.reset_index(drop=True)[cols]
    return _stamp(counts, plans, include_collectives, weights=weights.as_dict())


def load_by_chapter(
    source: PlanSource,
    *,
    weights: RoleWeights = DEFAULT_WEIGHTS,
    include_collectives: bool = True,
    measure: Literal["load", "tasks"] = "load",
) -> pd.DataFrame:
    """Unit × chapter matrix of weighted load (or of task counts), heaviest unit first.

    Shows *where* in the plan a unit's load sits: 区应急局's load is almost all in the emergency
    chapter, 区司法局's is spread over most chapters. Columns are chapter numbers; the chapter titles
    are in ``df.attrs["chapters"]`` (number → title).
    """
    plans = plans_of(source)
    a = assignments(plans, include_collectives=include_collectives)
    chapters = {c.number: c.title for p in plans for c in p.chapters}
    if measure == "load":
        a = a.assign(value=[weights.of(r) for r in a["role"]])
    elif measure == "tasks":
        a = a.drop_duplicates(["plan", "task", "unit"]).assign(value=1.0)
    else:
        raise ValueError(f"measure must be 'load' or 'tasks', got {measure!r}")
    m = a.pivot_table(index="unit", columns="chapter", values="value", aggfunc="sum", fill_value=0.0)
    m = m.reindex(columns=sorted(chapters), fill_value=0.0)
    m.columns.name = "chapter"
    m = m.loc[m.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    return _stamp(m, plans, include_collectives, weights=weights.as_dict(), measure=measure, chapters=chapters)


NO_DEADLINE = "none"


def deadlines_by_year(source: PlanSource, *, include_collectives: bool = True) -> pd.DataFrame:
    """Unit × deadline year: how many of a unit's tasks fall due in each year (columns are strings).

    A task counts once per unit and year (its deadlines' years); tasks printed without a deadline are
    counted in the column ``"none"`` — in a plan for 2021–2025 they are due by the end of the period
    at the latest, but the plan does not say so and the table does not pretend it does.
    """
    plans = plans_of(source)
    rows = []
    for plan in plans:
        skip = set() if include_collectives else _collectives(plan)
        for task in plan.tasks:
            units = {u for role in ROLES for u in _task_units(task, role, skip)}
            years = [str(y) for y in sorted({d.date.year for d in task.deadlines})] or [NO_DEADLINE]
            rows += [{"unit": u, "year": y} for u in units for y in years]
    df = pd.DataFrame(rows, columns=["unit", "year"])
    m = pd.crosstab(df["unit"], df["year"]) if not df.empty else pd.DataFrame()
    year_cols: list[str] = sorted(str(c) for c in m.columns if c != NO_DEADLINE)
    m = m.reindex(columns=year_cols + ([NO_DEADLINE] if NO_DEADLINE in m.columns else []), fill_value=0)
    m.columns.name = "year"
    if not m.empty:
        dated = m[year_cols].sum(axis=1)
        m = m.loc[sorted(m.index, key=lambda u: (-int(dated[u]), -int(m.loc[u].sum()), u))]
    return _stamp(m, plans, include_collectives)


def task_deadlines(source: PlanSource) -> pd.DataFrame:
    """Every printed deadline: plan, task number, date, wording, chapter — the plan-level timeline."""
    plans = plans_of(source)
    rows = [
        {"plan": p.id, "task": t.position, "number": t.number, "chapter": t.chapter, "date": d.date,
         "year": d.date.year, "wording": d.wording}
        for p in plans for t in p.tasks for d in t.deadlines
    ]
    df = pd.DataFrame(rows, columns=["plan", "task", "number", "chapter", "date", "year", "wording"])
    return df.sort_values(["date", "plan", "task"], kind="stable").reset_index(drop=True)


# --- findings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRef:
    """Enough of a task to find it in the printed plan and judge the finding."""

    plan: str
    position: int
    number: int
    label: str
    chapter: int
    section: int | None
    line: int
    unit_clause: str
    text: str

    @classmethod
    def of(cls, plan: Plan, task: Task) -> TaskRef:
        return cls(plan.id, task.position, task.number, task.label, task.chapter, task.section, task.line,
                   task.unit_clause, task.text)


@dataclass(frozen=True)
class UnitNamedOnce:
    unit: str
    unit_type: str
    collective: bool
    role: Role
    task: TaskRef


@dataclass(frozen=True)
class ResponsibleOnly:
    """A unit named only as responsible, never as lead (nor as participant)."""

    unit: str
    unit_type: str
    collective: bool
    tasks: tuple[str, ...]  # task labels as printed


@dataclass(frozen=True)
class OverdueTask:
    task: TaskRef
    deadline: dt.date
    wording: str
    lead_units: tuple[str, ...]


@dataclass(frozen=True)
class Findings:
    """Everything :func:`find_issues` flags, with the date and population it used."""

    as_of: dt.date
    include_collectives: bool
    tasks_without_lead: tuple[TaskRef, ...] = field(default=())
    units_named_once: tuple[UnitNamedOnce, ...] = field(default=())
    responsible_never_lead: tuple[ResponsibleOnly, ...] = field(default=())
    overdue: tuple[OverdueTask, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        def enc(v: Any) -> Any:
            if isinstance(v, dt.date):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: enc(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [enc(x) for x in v]
            return v

        return enc(asdict(self))  # type: ignore[no-any-return]


def tasks_without_lead(source: PlanSource, *, include_collectives: bool = True) -> list[TaskRef]:
    """Tasks that name no lead unit: nobody is accountable for coordinating them.

    With ``include_collectives=False`` a task led only by a collective (区政府有关部门) also counts,
    because "the relevant departments" lead is no named lead.
    """
    out = []
    for plan in plans_of(source):
        skip = set() if include_collectives else _collectives(plan)
        out += [TaskRef.of(plan, t) for t in plan.tasks if not _task_units(t, "lead", skip)]
    return out


def _mentions(plan: Plan, include_collectives: bool) -> dict[str, list[tuple[Task, Role]]]:
    skip = set() if include_collectives else _collectives(plan)
    named: dict[str, list[tuple[Task, Role]]] = defaultdict(list)
    for task in plan.tasks:
        for role in ROLES:
            for unit in _task_units(task, role, skip):
                named[unit].append((task, role))
    return named


def units_named_once(source: PlanSource, *, include_collectives: bool = True) -> list[UnitNamedOnce]:
    """Units that appear on exactly one task: often a one-off contributor, sometimes a misspelling."""
    out = []
    for plan in plans_of(source):
        for unit, hits in sorted(_mentions(plan, include_collectives).items()):
            if len(hits) == 1:
                task, role = hits[0]
                u = plan.unit(unit)
                out.append(UnitNamedOnce(unit, u.type if u else "other", bool(u and u.collective), role,
                                         TaskRef.of(plan, task)))
    return sorted(out, key=lambda x: (x.task.plan, x.task.position, x.unit))


def responsible_never_lead(source: PlanSource, *, include_collectives: bool = True) -> list[ResponsibleOnly]:
    """Units every one of whose mentions is 责任单位: they deliver but never coordinate.

    "Always responsible" is read strictly: a unit that also participates somewhere is not listed.
    Sorted by number of tasks, most first — the ones carrying most without ever leading.
    """
    out = []
    for plan in plans_of(source):
        for unit, hits in _mentions(plan, include_collectives).items():
            if hits and all(role == "responsible" for _, role in hits):
                u = plan.unit(unit)
                out.append(ResponsibleOnly(unit, u.type if u else "other", bool(u and u.collective),
                                           tuple(t.label for t, _ in hits)))
    return sorted(out, key=lambda x: (-len(x.tasks), x.unit))


def overdue_tasks(
    source: PlanSource, *, as_of: dt.date | None = None, include_collectives: bool = True
) -> list[OverdueTask]:
    """Tasks with a printed deadline before ``as_of`` (default: today): check they were reported done.

    Only printed deadlines count; tasks without one are not overdue (see :func:`deadlines_by_year`).
    ``include_collectives`` only filters the lead units shown with each task.
    """
    day = as_of or dt.date.today()
    out = []
    for plan in plans_of(source):
        skip = set() if include_collectives else _collectives(plan)
        for task in plan.tasks:
            for d in task.deadlines:
                if d.date < day:
                    out.append(OverdueTask(TaskRef.of(plan, task), d.date, d.wording,
                                           _task_units(task, "lead", skip)))
    return sorted(out, key=lambda x: (x.deadline, x.task.plan, x.task.position))


def find_issues(
    source: PlanSource, *, as_of: dt.date | None = None, include_collectives: bool = True
) -> Findings:
    """All findings at once, stamped with the date and population used."""
    day = as_of or dt.date.today()
    return Findings(
        as_of=day,
        include_collectives=include_collectives,
        tasks_without_lead=tuple(tasks_without_lead(source, include_collectives=include_collectives)),
        units_named_once=tuple(units_named_once(source, include_collectives=include_collectives)),
        responsible_never_lead=tuple(responsible_never_lead(source, include_collectives=include_collectives)),
        overdue=tuple(overdue_tasks(source, as_of=day, include_collectives=include_collectives)),
    )


def role_counts(source: PlanSource, *, include_collectives: bool = True) -> Counter[Role]:
    """Total unit mentions per role in the plans (the denominator behind the per-unit counts)."""
    a = assignments(source, include_collectives=include_collectives)
    return Counter({role: int((a["role"] == role).sum()) for role in ROLES})


__all__ = [
    "DEFAULT_WEIGHTS",
    "NO_DEADLINE",
    "Findings",
    "OverdueTask",
    "ResponsibleOnly",
    "RoleWeights",
    "TaskRef",
    "UnitNamedOnce",
    "assignments",
    "deadlines_by_year",
    "find_issues",
    "load_by_chapter",
    "overdue_tasks",
    "plans_of",
    "responsible_never_lead",
    "role_counts",
    "short_title",
    "task_deadlines",
    "tasks_without_lead",
    "unit_workload",
    "units_named_once",
]
