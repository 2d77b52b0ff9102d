"""Errors of the search index; each message says what to do."""

from __future__ import annotations


class SearchIndexError(RuntimeError):
    """The search index cannot be used as asked; the message says what to do."""


class IndexMissingError(SearchIndexError):
    pass


class CorruptIndexError(SearchIndexError):
    pass


class ModelMismatchError(SearchIndexError):
    pass


class StaleIndexError(SearchIndexError):
    pass
