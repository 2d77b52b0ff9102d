"""Documents → typed records. Pure functions, except ``read_plan`` which reads the file."""

from __future__ import annotations

from pathlib import Path

from .errors import IngestError
from .parser import parse_plan
from .reader import SourceText, read_source
from .records import Plan
from .units import UnitTable, load_unit_table

__all__ = ["IngestError", "Plan", "SourceText", "UnitTable", "load_unit_table", "parse_plan", "read_plan",
           "read_source"]


def read_plan(path: Path, units: UnitTable | None = None, *, allow_empty: bool = False) -> Plan:
    """Read and parse one plan file (txt in any common encoding, docx, pdf; see ``ingest.readers``).

    A document in which no task is found raises IngestError unless ``allow_empty``."""
    src = read_source(Path(path))
    return parse_plan(src.text, source=src.source, units=units, sha256=src.sha256, encoding=src.encoding,
                      allow_empty=allow_empty)
