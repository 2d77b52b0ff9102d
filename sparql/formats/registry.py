"""The registry of result formats, by name, aliases and media types.

As rdflib registers its result serializers by name, a format is a :class:`Format` that
:func:`register` adds (the built-in ones in ``sparql/formats/__init__.py``); the CLI's ``--format``
choices, the endpoint's content negotiation and the app's downloads all read this registry, so a
format registered once is offered everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import FormatMismatch, UnknownFormat
from ..results import KIND_NAMES, ResultKind

if TYPE_CHECKING:
    from ..results import QueryResult

TABULAR: tuple[ResultKind, ...] = ("select", "ask")
GRAPH: tuple[ResultKind, ...] = ("graph",)


@dataclass(frozen=True)
class Format:
    """A result format: ``name`` for ``--format``/``?format=``, ``media_type`` it is served as,
    the result ``kinds`` it can carry, and the ``writer`` that makes its bytes.

    ``aliases`` are other names for it; ``accepts`` other media types that select it in content
    negotiation (``application/json`` selects SPARQL JSON for a SELECT and JSON-LD for a CONSTRUCT).
    """

    name: str
    media_type: str
    kinds: tuple[ResultKind, ...]
    writer: Callable[[QueryResult], bytes]
    aliases: tuple[str, ...] = ()
    accepts: tuple[str, ...] = ()

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.accepts)

    @property
    def content_type(self) -> str:
        """The Content-Type header: text and JSON types say their charset."""
        text = self.media_type.startswith("text/") or self.media_type.endswith("json")
        return f"{self.media_type}; charset=utf-8" if text else self.media_type


#: Registered formats by name, in registration order.
FORMATS: dict[str, Format] = {}
#: Other names accepted for ``--format``/``?format=`` -> the format's name.
FORMAT_ALIASES: dict[str, str] = {}


def register(fmt: Format) -> Format:
    """Add ``fmt``; a name or alias that is taken raises ValueError (formats never shadow each other)."""
    for name in (fmt.name, *fmt.aliases):
        if name in FORMATS or name in FORMAT_ALIASES:
            raise ValueError(f"result format name {name!r} is already registered")
    FORMATS[fmt.name] = fmt
    FORMAT_ALIASES.update(dict.fromkeys(fmt.aliases, fmt.name))
    return fmt


def unregister(name: str) -> None:
    """Remove the format ``name`` and its aliases (a plugin that is unloaded; tests)."""
    fmt = FORMATS.pop(name)
    for alias in fmt.aliases:
        FORMAT_ALIASES.pop(alias, None)


def names_for(kind: ResultKind) -> list[str]:
    return [n for n, f in FORMATS.items() if kind in f.kinds]


def by_media_type(kind: ResultKind, media_type: str) -> Format | None:
    """The format that serves ``media_type`` for this kind of result, if any."""
    return next((f for f in FORMATS.values() if kind in f.kinds and media_type in f.media_types), None)


def lookup(value: str, kind: ResultKind | None = None) -> Format | None:
    """A format by name, alias or media type (for ``kind`` when given: media types are shared by kinds)."""
    v = value.strip().lower()
    v = FORMAT_ALIASES.get(v, v)
    if v in FORMATS:
        return FORMATS[v]
    if kind is not None and by_media_type(kind, v) is not None:
        return by_media_type(kind, v)
    return next((f for f in FORMATS.values() if v in f.media_types), None)


def default_format(kind: ResultKind) -> str:
    """SPARQL JSON for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE (what the W3C protocol tests expect)."""
    return "turtle" if kind == "graph" else "json"


def choose(kind: ResultKind, fmt: str) -> Format:
    """The format ``fmt`` (name, alias or media type) names for this kind of result.

    A name whose format cannot carry the kind falls back to a sibling sharing a media type with it
    (``json`` for a CONSTRUCT is JSON-LD, ``xml`` is RDF/XML); otherwise :class:`FormatMismatch`.
    """
    found = lookup(fmt, kind)
    if found is None:
        raise UnknownFormat(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if kind in found.kinds:
        return found
    for media in found.media_types:
        sibling = by_media_type(kind, media)
        if sibling is not None:
            return sibling
    raise FormatMismatch(
        f"format {fmt!r} cannot carry a {KIND_NAMES[kind]} result; use one of {', '.join(names_for(kind))}"
    )


def accepted(accept: str) -> list[str]:
    """Media types from an Accept header, best first (stable for equal q; q=0 dropped)."""
    items: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            items.append((-q, i, fields[0].lower()))
    return [m for _, _, m in sorted(items)]


def negotiate(kind: ResultKind, accept: str | None, fmt: str | None = None) -> Format:
    """The format for a result of ``kind``: ``fmt`` (name or media type) wins over ``Accept``.

    An ``Accept`` header with nothing usable falls back to the default (browsers send ``*/*``).
    """
    if fmt:
        return choose(kind, fmt)
    for media in accepted(accept or ""):
        found = by_media_type(kind, media)
        if found is not None:
            return found
    return FORMATS[default_format(kind)]


def serialize(result: QueryResult, fmt: str) -> bytes:
    """``result`` as bytes in the format named ``fmt`` (name or alias, not a sibling: the caller asked for it)."""
    found = lookup(fmt, result.kind)
    if found is None:
        raise UnknownFormat(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if result.kind not in found.kinds:
        raise FormatMismatch(
            f"format {fmt!r} does not fit a {KIND_NAMES[result.kind]} result; "
            f"use one of {', '.join(names_for(result.kind))}"
        )
    return found.writer(result)
