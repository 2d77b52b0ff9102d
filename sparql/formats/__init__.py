"""Result formats, registered by name (see :mod:`sparql.formats.registry`); one module per format.

Importing this package registers the built-in formats, in the order the CLI lists them.
"""

from __future__ import annotations

# registration order is the order formats are listed in (and SPARQL results before RDF)
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

BUILTIN = (sparql_json, sparql_xml, sparql_csv, sparql_tsv, rdf, table)

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
