"""Refuse, before anything runs, what a read-only, self-contained endpoint must not do, saying why.

The worker's store is read-only anyway; these checks exist so that the user learns *why* (instead of
a parser error about an unexpected ``INSERT``), and so that a query that would crash the parser (a
few thousand nested groups overflow Oxigraph's stack) is refused with 400 rather than killing a
worker and answering 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from graph.namespaces import ID, PREFIXES

from .defaults import DEFAULT_MAX_QUERY_BYTES, MAX_NESTING
from .errors import QueryRefused, QuerySyntaxError, QueryTooLarge

#: Long strings, strings, IRIs and comments: the parts of a query whose text is not SPARQL syntax.
LEXEME = re.compile(
    r'''(?P<long>"""(?:[^"\\]|\\.|"(?!""))*"""|'\'\''(?:[^'\\]|\\.|'(?!''))*'\'\'')'''
    r"""|(?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"""|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)"""
    r"""|(?P<comment>\#[^\n]*)""",
    re.S,
)
_UPDATE_WORDS = re.compile(
    r"(?<![\w?$:.\-])(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY)(?![\w:\-])", re.I
)
_SERVICE_WORD = re.compile(r"(?<![\w?$:.\-])SERVICE(?![\w:\-])", re.I)
_FROM_IRI = re.compile(r"(?<![\w?$:.\-])FROM\s+(?:NAMED\s+)?<>", re.I)
_FORM = re.compile(r"(?<![\w?$:.\-])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:\-])", re.I)
_BANGS = re.compile(r"(?:!\s*)+")
_OPEN, _CLOSE = "{([", "})]"


def lex(text: str) -> tuple[str, list[str]]:
    """The query with strings and comments blanked and IRIs replaced by ``<>``, and the IRIs."""
    iris: list[str] = []

    def repl(m: re.Match[str]) -> str:
        if m.group("iri") is not None:
            iris.append(m.group("iri")[1:-1])
            return "<>"
        if m.group("comment") is not None:
            return " "
        return '""'

    return LEXEME.sub(repl, text), iris


def nesting(code: str) -> int:
    """How deep brackets nest in lexed ``code`` (see :func:`lex`), counting a run of ``!`` as one level each.

    Unbalanced brackets are left to the parser: this only measures.
    """
    depth = deepest = 0
    for ch in code:
        if ch in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    bangs = max((m.group().count("!") for m in _BANGS.finditer(code)), default=0)
    return max(deepest, bangs)


def check_query(text: str, *, max_bytes: int = DEFAULT_MAX_QUERY_BYTES, max_nesting: int = MAX_NESTING) -> None:
    """Raise :class:`QueryTooLarge`, :class:`QuerySyntaxError` or :class:`QueryRefused` with the reason."""
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise QueryTooLarge(f"query is {size:,} bytes; the limit is {max_bytes:,} bytes")
    if not text.strip():
        raise QuerySyntaxError("empty query")
    code, iris = lex(text)
    depth = nesting(code)
    if depth > max_nesting:
        raise QuerySyntaxError(
            f"query nests {depth:,} levels deep (brackets or chained '!'); the limit is {max_nesting} "
            "(write the pattern flat: nested groups { } of one pattern mean the same as one group)"
        )
    m = _UPDATE_WORDS.search(code)
    if m:
        raise QueryRefused(
            f"{m.group(1).upper()} is a SPARQL Update operation; the policykg graph is read-only "
            "(use SELECT, ASK, CONSTRUCT or DESCRIBE)"
        )
    if _SERVICE_WORD.search(code):
        raise QueryRefused("SERVICE (federated query) is not allowed: policykg only queries its own graph")
    for iri in iris:
        if iri.lower().startswith("file:"):
            raise QueryRefused(f"file: IRIs are not allowed (<{iri}>): policykg never reads local files")
    for m in _FROM_IRI.finditer(code):
        iri = iris[code.count("<>", 0, m.end()) - 1]
        if not iri.startswith(str(ID)):
            raise QueryRefused(
                f"FROM <{iri}> names a graph on another host; policykg never fetches graphs "
                "and answers from its own store only (drop the FROM clause)"
            )


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside strings, IRIs and comments."""
    m = _FORM.search(lex(text)[0])
    return m.group(1).upper() if m else "SELECT"


_DECLARED = re.compile(r"PREFIX\s+([A-Za-z][\w\-.]*)?:", re.I)
_PNAME = re.compile(r"(?<![\w?$:<])([A-Za-z][\w\-.]*)?:(?=[\w%\\]|\s|[;,.)\]}]|$)")


def explain_syntax_error(text: str, message: str, prefixes: Mapping[str, str] = PREFIXES) -> str:
    """pyoxigraph's parser messages list every expected character class; say what is wrong instead."""
    code, _ = lex(text)
    # an undeclared prefix is the commonest slip, whatever the parser says about it
    declared = set(prefixes) | {m.group(1) or "" for m in _DECLARED.finditer(code)}
    unknown = sorted({m.group(1) or "" for m in _PNAME.finditer(code)} - declared)
    if unknown:
        known = ", ".join(f"{p}:" for p in prefixes)
        return f"syntax error: unknown prefix {unknown[0]}: (declared: {known}; add a PREFIX line)"
    where = ""
    m = re.match(r"error at (\d+):(\d+)", message)
    if m:
        line_no, col = int(m.group(1)), int(m.group(2))
        lines = text.splitlines() or [""]
        if 0 < line_no <= len(lines):
            line = lines[line_no - 1]
            near = line[max(0, col - 21) : col + 20].strip()
            where = f" near {near!r}" if near else ""
    if len(message) > 160:
        message = message[:157] + "..."
    return f"syntax error{where}: {message}"
