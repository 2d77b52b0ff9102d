"""Canonical units and their aliases, from one editable TOML table (``data/units.toml``).

A plan names the same body in several ways (区公安局 / 区公安分局, 区政府各有关部门 / 区政府有关部门),
truncates names (街道办事 for 街道办事处) and lists collectives (各镇人民政府、街道办事处) that must stay one
node. Resolution is a pure function of the table and the printed name, so it can be tested and the
table can be edited without touching code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import IngestError
from .records import UNIT_TYPES, UnitType

_COLLECTIVE = re.compile(r"(有关部门|各部门|各有关|有关单位|级部门|级各|各镇|各街道|各单位|各乡镇|相关部门|各区县|各县|各区|各市|"
                         r"各乡|各旗|各州|直各|执法部门)")
_PARTY = re.compile(r"^(?:[区县市]|中共)?(委|纪委|党委|党校)|纪委监委|^[区县市]委")
_JUDICIAL = re.compile(r"(法院|检察院)")
_CONGRESS = re.compile(r"(人大|政协)")
_GOVERNMENT = re.compile(r"(局|委|办|中心|分局|办公室|政府|管理处|管理委员会|厅)$")
# the level a unit name starts with: 省/自治区/市/州/盟/县/区/旗/乡镇/乡/镇/街道 (市场监管局 is not 市 + 场监管局)
_LEVEL_PREFIX = re.compile(r"^(自治区|省|市(?!场)|自治州|州|盟|区|县|旗|乡镇|乡|镇|街道)")


def infer_type(name: str) -> UnitType:
    """Type of a unit from its name alone; the table's explicit type wins over this."""
    if _COLLECTIVE.search(name):
        return "collective"
    if _JUDICIAL.search(name):
        return "judicial"
    if _CONGRESS.search(name):
        return "congress"
    if _PARTY.search(name):
        return "party"
    if _GOVERNMENT.search(name):
        return "government"
    return "other"


def unit_kind(name: str) -> str:
    """The body a unit is, without its level: 区司法局 → 司法局, 区委组织部 → 党委组织部, 区级各部门 → 本级各部门.

    Every level compares: 县司法局, 区司法局, 市司法局 and 旗司法局 are all kind 司法局.

    Two plans' units of the same kind are linked through it (Bishan's and another district's 司法局).
    """
    rest = _LEVEL_PREFIX.sub("", name, count=1)
    if not rest or rest == name:
        return name
    if rest.startswith("委"):
        return "党" + rest
    if rest.startswith("级"):
        return "本" + rest
    return rest


@dataclass(frozen=True)
class UnitEntry:
    name: str
    type: UnitType
    aliases: tuple[str, ...] = ()
    suspect: tuple[str, ...] = ()  # aliases that are probably errors in a source, reported as defects
    note: str = ""

    @property
    def collective(self) -> bool:
        return self.type == "collective"


@dataclass(frozen=True)
class Resolution:
    raw: str
    canonical: str
    type: UnitType
    how: str  # "exact", "alias", "suspect", "truncated", "unresolved"


@dataclass
class UnitTable:
    entries: dict[str, UnitEntry] = field(default_factory=dict)
    source: str = "<built-in>"
    _index: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _cuts: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for entry in self.entries.values():
            self._index[entry.name] = entry.name
            for alias in (*entry.aliases, *entry.suspect):
                self._index.setdefault(alias, entry.name)

    def known(self, name: str) -> bool:
        return name in self._index

    def names(self) -> list[str]:
        """Every canonical name and alias, longest first (for recognising units inside free text)."""
        return sorted(self._index, key=len, reverse=True)

    def truncation_of(self, name: str) -> str | None:
        """The known name that ``name`` is a cut-off prefix of (at least 3 characters), if exactly one."""
        if len(name) < 3 or name in self._index:
            return None
        if name not in self._cuts:  # memoised: a plan repeats the same names thousands of times
            hits = {canon for alias, canon in self._index.items() if alias.startswith(name) and alias != name}
            self._cuts[name] = hits.pop() if len(hits) == 1 else None
        return self._cuts[name]

    def resolve(self, raw: str) -> Resolution:
        canonical = self._index.get(raw)
        if canonical is not None:
            entry = self.entries[canonical]
            how = "exact" if raw == canonical else ("suspect" if raw in entry.suspect else "alias")
            return Resolution(raw, canonical, entry.type, how)
        cut = self.truncation_of(raw)
        if cut is not None:
            return Resolution(raw, cut, self.entries[cut].type, "truncated")
        return Resolution(raw, raw, infer_type(raw), "unresolved")

    def entry(self, canonical: str) -> UnitEntry | None:
        return self.entries.get(canonical)


def parse_unit_table(text: str, source: str = "<string>") -> UnitTable:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise IngestError(f"the unit table is not valid TOML: {exc}", source=source,
                          hint="fix the file or restore it from git") from exc
    entries: dict[str, UnitEntry] = {}
    for i, item in enumerate(data.get("unit", []), start=1):
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise IngestError(f"[[unit]] entry {i} has no name", source=source, hint='add name = "…"')
        utype = item.get("type") or infer_type(name)
        if utype not in UNIT_TYPES:
            raise IngestError(f"unit {name!r} has type {utype!r}", source=source,
                              hint=f"use one of {', '.join(UNIT_TYPES)}")
        if name in entries:
            raise IngestError(f"unit {name!r} is listed twice", source=source, hint="merge the entries")
        entries[name] = UnitEntry(
            name=name,
            type=utype,
            aliases=tuple(item.get("aliases", ())),
            suspect=tuple(item.get("suspect", ())),
            note=item.get("note", ""),
        )
    return UnitTable(entries, source=source)


def load_unit_table(path: Path | None) -> UnitTable:
    """Load the editable table; a missing path gives an empty table (every unit is then inferred)."""
    if path is None:
        return UnitTable()
    if not path.exists():
        raise IngestError("unit table not found", source=str(path),
                          hint="restore data/units.toml from git or pass --units")
    return parse_unit_table(path.read_text(encoding="utf-8"), source=str(path))
