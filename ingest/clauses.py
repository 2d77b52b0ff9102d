"""Unit clauses: who leads, who is responsible, who takes part, in every wording plans use.

Forms read here (the role wording is mapped in ``ingest.roles``):
- labelled, bracketed at the end of a task: （牵头单位：…；责任单位：…；参加单位：…） (Bishan), also
  with the labels separated by ，or a space: （责任单位：X，配合单位：Y）;
- labelled, unbracketed, at the end of a paragraph or on a line of its own: 责任单位：X、Y /
  牵头单位：X 配合单位：Y / 牵头：X；配合：Y;
- verbs after the names: （X牵头，Y配合）, （X负责）, （X、Y按职责分工负责）, with or without brackets.
Forms seen in real plans inside the lists: "区政府有关部门按职责分工负责"; "区卫生健康委、区应急局等区政府
有关部门" (named units plus a collective); a collective printed with 、 ("各镇人民政府、街道办事处");
a unit listed twice; a cut-off name ("街道办事"); stray separators. A name that still holds a role
word after all this is never made a unit: it is reported as an unreadable clause with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .records import Defect, Role, UnitMention
from .roles import (
    INNER_LABEL_RE,
    ROLE_LABELS,
    ROLE_WORD_RE,
    TIME_LABEL_RE,
    UNIT_END_RE,
    VERB_RE,
    VERB_ROLE,
)
from .units import UnitTable
from .vocab import ROLES

_LONG_LABELS = [w for w in ROLE_LABELS if len(w) >= 4]
_SHORT_LABELS = [w for w in ROLE_LABELS if len(w) < 4]
# long labels may drop their colon (Bishan prints them with one); short ones need it
_ROLE_RE = re.compile("^(?:(" + "|".join(_LONG_LABELS) + r")\s*[：:]?|(" + "|".join(_SHORT_LABELS) + r")\s*[：:])\s*")
_LABEL_HINT = re.compile("(" + "|".join(_LONG_LABELS) + "|(?:" + "|".join(_SHORT_LABELS) + r")\s*[：:]|职责分工负责)")
_TRAILING_LABEL = re.compile(
    r"(?:^|(?<=[。；;！？\s]))(?=(?:" + "|".join(sorted(ROLE_LABELS, key=len, reverse=True)) + r")\s*[：:])")
_SUFFIX = re.compile(r"(按照?(?:各自)?职责(?:分工)?(?:分别|共同)?负责|分别负责|负责)$")
_ETC = re.compile(r"等(?=[^、，,等]*(?:部门|单位)$)")  # only an 等 that introduces a collective
_SEPARATORS = re.compile(r"([、，,])")
_AND = re.compile(r"(?<=[局委办部院府门位室心])及(?=[\u4e00-\u9fff]{2})")  # 市级各有关部门及各县市区政府
_COLLECTIVE_NAME = re.compile(r"(各|有关|相关)")
MAX_NAME_TOKENS = 4  # a name printed with separators inside (各镇人民政府、街道办事处) spans at most this many
_ROLE_RANK: dict[Role, int] = {r: i for i, r in enumerate(ROLES)}  # lead outranks responsible outranks participating


@dataclass(frozen=True)
class ClauseResult:
    mentions: tuple[UnitMention, ...]
    defects: tuple[Defect, ...]
    timeframe: str = ""  # a 完成时限 segment, as printed
    form: str = ""  # "labels" (责任单位：X) or "verbs" (X牵头)


def looks_like_verb_clause(text: str) -> bool:
    """True for "X牵头，Y、Z按职责分工负责": every comma piece ends in a role verb after unit names."""
    pieces = [p.strip() for p in re.split(r"[，,；;]", text.strip().rstrip("。.")) if p.strip()]
    if not pieces:
        return False
    for piece in pieces:
        verb = VERB_RE.search(piece)
        if not verb or verb.start() == 0:
            return False
        # a name may end in its other name: 区委党校（区行政学校）
        names = [re.sub(r"[（(][^（）()]*[）)]$", "", n) for n in re.split(r"[、]", re.sub(r"^由", "", piece[: verb.start()]))]
        names = [n for n in names if n]
        if not names or not all(UNIT_END_RE.search(n) or _COLLECTIVE_NAME.search(n) for n in names):
            return False
    return True


def _bracketed_clause(stripped: str) -> tuple[str, str] | None:
    """The last bracketed group that closes the paragraph, found by depth (区委党校（行政学院） nests)."""
    depth = 0
    for i in range(len(stripped) - 1, -1, -1):
        ch = stripped[i]
        if ch in "）)":
            depth += 1
        elif ch in "（(":
            depth -= 1
            if depth == 0:
                return stripped[:i].strip(), stripped[i + 1 : -1].strip()
    return None


def split_unit_clause(text: str) -> tuple[str, str]:
    """Split a task paragraph into (task text, unit clause without brackets); ("…", "") when none.

    Tried in turn: a bracketed group closing the paragraph that names a role (by label or verb);
    an unbracketed labelled clause after the last sentence (…。责任单位：X); an unbracketed last
    sentence made only of names and role verbs (…。X牵头，Y配合。).
    """
    stripped = text.rstrip().rstrip("。") if text.rstrip().endswith(("）。", ")。")) else text.rstrip()
    if stripped.endswith(("）", ")")):
        found = _bracketed_clause(stripped)
        if found:
            body, inner = found
            if _LABEL_HINT.search(inner) or looks_like_verb_clause(inner):
                return body, inner
        return text.strip(), ""
    m = _TRAILING_LABEL.search(stripped)
    if m:
        return stripped[: m.start()].strip(), stripped[m.start():].strip()
    sentences = [s for s in re.split(r"(?<=[。；])", stripped) if s.strip()]
    if len(sentences) > 1 and looks_like_verb_clause(sentences[-1]):
        return "".join(sentences[:-1]).strip(), sentences[-1].strip().rstrip("。")
    return text.strip(), ""


def _split_names(segment: str, table: UnitTable) -> list[str]:
    """Split a list of names on 、，(and 及 between two names), re-joining runs that form one known name."""
    segment = _AND.sub("、", segment)
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


def _segments(clause: str) -> list[str]:
    """；-separated segments, each further split where a new label starts (…，配合单位：Y)."""
    out: list[str] = []
    for segment in re.split(r"[；;]", clause):
        for part in INNER_LABEL_RE.split(segment):
            part = part.strip().rstrip("。.")
            if part:
                out.append(part)
    return out


def _verb_pieces(segment: str) -> list[tuple[str, Role]] | None:
    """"X牵头，Y配合" → [(X, lead), (Y, participating)]; None when no piece ends in a verb."""
    pieces = [p.strip() for p in re.split(r"[，,]", segment) if p.strip()]
    out: list[tuple[str, Role]] = []
    pending: list[str] = []
    for piece in pieces:
        verb = VERB_RE.search(piece)
        if verb and verb.start() > 0:
            role = VERB_ROLE[verb.group(1)]
            out.extend((name, role) for name in [*pending, re.sub(r"^由", "", piece[: verb.start()])])
            pending = []
        else:
            pending.append(piece)
    if not out:
        return None
    out.extend((name, "responsible") for name in pending)
    return out


def _role_lists(clause: str, defect) -> tuple[list[tuple[str, Role]], str, str]:  # type: ignore[no-untyped-def]
    """(name lists with their role, timeframe, form) of a clause."""
    lists: list[tuple[str, Role]] = []
    timeframe = ""
    form = ""
    for segment in _segments(clause):
        match = _ROLE_RE.match(segment)
        time = TIME_LABEL_RE.match(segment)
        if match:
            lists.append((segment[match.end():], ROLE_LABELS[match.group(1) or match.group(2)]))
            form = form or "labels"
        elif time:
            timeframe = segment[time.end():].strip()
        elif (pieces := _verb_pieces(segment)) is not None:
            lists.extend(pieces)
            form = form or "verbs"
        else:
            lists.append((segment, "responsible"))
            defect("unit_clause_no_role", f"unit list without a role word, read as 责任单位: {segment!r}", "info")
    return lists, timeframe, form


def parse_unit_clause(clause: str, table: UnitTable, *, line: int | None = None, source: str = "",
                      task_label: str = "") -> ClauseResult:
    defects: list[Defect] = []
    where = f"task {task_label}" if task_label else "a task"

    def defect(kind: str, message: str, severity: str = "warning") -> None:
        defects.append(Defect(kind, f"{where}: {message}", line, severity, source))  # type: ignore[arg-type]

    lists, timeframe, form = _role_lists(clause, defect)
    raw_mentions: list[tuple[str, Role]] = []
    for body, role in lists:
        body = body.strip()
        if re.search(r"[、，,]{2,}|[、，,]$|^[、，,]", body):
            defect("stray_punctuation", f"stray separator in the unit list {body!r}", "info")
        for name in _split_names(body.strip("、，, "), table):
            suffix = _SUFFIX.search(name)
            if suffix and name != suffix.group(0):
                name = name[: suffix.start()]
            etc = _ETC.search(name)
            found = [name[: etc.start()].strip(), name[etc.end():].strip()] if etc else [name]
            for raw in found:
                # "区卫生健康委、区应急局等区政府有关部门": named units, then the collective they belong to
                if raw and ROLE_WORD_RE.search(raw):
                    defect("unreadable_clause", f"could not read {raw!r} in the unit clause {clause!r}: "
                                                "no unit made of it (check the wording)")
                elif raw:
                    raw_mentions.append((raw, role))
    return ClauseResult(_resolve(raw_mentions, table, defect), tuple(defects), timeframe, form)


def _resolve(raw_mentions: list[tuple[str, Role]], table: UnitTable, defect) -> tuple[UnitMention, ...]:  # type: ignore[no-untyped-def]
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
    return tuple(mentions)
