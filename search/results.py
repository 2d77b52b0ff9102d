"""What a search takes besides the query (``Filters``) and what it returns (``SearchResult``, ``Hit``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Filters:
    """Restrictions that compose with the query (all given ones must hold).

    A unit may be given by canonical name, alias, or its body without level prefix (司法局);
    ``unit`` matches any role, the others one role each.
    """

    lead: str | None = None
    responsible: str | None = None
    participating: str | None = None
    unit: str | None = None
    chapter: int | None = None
    year: int | None = None
    plan: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in self.__dataclass_fields__)


@dataclass
class Hit:
    """One task found, with what explains it."""

    plan: str
    position: int
    task: str  # number as printed
    score: float
    text: str
    chapter: int
    chapter_title: str
    section: int | None
    section_label: str
    section_title: str
    lead_units: tuple[str, ...]
    responsible_units: tuple[str, ...]
    participating_units: tuple[str, ...]
    deadlines: list[dict[str, str]]
    matched_by: dict[str, dict[str, float | int]] = field(default_factory=dict)
    matched_terms: list[str] = field(default_factory=list)
    spans: list[tuple[int, int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "task": self.task,
            "position": self.position,
            "score": round(float(self.score), 6),
            "text": self.text,
            "chapter": self.chapter,
            "chapter_title": self.chapter_title,
            "section": self.section,
            "section_label": self.section_label,
            "section_title": self.section_title,
            "lead_units": list(self.lead_units),
            "responsible_units": list(self.responsible_units),
            "participating_units": list(self.participating_units),
            "deadlines": self.deadlines,
            "matched_by": self.matched_by,
            "matched_terms": self.matched_terms,
            "spans": [list(s) for s in self.spans],
        }


@dataclass
class SearchResult:
    query: str
    mode: str
    hits: list[Hit]
    notes: list[str] = field(default_factory=list)
    applied_filters: dict[str, Any] = field(default_factory=dict)
    query_text: str = ""  # the text actually searched (after a unit named in it was removed)
    expansions: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "query_text": self.query_text,
            "mode": self.mode,
            "notes": self.notes,
            "applied_filters": self.applied_filters,
            "expansions": self.expansions,
            "hits": [h.to_json() for h in self.hits],
        }
