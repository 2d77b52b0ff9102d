"""A file → text, through the reader registry (``ingest.readers``). The only module in ``ingest``
that touches the file system: size limit, checksum, then the reader that claims the file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import IngestError
from .readers import reader_for
from .readers.text import decode_text, plausibility

__all__ = ["MAX_BYTES", "SourceText", "decode_text", "plausibility", "read_source"]

MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class SourceText:
    text: str
    source: str  # file name
    encoding: str  # "utf-8", "gb18030", "utf-16", "docx", "pdf" …
    sha256: str


def read_source(path: Path) -> SourceText:
    """Read a plan file of any supported kind into text, with its checksum and encoding."""
    source = path.name
    if not path.exists():
        raise IngestError("file not found", source=str(path), hint="check the path")
    if path.is_dir():
        raise IngestError("is a directory, not a plan file", source=str(path))
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise IngestError(f"file is {size // 1_000_000} MB, over the {MAX_BYTES // 1_000_000} MB limit",
                          source=source, hint="split the document")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    text, encoding = reader_for(path.suffix, data).read(data, source)
    return SourceText(text, source, encoding, digest)
