"""Canned queries as standard clients see them.

SPARQLWrapper (and clients like it) decide between the query and the update endpoint by sniffing
the first keyword-like word of the text. It removes only every other line of a run of comment
lines, so a word in a comment ("tasks" → ASK, "workload" → LOAD, "copy" → COPY) can decide the
form, and an update form is refused by the read-only endpoint. ``CannedQuery.body`` is the text
given to clients, so that is what must read right.
"""

from __future__ import annotations

import pytest
from SPARQLWrapper import SPARQLWrapper

from sparql.queries import list_queries

QUERIES = list_queries()


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_sparqlwrapper_reads_each_canned_query_as_its_form(query):
    client = SPARQLWrapper("http://127.0.0.1:1/sparql")
    client.setQuery(query.body)
    assert client.queryType == query.form, (
        f"{query.path}: SPARQLWrapper reads this query as {client.queryType}, not {query.form}; "
        "reword the comment whose first word is an update keyword (ADD, COPY, LOAD, …)")


def test_the_sniffing_check_catches_a_comment_that_reads_as_an_update():
    client = SPARQLWrapper("http://127.0.0.1:1/sparql")
    client.setQuery("# one note\n# the tasks counted first\nSELECT ?s WHERE { ?s ?p ?o }")
    assert client.queryType == "ASK"
