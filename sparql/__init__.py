"""SPARQL over a build: checked, time-limited, size-capped, in every result format policykg serves.

One concern per module, in the order a query meets them:

* :mod:`sparql.defaults`  the limits every entry point shares (time limit, row cap, query size, nesting);
* :mod:`sparql.errors`    the error types, each with the HTTP status the endpoint answers with;
* :mod:`sparql.guard`     refusals before anything runs (updates, SERVICE, ``file:``, deep nesting, size);
* :mod:`sparql.search`    ``pk:searchScore``/``pk:searchRank``: search hits joined into the graph;
* :mod:`sparql.run`       one query on an open Oxigraph store in this process;
* :mod:`sparql.workers`   killable read-only worker processes (the only way to stop a runaway query);
* :mod:`sparql.engine`    :class:`~sparql.engine.EmbeddedSparqlEngine`: the above over a store directory;
* :mod:`sparql.remote`    the graph on a SPARQL 1.1 server and :class:`~sparql.remote.RemoteSparqlEngine`;
* :mod:`sparql.protocol`  the :class:`~sparql.protocol.SparqlEngine` protocol both engines satisfy, and
  :func:`~sparql.protocol.engine_for_build`, the one place that picks an engine;
* :mod:`sparql.results`   :class:`~sparql.results.QueryResult`;
* :mod:`sparql.formats`   result formats registered by name and media type (one module per format);
* :mod:`sparql.queries`   the canned queries in ``graph/queries/*.rq``.

The package sits above ``graph`` and ``search`` and below ``policykg`` (CLI, endpoint, app).
"""
