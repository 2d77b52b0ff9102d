"""Documents → typed records. Pure functions, except ``read_plan`` which reads the file.

The parser (jieba-free, but pypinyin and the layout rules: about 0.5 s to import) loads on first
use of ``parse_plan`` / ``read_plan`` / ``read_source``, not on ``import ingest``: commands that only
read a build's records (``policykg search``) must not pay for it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import IngestError
from .records import Plan

if TYPE_CHECKING:
    from .parser import parse_plan
    from .reader import SourceText, read_source
    from .units import UnitTable, load_unit_table

__all__ = ["IngestError", "Plan", "SourceText", "UnitTable", "load_unit_table", "parse_plan", "read_plan",
           "read_source"]

_LAZY = {"parse_plan": ".parser", "SourceText": ".reader", "read_source": ".reader", "UnitTable": ".units",
         "load_unit_table": ".units"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'ingest' has no attribute {name!r}")


def read_plan(path: Path, units: UnitTable | None = None, *, allow_empty: bool = False) -> Plan:
    """Read and parse one plan file (txt in any common encoding, docx, pdf; see ``ingest.readers``).

    A document in which no task is found raises IngestError unless ``allow_empty``."""
    from .parser import parse_plan
    from .reader import read_source

    src = read_source(Path(path))
    return parse_plan(src.text, source=src.source, units=units, sha256=src.sha256, encoding=src.encoding,
                      allow_empty=allow_empty)
