"""Word .docx: paragraphs in order, tables one row per line (cells tab-separated).

A cell merged across columns is printed once; a cell merged down rows (one lead for several tasks)
repeats its text on every row it covers, which is what python-docx gives, so each row carries it.
A cell's paragraphs are joined with a space (a unit list printed one name a line stays a list).
"""

from __future__ import annotations

import io
import zipfile

from ..errors import IngestError
from . import Reader


def _read(data: bytes, source: str) -> tuple[str, str]:
    try:
        import docx  # python-docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise IngestError("python-docx is not installed", source=source, hint="pip install python-docx") from exc
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError("not a readable .docx file", source=source, hint="save it again as .docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise IngestError(f"not a readable .docx file ({type(exc).__name__})", source=source,
                          hint="open it in Word and save again as .docx") from exc
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, document).text)
        elif tag == "tbl":
            for row in Table(block, document).rows:
                cells: list[str] = []
                previous = None
                for cell in row.cells:
                    if cell._tc is previous:  # merged across columns: one cell
                        continue
                    previous = cell._tc
                    cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
                lines.append("\t".join(cells))
    return "\n".join(lines), "docx"


READER = Reader("docx", (".docx",), (b"PK\x03\x04",), _read, priority=20)
