"""Result formats, registered by name (see :mod:`sparql.formats.registry`); one module per format.

Importing this package registers the built-in formats here, in one place and in the order they are
listed (SPARQL results first), as rdflib registers its built-in plugins in one table; a plugin
elsewhere calls :func:`register` itself.
"""

from __future__ import annotations

from . import rdf, sparql_csv, sparql_json, sparql_tsv, sparql_xml, table
from .registry import (
    FORMAT_ALIASES,
    FORMATS,
    Format,
    accepted,
    choose,
    default_format,
    lookup,
    names_for,
    negotiate,
    register,
    serialize,
    unregister,
)
from .table import display

BUILTIN: tuple[Format, ...] = (
    sparql_json.FORMAT, sparql_xml.FORMAT, sparql_csv.FORMAT, sparql_tsv.FORMAT,
    rdf.TURTLE, rdf.NTRIPLES, rdf.RDFXML, rdf.JSONLD,
    table.FORMAT,
)
for _format in BUILTIN:
    register(_format)

__all__ = [
    "BUILTIN",
    "FORMATS",
    "FORMAT_ALIASES",
    "Format",
    "accepted",
    "choose",
    "default_format",
    "display",
    "lookup",
    "names_for",
    "negotiate",
    "register",
    "serialize",
    "unregister",
]
