"""Errors of the search index; each message says what to do."""

from __future__ import annotations

from ingest.errors import PolicykgError


class SearchIndexError(PolicykgError, RuntimeError):
    """The search index cannot be used as asked; the message says what to do."""


class IndexMissingError(SearchIndexError):
    pass


class CorruptIndexError(SearchIndexError):
    pass


class ModelMismatchError(SearchIndexError):
    pass


class StaleIndexError(SearchIndexError):
    pass
