"""Canned SPARQL queries: one ``.rq`` file each in ``graph/queries/``, read by the CLI, the endpoint,
the app and the notebooks from this one place so they never drift apart.

The files stay beside the ontology they query (``graph/``, where the modules that add vocabulary add
their queries too); this module reads them.

Each file starts with a header of ``# key: value`` comment lines::

    # title_zh: 各单位按角色承担的任务数
    # title_en: Tasks per unit by role
    # description_zh: …
    # description_en: …
    # requires: search        (optional; the query calls pk:searchScore / pk:searchRank)

The body needs no ``PREFIX`` lines: every engine policykg runs declares ``graph.namespaces.PREFIXES``
(pyoxigraph through ``prefixes=``, rdflib through :func:`CannedQuery.text_with_prologue`).

Limiting a query to some plans. Across a corpus of a thousand plans a query that aggregates every
task takes seconds; an analyst usually asks about one district's plan, or a handful. A query marks
where a plan restriction belongs with comment lines inside its groups (subqueries included, since
a restriction outside a subquery does not reach into it)::

    #@plan ?task pk:inPlan ?plan .

As written the line is a comment and the query covers every plan. :meth:`CannedQuery.for_plans`
turns each marker into ``VALUES ?plan { <plan IRI> … } ?task pk:inPlan ?plan .``, so the engine
starts from the plan's own resources. The file stays valid SPARQL either way.

A query that reads corpus-wide totals which cannot be split by plan (``follow-through-by-unit``:
a unit's totals span its government's plans) names another file for its limited form instead::

    # limited: raw/follow-through-by-unit.rq

and :meth:`CannedQuery.for_plans` limits that file (the straightforward version, which must give
the same rows, and is fast over a few plans; or one under ``limited/`` that starts from the
chosen plans' own nodes, when that is faster over many plans) rather than the query as written.

A query may also name its form for a store copied into memory (``policykg serve --in-memory``)::

    # memory: memory/judicial-and-congress-tasks.rq

The two Oxigraph stores cost differently: on disk every index probe is a RocksDB read, so a hash
join of whole scans often wins; in memory a probe is cheap and the same hash join is not.
judicial-and-congress-tasks over 1,000 plans, with one index probe per row instead of a hash join,
took 281 ms in memory where the query as written took 588, and 685 ms on disk where it took 598
(``python -m bench.query_versions --other-form [--in-memory]``; BENCHMARKS.md, "One text per store").

The memory form answers over the whole corpus; limited to plans, either store runs the query's
limited form (or the query as written), which is small either way. It must give the same rows in
the same order as the query, and ``tests/test_aggregates.py`` checks it as it checks the query.
Analysts see and edit the query as written: an engine answering from memory runs the memory form
in its place when it is sent unchanged (:func:`memory_form`), whoever sends it (CLI, app, endpoint).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from graph import namespaces
from graph.namespaces import plan_iri, sparql_prologue
from ingest.errors import PolicykgError

from .guard import query_form

QUERIES_DIR = Path(namespaces.__file__).with_name("queries")

_HEADER = re.compile(r"^#\s*([a-z_]+)\s*:\s*(.*?)\s*$")
_REQUIRED = ("title_zh", "title_en", "description_zh", "description_en")
_PLAN_MARK = re.compile(r"^(?P<indent>[ \t]*)#@plan\b[ \t]*(?P<pattern>.*)$", re.MULTILINE)
_PLAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class QueryFileError(PolicykgError, ValueError):
    """A canned query file lacks its header; raised at load time so a broken file is noticed early."""


class QueryScopeError(PolicykgError, ValueError):
    """A query cannot be limited to the plans asked for (no plan markers, or a malformed plan id)."""


class UnknownPlanError(QueryScopeError):
    """A plan id the build does not have."""


@dataclass(frozen=True)
class CannedQuery:
    name: str  # file stem, e.g. "tasks-per-unit-by-role"
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    text: str  # the query body (header comments included; they are valid SPARQL comments)
    path: Path
    requires: tuple[str, ...] = field(default=())  # e.g. ("search",)
    limited: str | None = None  # the text limited to plans instead of ``text`` (header ``limited:``)
    memory: str | None = None  # the whole-corpus text for a store in memory (header ``memory:``)

    @property
    def form(self) -> str:
        """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside comments and strings."""
        return query_form(self.text)

    @property
    def body(self) -> str:
        """The query without its comment lines (the header, notes, ``#@plan`` markers), for clients.

        Naive clients sniff the query form from the first keyword-like word in the text:
        SPARQLWrapper drops only every other line of a run of comment lines, then reads "tasks" in
        a surviving one as ASK and "workload" as LOAD (an update); send this. Only whole-line
        comments go (no canned query has a multi-line string literal), so the answer is the same.
        """
        lines = self.text.splitlines(keepends=True)
        i = 0
        while i < len(lines) and (not lines[i].strip() or _HEADER.match(lines[i])):
            i += 1
        return "".join(line for line in lines[i:] if not line.lstrip().startswith("#"))

    def text_with_prologue(self) -> str:
        """The query with PREFIX lines, for engines without a ``prefixes=`` argument (rdflib, remote)."""
        return sparql_prologue() + self.text

    @property
    def scopable(self) -> bool:
        """Whether the query has ``#@plan`` markers, i.e. can be limited to some plans."""
        return bool(_PLAN_MARK.search(self.limited or self.text))

    def for_plans(self, plan_ids: Sequence[str], known: Collection[str] | None = None, *,
                  in_memory: bool = False) -> str:
        """The query limited to the plans with these ids (no ids: the query as written, every plan).

        ``known``: the build's plan ids; an id not among them raises :class:`UnknownPlanError`
        (naming the closest ids) instead of giving an empty answer. ``in_memory``: the store answering
        is a copy in memory, so over every plan the query's memory form runs, if it has one.
        """
        if not plan_ids:
            return self.memory if in_memory and self.memory else self.text
        if not self.scopable:
            raise QueryScopeError(f"the canned query {self.name} covers the whole corpus and cannot be "
                                  "limited to a plan")
        if known is not None:
            unknown = [p for p in plan_ids if p not in known]
            if unknown:
                close = difflib.get_close_matches(unknown[0], list(known), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else "; `policykg stats --json` lists them"
                raise UnknownPlanError(f"no plan {unknown[0]!r} in this build{hint}")
        bad = [p for p in plan_ids if not _PLAN_ID.match(p)]
        if bad:
            raise QueryScopeError(f"{bad[0]!r} is not a plan id (`policykg stats --json` lists them)")
        values = "VALUES ?plan { " + " ".join(f"<{plan_iri(p)}>" for p in dict.fromkeys(plan_ids)) + " }"
        return _PLAN_MARK.sub(lambda m: f"{m['indent']}{values} {m['pattern']}", self.limited or self.text)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "description_zh": self.description_zh,
            "description_en": self.description_en,
            "form": self.form,
            "requires": list(self.requires),
            "scopable": self.scopable,
            "query": self.text,
        }


def parse_query_file(path: Path) -> CannedQuery:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _HEADER.match(line)
        if not m:
            break
        meta[m.group(1)] = m.group(2)
    missing = [k for k in _REQUIRED if not meta.get(k)]
    if missing:
        raise QueryFileError(f"{path.name}: header lacks {', '.join(missing)} (see sparql/queries.py)")
    if text.count("#@plan") != len(_PLAN_MARK.findall(text)):
        raise QueryFileError(f"{path.name}: a #@plan marker must start its own line (see sparql/queries.py)")
    requires = tuple(r.strip() for r in meta.get("requires", "").split(",") if r.strip())
    limited = _other_form(path, meta, "limited",
                          lambda form: None if _PLAN_MARK.search(form) else "has no #@plan markers")
    form_of_query = query_form(text)
    memory = _other_form(path, meta, "memory",
                         lambda form: None if query_form(form) == form_of_query
                         else f"is a {query_form(form)}, the query a {form_of_query}")
    return CannedQuery(
        name=path.stem,
        title_zh=meta["title_zh"],
        title_en=meta["title_en"],
        description_zh=meta["description_zh"],
        description_en=meta["description_en"],
        text=text,
        path=path,
        requires=requires,
        limited=limited,
        memory=memory,
    )


def _other_form(path: Path, meta: dict[str, str], key: str, problem: Callable[[str], str | None]) -> str | None:
    """The text of the file that the header ``key:`` names (relative to ``path``), or None without
    that header; a missing file, or one ``problem`` finds fault with, is a :class:`QueryFileError`."""
    name = meta.get(key)
    if not name:
        return None
    other = path.parent / name
    form = other.read_text(encoding="utf-8") if other.is_file() else None
    fault = "is not a file" if form is None else problem(form)
    if fault or form is None:
        raise QueryFileError(f"{path.name}: its {key} form {name} {fault} (see sparql/queries.py)")
    return form


@lru_cache(maxsize=4)
def _load(directory: Path) -> tuple[CannedQuery, ...]:
    return tuple(parse_query_file(p) for p in sorted(directory.glob("*.rq")))


def list_queries(directory: Path | None = None) -> list[CannedQuery]:
    """All canned queries, sorted by name."""
    return list(_load(directory or QUERIES_DIR))


def get_query(name: str, directory: Path | None = None) -> CannedQuery:
    """The canned query ``name`` (file stem; a trailing ``.rq`` is accepted). KeyError lists the names."""
    stem = name.removesuffix(".rq")
    for q in _load(directory or QUERIES_DIR):
        if q.name == stem:
            return q
    names = ", ".join(q.name for q in _load(directory or QUERIES_DIR))
    raise KeyError(f"no canned query named {name!r}; known: {names}")


@lru_cache(maxsize=4)
def _memory_forms(directory: Path) -> dict[str, str]:
    return {q.text.strip(): q.memory for q in _load(directory) if q.memory}


def memory_form(text: str, directory: Path | None = None) -> str:
    """The memory form of ``text`` if it is a canned query as written (surrounding whitespace aside)
    that has one; otherwise ``text`` itself. Any edit, or a query limited to plans, runs as sent."""
    return _memory_forms(directory or QUERIES_DIR).get(text.strip(), text)
