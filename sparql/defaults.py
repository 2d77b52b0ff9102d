"""The limits every SPARQL entry point shares (CLI, endpoint, app, notebooks), stated once.

Each is a default a caller may override; ``policykg.config.Config`` starts from these.
"""

from __future__ import annotations

#: Seconds a query may run before its worker is killed. Ten seconds covers every canned query on a
#: 1,000-plan corpus (slowest 14 s only when unscoped; BENCHMARKS.md) while keeping a runaway cross
#: product from holding a worker for long.
DEFAULT_TIMEOUT = 10.0

#: Rows (triples for CONSTRUCT/DESCRIBE) a result keeps; more is cut and flagged. The Bishan build has
#: about 2,000 triples, so only whole-graph scans reach it.
DEFAULT_LIMIT = 10_000

#: Bytes of query text accepted. The longest canned query is under 3 kB; a megabyte leaves room for
#: generated ``VALUES`` blocks and refuses uploads that are not queries.
DEFAULT_MAX_QUERY_BYTES = 1_000_000

#: Brackets (``{`` ``(`` ``[``) a query may nest, and ``!`` it may chain. Oxigraph's parser recurses
#: per level: 3,000 nested groups or sub-SELECTs, 1,000 nested blank nodes or 12,000 chained ``!``
#: overflow its stack and kill the worker, and 100 nested collections already take 1.2 s to parse.
#: The canned queries nest at most 17 deep (tasks-without-evidence-by-year: a count inside a cut
#: inside sub-SELECTs); 64 is far above any hand-written query and far below those.
MAX_NESTING = 64

#: Hits a ``pk:searchScore(?task, "text")`` call considers when it gives no ``top``.
DEFAULT_SEARCH_TOP = 20

#: Worker processes of the endpoint (the CLI and the app use one): two let a fast query through while
#: a slow one runs, on a two-core machine.
DEFAULT_WORKERS = 2
