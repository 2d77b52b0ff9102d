"""PDF with a text layer: text outside tables line by line, ruled tables one row per line.

pdfplumber finds ruled tables; their rows come out tab-separated in reading order with the page's
other text, and a cell merged down from the row above (None to pdfplumber) is printed 〃 so the
table reader carries it down. A PDF without a text layer (a scan) is refused with the advice to OCR it.
"""

from __future__ import annotations

import io
from typing import Any

from ..errors import IngestError
from ..tables import DITTO
from . import Reader


def _cell(value: str | None) -> str:
    return DITTO if value is None else " ".join(value.split())


def _page_lines(page: Any) -> list[str]:
    tables = page.find_tables()
    outside = page
    for table in tables:
        outside = outside.outside_bbox(table.bbox)
    blocks: list[tuple[float, list[str]]] = []
    text = outside.extract_text() or ""
    words = outside.extract_text_lines() if text.strip() else []
    blocks.extend((line["top"], [line["text"]]) for line in words)
    for table in tables:
        rows = table.extract()
        blocks.append((table.bbox[1], ["\t".join(_cell(c) for c in row) for row in rows]))
    blocks.sort(key=lambda b: b[0])
    return [line for _, lines in blocks for line in lines]


def _read(data: bytes, source: str) -> tuple[str, str]:
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = ["\n".join(_page_lines(page)) for page in pdf.pages]
    except Exception as exc:
        raise IngestError(f"not a readable PDF ({type(exc).__name__})", source=source,
                          hint="check the file or export the plan as .docx or .txt") from exc
    text = "\n".join(pages)
    if not text.strip():
        raise IngestError("the PDF has no text layer (a scan?)", source=source,
                          hint="OCR it first (e.g. ocrmypdf --language chi_sim) or give a .docx/.txt")
    return text, "pdf"


READER = Reader("pdf", (".pdf",), (b"%PDF",), _read, priority=10)
