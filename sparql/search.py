"""Search inside SPARQL: ``pk:searchScore(?task, "text" [, top])`` and ``pk:searchRank(...)``.

``pk:searchScore`` is the fused search score of ``?task`` when it is among the ``top`` (default 20)
hits of the search for ``text``, unbound otherwise; ``pk:searchRank`` is its 1-based rank.
pyoxigraph custom functions return one term per call and run inside the worker process, so each
search runs once per distinct (text, top) in the parent (which has the search engine loaded) and the
worker only looks scores up. The text must therefore be a string literal in the query. Example::

    SELECT ?task ?score WHERE {
      ?unit rdfs:label "区司法局"@zh ; pk:leads ?task .
      ?task pk:deadline ?d . FILTER(?d < "2024-01-01"^^xsd:date)
      BIND(pk:searchScore(?task, "数据共享", 30) AS ?score) FILTER(BOUND(?score))
    } ORDER BY DESC(?score)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyoxigraph as ox

from graph.namespaces import PK, XSD, task_iri

from .defaults import DEFAULT_SEARCH_TOP
from .errors import EngineError, QuerySyntaxError
from .guard import LEXEME
from .results import Term

SEARCH_SCORE = str(PK.searchScore)
SEARCH_RANK = str(PK.searchRank)

#: (search text, top) -> {task IRI: (score, rank)}
ScoreMap = dict[tuple[str, int], dict[str, tuple[float, int]]]
#: (search text, top) -> {task IRI: score}; the search engine behind pk:searchScore
Scorer = Callable[[str, int], Mapping[str, float]]

_SEARCH_CALL = re.compile(
    r"(?:\b[A-Za-z][\w\-.]*:|<" + re.escape(str(PK)) + r")search(Score|Rank)>?\s*\(", re.S
)
_SEARCH_ARGS = re.compile(
    r"""\s*(?:[?$]\w+|<[^>]*>|[\w\-]*:[\w\-.]*)\s*,\s*"""
    r"""(?P<lit>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')(?:@[\w\-]+)?"""
    r"""(?:\s*,\s*(?P<top>\d+))?\s*\)""",
    re.S,
)


def unescape(literal: str) -> str:
    """The text of a quoted SPARQL string literal (quotes dropped, ``\\n``, ``\\t``, ``\\r``, ``\\"`` read)."""
    return re.sub(
        r"\\(.)",
        lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)),
        literal[1:-1],
    )


def search_calls(text: str) -> list[tuple[str, int]]:
    """The (search text, top) pairs of every ``pk:searchScore``/``pk:searchRank`` call in ``text``.

    Raises QuerySyntaxError when a call's text is not a string literal, because the worker can only
    look up searches that were run before the query started.
    """
    code = LEXEME.sub(lambda m: " " * len(m.group()) if m.group("comment") else m.group(), text)
    found: list[tuple[str, int]] = []
    for m in _SEARCH_CALL.finditer(code):  # comments are blanked, so documented examples do not run
        args = _SEARCH_ARGS.match(code, m.end())
        if not args:
            raise QuerySyntaxError(
                f'pk:search{m.group(1)} takes (?task, "search text" [, top]) with the text as a string '
                'literal, e.g. pk:searchScore(?task, "数据共享", 20)'
            )
        top = int(args.group("top")) if args.group("top") else DEFAULT_SEARCH_TOP
        pair = (unescape(args.group("lit")), top)
        if pair not in found:
            found.append(pair)
    return found


def run_searches(calls: Iterable[tuple[str, int]], scorer: Scorer | None) -> ScoreMap:
    """Run each (text, top) search once; ranks follow descending score (ties by IRI)."""
    out: ScoreMap = {}
    for q, top in calls:
        if scorer is None:
            raise EngineError("this query calls pk:searchScore/pk:searchRank but no search index is available")
        hits = sorted(scorer(q, top).items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        out[(q, top)] = {iri: (float(s), i + 1) for i, (iri, s) in enumerate(hits)}
    return out


def compute_scores(text: str, scorer: Scorer | None) -> ScoreMap:
    """The searches the query ``text`` asks for, run."""
    return run_searches(search_calls(text), scorer)


def search_functions(scores: ScoreMap) -> dict[ox.NamedNode, Callable[..., Term | None]]:
    """pyoxigraph custom functions for ``pk:searchScore`` and ``pk:searchRank`` over searches already run."""

    def lookup(task: Term, text: Term, top: Term | None = None) -> tuple[float, int] | None:
        if not isinstance(task, ox.NamedNode) or not isinstance(text, ox.Literal):
            return None
        k = DEFAULT_SEARCH_TOP if top is None or not isinstance(top, ox.Literal) else int(float(top.value))
        return scores.get((text.value, k), {}).get(task.value)

    def score(task: Term, text: Term, top: Term | None = None) -> Term | None:
        hit = lookup(task, text, top)
        return None if hit is None else ox.Literal(repr(float(hit[0])), datatype=ox.NamedNode(str(XSD.double)))

    def rank(task: Term, text: Term, top: Term | None = None) -> Term | None:
        hit = lookup(task, text, top)
        return None if hit is None else ox.Literal(str(hit[1]), datatype=ox.NamedNode(str(XSD.integer)))

    return {ox.NamedNode(SEARCH_SCORE): score, ox.NamedNode(SEARCH_RANK): rank}


def scorer_for_build(build: Any) -> Scorer:
    """Adapt ``build.search_engine().scores_for(text, top)`` (keys (plan_id, task position)) to task IRIs.

    The search engine is loaded on first use, so queries without search never pay for it.
    """

    def score(text: str, top: int) -> dict[str, float]:
        hits = build.search_engine().scores_for(text, top)
        return {task_iri(plan_id, pos): float(s) for (plan_id, pos), s in hits.items()}

    return score
