"""Query understanding: units named in a query or a filter, role words, and filters as document masks.

A user writes 区司法局牵头的数据共享任务; the unit becomes a filter on its role and the rest
(数据共享) is what the retrievers rank by. Units are matched by canonical name, alias, or their
body without the level prefix (司法局).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.lexicon import UnitLexicon
from ingest.records import ROLES, Role
from ingest.vocab import ANY_ROLE_LABEL, ROLE_UNIT_LABELS

from .documents import Doc
from .results import Filters

ROLE_WORDS: tuple[tuple[str, Role], ...] = (
    ("牵头负责", "lead"),
    ("牵头", "lead"),
    ("主责", "lead"),
    ("责任", "responsible"),
    ("参加", "participating"),
    ("参与", "participating"),
    ("配合", "participating"),
)


@dataclass
class ParsedQuery:
    """A query after understanding: the text to rank by, the filters, and what was done (for notes)."""

    text: str
    filters: Filters
    applied: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _role_after(after: str) -> tuple[Role | None, str]:
    for word, role in ROLE_WORDS:
        if after.startswith(word) or after.lstrip("的").startswith(word):
            return role, word
    if after.lstrip("的").startswith("负责"):
        return None, "负责"  # "X负责的": X in any role (the plans' 责任单位 is not what people mean)
    return None, ""


def parse_query(query: str, filters: Filters, units: UnitLexicon) -> ParsedQuery:
    """Recognise a unit named in the query; make it a filter and remove it from the text."""
    query = query.strip()
    parsed = ParsedQuery(query, filters)
    found = units.find_in(query)
    if not found:
        return parsed
    surface, _names = found
    start = query.index(surface)
    after = query[start + len(surface):]
    role, role_word = _role_after(after)
    removed = surface + (after[: after.index(role_word) + len(role_word)] if role_word else "")
    rest = query[:start] + query[start + len(removed):]
    rest = re.sub(r"^[的和及与，,、\s]+|[的和及与，,、\s]+$", "", rest.replace(surface, ""))
    rest = re.sub(r"^的", "", rest).strip()
    key = role or "unit"
    if getattr(filters, key) is not None:
        return parsed  # an explicit filter on that role wins; leave the query alone
    parsed.text, parsed.filters = rest, Filters(**{**filters.__dict__, key: surface})
    parsed.applied[key] = {"from_query": True}
    label = ROLE_UNIT_LABELS[role] if role else ANY_ROLE_LABEL
    parsed.notes.append(f"查询中的“{surface}”已作为单位筛选条件（{label}），并从检索词中去除")
    return parsed


class Facets:
    """Per-document filter columns, computed once, so a filter costs array operations, not a scan."""

    def __init__(self, docs: Sequence[Doc], units: UnitLexicon) -> None:
        self.n = len(docs)
        self.units = units
        self.chapter = np.fromiter((d.task.chapter for d in docs), np.int32, len(docs))
        self.plan_index: dict[str, int] = {}
        for d in docs:
            self.plan_index.setdefault(d.plan.id, len(self.plan_index))
        self.plan = np.fromiter((self.plan_index[d.plan.id] for d in docs), np.int32, len(docs))
        self.by_unit: dict[tuple[str, Role], list[int]] = {}
        self.by_year: dict[int, list[int]] = {}
        for i, d in enumerate(docs):
            for role in ROLES:
                for name in d.task.units(role):
                    self.by_unit.setdefault((name, role), []).append(i)
            for year in {x.date.year for x in d.task.deadlines}:
                self.by_year.setdefault(year, []).append(i)

    def _select(self, groups: Sequence[Sequence[int]]) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for group in groups:
            if len(group):
                out[np.asarray(group, dtype=np.int64)] = True
        return out

    def mask(self, parsed: ParsedQuery) -> np.ndarray | None:
        """Boolean mask over documents for the parsed query's filters, or None when nothing restricts."""
        filters, applied, notes = parsed.filters, parsed.applied, parsed.notes
        if filters.is_empty():
            return None
        mask = np.ones(self.n, dtype=bool)
        for role in (*ROLES, None):
            value = getattr(filters, role or "unit")
            if value is None:
                continue
            names = self.units.resolve(value)
            key = role or "unit"
            applied[key] = {"value": value, "units": sorted(names), **applied.get(key, {})}
            if not names:
                notes.append(f"未找到单位“{value}”，没有任务符合该条件")
            roles: tuple[Role, ...] = (role,) if role else ROLES
            mask &= self._select([self.by_unit.get((n, r), ()) for n in names for r in roles])
        if filters.chapter is not None:
            applied["chapter"] = filters.chapter
            mask &= self.chapter == filters.chapter
        if filters.year is not None:
            applied["year"] = filters.year
            mask &= self._select([self.by_year.get(filters.year, ())])
        if filters.plan is not None:
            applied["plan"] = filters.plan
            if filters.plan not in self.plan_index:
                notes.append(f"没有编号为“{filters.plan}”的规划")
            mask &= self.plan == self.plan_index.get(filters.plan, -1)
        return mask
