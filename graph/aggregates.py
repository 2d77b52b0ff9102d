"""Per-plan aggregates: counts the corpus-wide canned queries read instead of the raw triples.

Why: at 1,000 plans a query that counts tasks per unit over every plan walks 1.7 M triples, and
Oxigraph pays one index probe per joined row (issue #17: 0.3–14 s per corpus-wide query). The counts
an analyst asks for first (tasks per unit and role, per chapter and section, deadlines per year,
each plan's totals) are the same sums whichever plans are in the corpus, so each
plan carries its own share of them and a corpus-wide query only adds the shares up.

Why they stay right: the aggregates are computed here from the plan's own triples (the very set
:func:`graph.rdf.add_plan` writes, so "the same answer as the raw triples" is a property of the
code, not a hope) and written as triples about nodes under the plan's IRI
(``…/<plan>/aggregate/…``). They are therefore part of the plan's cached N-Triples, loaded with it,
and deleted with it by :func:`graph.corpus.removal_triples` (plan-owned IRIs) when the plan changes
or leaves. An incremental build cannot leave a stale count behind, because no aggregate spans two
plans. Units shared by the plans of one government (a draft and its final text) get one unit share
per plan; the queries add them up, which is exact because a plan's tasks belong to it alone.

The aggregate nodes hang off the facts (``pk:totalsOf …`` points at the plan, chapter, section,
unit or task counted) and no fact points at them, so queries over the facts never meet them.
Every node says which plan it belongs to (``pk:aggregateInPlan``), which is where the canned
queries put their ``#@plan`` markers. The vocabulary is declared in ``graph/ontology.ttl``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from . import namespaces as ns
from .namespaces import PK

#: How many of each plan's tasks ``tasks-most-units`` may need: its LIMIT. A plan's share of the
#: corpus-wide first 20 (by units, position, task) is a prefix of its own order, so 20 per plan is enough.
TOP_TASKS = 20

ROLE_COUNTS = (("lead", PK.leads, PK.leadCount), ("responsible", PK.responsibleFor, PK.responsibleCount),
               ("participating", PK.participatesIn, PK.participatingCount))

Triple = tuple[Any, Any, Any]


def _int(n: int) -> Literal:
    return Literal(n, datatype=XSD.integer)


class _Facts:
    """One plan's triples, indexed the few ways the aggregates need."""

    def __init__(self, triples: Iterable[Triple]) -> None:
        self.types: dict[Any, set[Any]] = defaultdict(set)
        self.by_pred: dict[Any, list[tuple[Any, Any]]] = defaultdict(list)
        self.one: dict[tuple[Any, Any], Any] = {}
        for s, p, o in triples:
            if p == RDF.type:
                self.types[o].add(s)
            self.by_pred[p].append((s, o))
            self.one.setdefault((s, p), o)

    def of_type(self, cls: Any) -> set[Any]:
        return self.types.get(cls, set())

    def pairs(self, pred: Any) -> list[tuple[Any, Any]]:
        return self.by_pred.get(pred, [])

    def mapping(self, pred: Any) -> dict[Any, set[Any]]:
        out: dict[Any, set[Any]] = defaultdict(set)
        for s, o in self.pairs(pred):
            out[s].add(o)
        return out


def _section_issue(f: _Facts, sec: Any, printed: Counter[Any]) -> str:
    """What section-label-anomalies says of a section: unreadable, repeated, out of sequence or "" (none,
    also when the section lacks the position, label or title the query joins)."""
    position = f.one.get((sec, PK.position))
    if position is None or f.one.get((sec, PK.label)) is None or f.one.get((sec, DCTERMS.title)) is None:
        return ""
    number = f.one.get((sec, PK.printedNumber))
    if number is None:
        return "unreadable"
    if printed[number] > 1:
        return "repeated"
    return "out of sequence" if int(number) != int(position) else ""


def aggregate_triples(plan_id: str, triples: Iterable[Triple]) -> list[Triple]:
    """The aggregate triples of plan ``plan_id``, computed from that plan's own ``triples``."""
    f = _Facts(triples)
    plan = URIRef(ns.plan_iri(plan_id))
    base = ns.plan_iri(plan_id) + "/aggregate"
    out: list[Triple] = []

    def node(path: str, of_pred: Any, of: Any, counts: Iterable[tuple[Any, int]]) -> URIRef:
        a = URIRef(f"{base}{path}")
        out.append((a, PK.aggregateInPlan, plan))
        if of_pred is not None:
            out.append((a, of_pred, of))
        out.extend((a, p, _int(n)) for p, n in counts)
        return a

    in_plan = {s for s, o in f.pairs(PK.inPlan) if o == plan}
    tasks = f.of_type(PK.Task) & in_plan
    in_chapter = f.mapping(PK.inChapter)
    roles = {role: f.pairs(pred) for role, pred, _ in ROLE_COUNTS}
    units_of_task: dict[Any, set[Any]] = defaultdict(set)
    for pairs in roles.values():
        for unit, task in pairs:
            units_of_task[task].add(unit)

    # plan-overview: chapters, sections, tasks, units involved in any role; task-path: its rows (a task
    # and a chapter of the plan it is in), which its cut adds up plan by plan in title order
    chapters = f.of_type(PK.Chapter) & in_plan
    node("", PK.totalsOfPlan, plan, [
        (PK.chapterCount, len(chapters)),
        (PK.sectionCount, len(f.of_type(PK.Section) & in_plan)),
        (PK.taskCount, len(tasks)),
        (PK.chapteredTaskCount, sum(len(in_chapter.get(t, set()) & chapters) for t in tasks)),
        (PK.unitCount, len({u for t, us in units_of_task.items() if t in in_plan for u in us})),
    ])

    # chapter-coverage: per chapter, as its GROUP BY over the UNION counts them
    def per_chapter(things: Iterable[Any]) -> dict[Any, set[Any]]:
        out_: dict[Any, set[Any]] = defaultdict(set)
        for x in things:
            for ch in in_chapter.get(x, ()):
                out_[ch].add(x)
        return out_

    sections = per_chapter(f.of_type(PK.Section))
    ch_tasks = per_chapter(f.of_type(PK.Task))
    with_deadline = per_chapter({s for s, _ in f.pairs(PK.hasDeadline)})
    with_target = per_chapter({s for s, _ in f.pairs(PK.target)})
    lead_units: dict[Any, set[Any]] = defaultdict(set)
    for unit, task in roles["lead"]:
        for ch in in_chapter.get(task, ()):
            lead_units[ch].add(unit)
    for ch in sorted(f.of_type(PK.Chapter)):
        a = node(f"/chapter/{str(ch).rsplit('/', 1)[-1]}", PK.totalsOfChapter, ch, [
            (PK.chapterSectionCount, len(sections[ch])), (PK.chapterTaskCount, len(ch_tasks[ch])),
            (PK.tasksWithDeadline, len(with_deadline[ch])), (PK.tasksWithTarget, len(with_target[ch])),
            (PK.leadUnitCount, len(lead_units[ch])),
        ])
        # the chapter's own number, label and title, copied: the query then joins chapter-sized scans only
        out.extend((a, copy, value) for fact, copy in ((PK.number, PK.chapterNumber), (PK.label, PK.chapterLabel),
                                                      (DCTERMS.title, PK.chapterTitle))
                   if (value := f.one.get((ch, fact))) is not None)

    # sections-most-tasks: tasks per section
    in_section: dict[Any, int] = defaultdict(int)
    for _task, sec in f.pairs(PK.inSection):
        in_section[sec] += 1
    # section-label-anomalies: how many of the plan's resources carry each printed number
    printed = Counter(o for s_, o in f.pairs(PK.printedNumber) if s_ in in_plan)
    for sec in sorted(f.of_type(PK.Section)):
        a = node(f"/section/{str(sec).rsplit('/', 1)[-1]}", PK.totalsOfSection, sec,
                 [(PK.taskCount, in_section.get(sec, 0))])
        issue = _section_issue(f, sec, printed)
        if issue:
            out.append((a, PK.sectionIssue, Literal(issue)))
            if (number := f.one.get((sec, PK.printedNumber))) is not None:
                out.append((a, PK.sectionPrintedNumber, number))
        # the section's label, title and position and its chapter's label, copied: the query's columns
        # are then scans of section-sized predicates (17,000 triples at 1,000 plans), not of pk:label or
        # pk:position, which tasks and chapters share (100,000)
        chapter = f.one.get((sec, PK.inChapter))
        out.extend((a, copy, value) for subject, fact, copy in (
            (sec, PK.label, PK.sectionLabel), (sec, DCTERMS.title, PK.sectionTitle),
            (sec, PK.position, PK.sectionPosition), (chapter, PK.label, PK.chapterLabel))
            if (value := f.one.get((subject, fact))) is not None)

    # tasks-per-unit-by-role, responsible-never-lead, collective-vs-named: per unit, the tasks of this
    # plan it has in each role (the unit rankings over all of a government's plans, unit-workload,
    # co-leading-units and follow-through-by-unit, read graph/unit_totals.py instead)
    per_unit: dict[Any, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
    for role, pairs in roles.items():
        for unit, task in pairs:
            if task in in_plan:
                per_unit[unit][role].add(task)
    for k, unit in enumerate(sorted(per_unit), start=1):
        counts = per_unit[unit]
        a = node(f"/unit/{k}", PK.totalsOfUnit, unit,
                 [(pred, len(counts[role])) for role, _, pred in ROLE_COUNTS])
        label = f.one.get((unit, RDFS.label))
        if label is not None:
            out.append((a, PK.unitLabel, label))

    # deadlines-by-year: tasks and deadlines falling due in each year
    dates = f.mapping(PK.date)
    year_tasks: dict[int, set[Any]] = defaultdict(set)
    year_deadlines: dict[int, set[Any]] = defaultdict(set)
    for task, d in f.pairs(PK.hasDeadline):
        if task not in in_plan:
            continue
        for date in dates.get(d, ()):
            year = int(str(date)[:4])
            year_tasks[year].add(task)
            year_deadlines[year].add(d)
    for year in sorted(year_tasks):
        node(f"/year/{year}", None, None, [(PK.year, year), (PK.taskCount, len(year_tasks[year])),
                                          (PK.deadlineCount, len(year_deadlines[year]))])

    # tasks-most-units: the plan's first TOP_TASKS tasks by (units desc, position, task IRI)
    positions = {s: int(o) for s, o in f.pairs(PK.position) if s in tasks}
    leads_n: dict[Any, int] = defaultdict(int)
    for _unit, task in roles["lead"]:
        leads_n[task] += 1
    ranked = sorted((t for t in tasks if t in positions),
                    key=lambda t: (-len(units_of_task.get(t, ())), positions[t], str(t)))
    for t in ranked[:TOP_TASKS]:
        node(f"/task/{positions[t]}", PK.totalsOfTask, t,
             [(PK.taskUnitCount, len(units_of_task.get(t, ()))), (PK.taskLeadCount, leads_n.get(t, 0))])

    # tasks-without-lead: the tasks no unit leads that the query lists (those with a number and a text,
    # which it joins), with their positions: its cut is the 1,000th smallest of these positions
    listed = {s for s, _ in f.pairs(PK.number)} & {s for s, _ in f.pairs(PK.text)}
    for t in sorted(t for t in tasks - set(leads_n) if t in positions and t in listed):
        node(f"/leadless/{positions[t]}", PK.leadlessTask, t, [(PK.leadlessPosition, positions[t])])
    return out
