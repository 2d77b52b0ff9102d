"""Unit names as people type them (canonical name, alias, or the body without its level: 司法局),
resolved to the canonical names the records use.

Why in ingest: the CLI's ``tasks --lead`` and ``search --lead`` (and the search engine's filters and
query understanding) must mean the same by a unit name; before, ``tasks`` matched substrings of
canonical names only (no aliases), ``search`` also aliases and bodies. Both now call
:meth:`UnitLexicon.resolve`; it only needs the parsed records, so it sits at the bottom of the flow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .records import Plan, Unit

# A unit's body (司法局, 法院, 区委编办 → 委编办) is only matched on its own when it still reads as the
# name of a body; a truncated name's remainder (街道办事 → 办事) is an ordinary word and must not be.
_BODY_SUFFIX = re.compile(r"..*(局|委|办|院|室|中心|部|会|所|联|校|处|厅|站|队)$")


class UnitLexicon:
    """Names by which units can be named in a filter or a query, resolved to canonical names."""

    def __init__(self, plans: Sequence[Plan]) -> None:
        self.exact: dict[str, set[str]] = {}
        self.by_kind: dict[str, set[str]] = {}
        units: dict[str, Unit] = {}
        for plan in plans:
            for unit in plan.units:
                units.setdefault(unit.name, unit)
            for task in plan.tasks:
                for name in task.lead_units + task.responsible_units + task.participating_units:
                    units.setdefault(name, Unit(name, "other"))
        for unit in units.values():
            for surface in (unit.name, *unit.aliases):
                if len(surface) >= 2:
                    self.exact.setdefault(surface, set()).add(unit.name)
            if unit.kind and _BODY_SUFFIX.search(unit.kind) and not unit.collective and unit.type != "collective":
                self.by_kind.setdefault(unit.kind, set()).add(unit.name)
        self.names = set(units)
        # Surfaces searched for inside a query, longest first so 区政务服务管理办 beats 政务服务.
        self.surfaces = sorted(set(self.exact) | set(self.by_kind), key=len, reverse=True)

    def resolve(self, name: str) -> set[str]:
        """The canonical names ``name`` stands for: an exact name or alias first, then a body
        (司法局 → every 区/县 司法局), then any canonical name containing it; empty when none does."""
        name = name.strip()
        if name in self.exact:
            return set(self.exact[name])
        if name in self.by_kind:
            return set(self.by_kind[name])
        return {n for n in self.names if name and name in n}

    def find_in(self, query: str) -> tuple[str, set[str]] | None:
        for surface in self.surfaces:
            if surface in query:
                return surface, self.exact.get(surface) or self.by_kind[surface]
        return None
