"""Input formats by name: each module of this package defines one ``READER``; adding a format is
adding one file here (found by ``pkgutil``, no list to edit).

A reader turns a file's bytes into plan text. Tables come out one row per line with cells
separated by a tab and merged cells printed 〃 (``ingest.tables`` reads them), so every format
feeds the same parser.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Reader:
    name: str  # also the SourceText.encoding label for binary formats ("docx", "pdf")
    suffixes: tuple[str, ...]  # file name endings it claims, lower case, with the dot
    magic: tuple[bytes, ...]  # leading bytes it claims, whatever the file is called
    read: Callable[[bytes, str], tuple[str, str]]  # (data, source) → (text, encoding)
    priority: int = 50  # lower is tried first when several claim a file; the text reader is the fallback


@lru_cache(maxsize=1)
def readers() -> tuple[Reader, ...]:
    """Every reader of this package, by priority."""
    found: list[Reader] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        reader = getattr(module, "READER", None)
        if isinstance(reader, Reader):
            found.append(reader)
    return tuple(sorted(found, key=lambda r: (r.priority, r.name)))


def reader_for(suffix: str, data: bytes) -> Reader:
    """The reader for a file: by its leading bytes first, then by its suffix, else plain text."""
    ordered = readers()
    for reader in ordered:
        if any(data.startswith(m) for m in reader.magic):
            return reader
    for reader in ordered:
        if suffix.lower() in reader.suffixes:
            return reader
    return next(r for r in ordered if r.name == "text")
