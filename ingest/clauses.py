"""The unit clause after a task: （牵头单位：…；责任单位：…；参加单位：…）.

Forms seen in real plans and handled here: only 责任单位; 参加单位; "区政府有关部门按职责分工负责";
"区卫生健康委、区应急局等区政府有关部门" (named units plus a collective); a collective printed with 、
("各镇人民政府、街道办事处"); a unit listed twice; a cut-off name ("街道办事"); stray separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .records import Defect, Role, UnitMention
from .units import UnitTable
from .vocab import CLAUSE_ROLE_WORDS, ROLES

_ROLE_RE = re.compile("^(" + "|".join(CLAUSE_ROLE_WORDS) + r")\s*[：:]?\s*")
_CLAUSE_HINT = re.compile("(" + "|".join(CLAUSE_ROLE_WORDS) + r"|职责分工负责)")
_SUFFIX = re.compile(r"(按照?职责分工负责|按照?职责负责|分别负责|负责)$")
_ETC = re.compile(r"等(?=[^、，,等]*(?:部门|单位)$)")  # only an 等 that introduces a collective
_SEPARATORS = re.compile(r"([、，,])")
MAX_NAME_TOKENS = 4  # a name printed with separators inside (各镇人民政府、街道办事处) spans at most this many
_ROLE_RANK: dict[Role, int] = {r: i for i, r in enumerate(ROLES)}  # lead outranks responsible outranks participating


@dataclass(frozen=True)
class ClauseResult:
    mentions: tuple[UnitMention, ...]
    defects: tuple[Defect, ...]


def split_unit_clause(text: str) -> tuple[str, str]:
    """Split a task paragraph into (task text, unit clause without brackets).

    The clause is the last bracketed group that closes the paragraph and names a role. Brackets
    nest inside it (区委党校（行政学院）), so the opening bracket is found by depth, not by search.
    """
    stripped = text.rstrip()
    if not stripped.endswith(("）", ")")):
        return text.strip(), ""
    depth = 0
    for i in range(len(stripped) - 1, -1, -1):
        ch = stripped[i]
        if ch in "）)":
            depth += 1
        elif ch in "（(":
            depth -= 1
            if depth == 0:
                inner = stripped[i + 1 : -1]
                if _CLAUSE_HINT.search(inner):
                    return stripped[:i].strip(), inner.strip()
                return text.strip(), ""
    return text.strip(), ""


def _split_names(segment: str, table: UnitTable) -> list[str]:
    """Split a list of names on 、，, re-joining runs that together form one known name."""
    parts = [p for p in _SEPARATORS.split(segment)]
    tokens = parts[0::2]
    seps = [*parts[1::2], ""]
    names: list[str] = []
    i = 0
    while i < len(tokens):
        taken = 1
        for j in range(min(len(tokens), i + MAX_NAME_TOKENS), i + 1, -1):
            joined = "".join(tokens[k] + (seps[k] if k < j - 1 else "") for k in range(i, j)).strip()
            if table.known(joined) or table.truncation_of(joined):
                names.append(joined)
                taken = j - i
                break
        else:
            names.append(tokens[i].strip())
        i += taken
    return [n for n in names if n]


def parse_unit_clause(clause: str, table: UnitTable, *, line: int | None = None, source: str = "",
                      task_label: str = "") -> ClauseResult:
    defects: list[Defect] = []
    where = f"task {task_label}" if task_label else "a task"

    def defect(kind: str, message: str, severity: str = "warning") -> None:
        defects.append(Defect(kind, f"{where}: {message}", line, severity, source))  # type: ignore[arg-type]

    raw_mentions: list[tuple[str, Role]] = []
    for segment in re.split(r"[；;]", clause):
        segment = segment.strip().rstrip("。.")
        if not segment:
            continue
        match = _ROLE_RE.match(segment)
        if match:
            role = CLAUSE_ROLE_WORDS[match.group(1)]
            body = segment[match.end():]
        else:
            role = "responsible"
            body = segment
            defect("unit_clause_no_role", f"unit list without a role word, read as 责任单位: {segment!r}", "info")
        body = body.strip()
        if re.search(r"[、，,]{2,}|[、，,]$|^[、，,]", body):
            defect("stray_punctuation", f"stray separator in the unit list {body!r}", "info")
        for name in _split_names(body.strip("、，, "), table):
            suffix = _SUFFIX.search(name)
            if suffix and name != suffix.group(0):
                name = name[: suffix.start()]
            etc = _ETC.search(name)
            if etc:
                # "区卫生健康委、区应急局等区政府有关部门": named units, then the collective they belong to
                raw_mentions.append((name[: etc.start()].strip(), role))
                raw_mentions.append((name[etc.end():].strip(), role))
            elif name:
                raw_mentions.append((name, role))

    mentions: list[UnitMention] = []
    seen: dict[str, Role] = {}
    for raw, role in raw_mentions:
        res = table.resolve(raw)
        if res.how == "truncated":
            defect("truncated_unit", f"unit name {raw!r} is cut off; read as {res.canonical!r}")
        elif res.how == "suspect":
            defect("inconsistent_unit", f"unit name {raw!r} differs from {res.canonical!r} used elsewhere")
        elif res.how == "alias":
            defect("unit_alias", f"{raw!r} read as {res.canonical!r}", "info")
        elif res.how == "unresolved":
            defect("unresolved_unit", f"unit name {raw!r} is not in the unit table (type guessed: {res.type})")
        previous = seen.get(res.canonical)
        if previous is not None:
            if previous == role:
                defect("duplicate_unit", f"{res.canonical!r} is listed twice as {role}")
            else:
                kept = min(previous, role, key=_ROLE_RANK.__getitem__)
                defect("duplicate_unit", f"{res.canonical!r} is listed as {previous} and as {role}; kept {kept}")
                if kept != previous:
                    mentions = [m for m in mentions if m.canonical != res.canonical]
                    mentions.append(UnitMention(raw, res.canonical, role))
                    seen[res.canonical] = role
            continue
        seen[res.canonical] = role
        mentions.append(UnitMention(raw, res.canonical, role))
    return ClauseResult(tuple(mentions), tuple(defects))
