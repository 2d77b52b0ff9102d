"""Bytes → text. The only module in ``ingest`` that touches the file system.

Plans arrive as whatever a government website offers: UTF-8 with or without BOM, GB18030/GBK,
UTF-16, Big5, Word files, PDFs. The encoding is detected, then the decoded text is checked for being
plausible Chinese: a wrong guess produces mojibake, and mojibake must be an error, not a graph.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import IngestError

MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class SourceText:
    text: str
    source: str  # file name
    encoding: str  # "utf-8", "gb18030", "utf-16", "docx", "pdf" …
    sha256: str


def _is_common_hanzi(ch: str) -> bool:
    """GB2312 level-1 characters: the 3,755 most common hanzi, which real prose is made of."""
    try:
        b = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xB0 <= b[0] <= 0xD7


def plausibility(text: str) -> tuple[int, float]:
    """(number of CJK characters, share of them that are common): mojibake scores low."""
    hanzi = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not hanzi:
        return 0, 0.0
    sample = hanzi[:20000]
    common = sum(map(_is_common_hanzi, sample)) / len(sample)
    if common < 0.6:
        # Traditional text is made of common characters too, once converted
        from .script import to_simplified

        converted = to_simplified("".join(sample))
        common = max(common, sum(map(_is_common_hanzi, converted)) / max(1, len(converted)))
    return len(hanzi), common


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text[:20000] if (ord(ch) < 32 and ch not in "\n\r\t\f") or ch == "\ufffd")
    return bad / min(len(text), 20000)


def _looks_right(text: str) -> bool:
    n, share = plausibility(text)
    return n > 0 and share >= 0.6 and _control_share(text) < 0.01


def decode_text(data: bytes, source: str = "") -> tuple[str, str]:
    """Decode plan bytes; returns (text, encoding) or raises IngestError naming what is wrong."""
    if not data.strip():
        raise IngestError("the file is empty", source=source, hint="give a plan document with text")
    boms = [
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ]
    candidates: list[str] = [enc for bom, enc in boms if data.startswith(bom)][:1]
    if not candidates:
        # UTF-16 without BOM: every other byte is NUL for the ASCII part, rarely for hanzi
        even_nul = data[0::2].count(0) / max(1, len(data) // 2)
        odd_nul = data[1::2].count(0) / max(1, len(data) // 2)
        if max(even_nul, odd_nul) > 0.002 and len(data) % 2 == 0:
            candidates += ["utf-16-be", "utf-16-le"] if even_nul > odd_nul else ["utf-16-le", "utf-16-be"]
        candidates += ["utf-8", "gb18030", "big5"]
    tried: list[str] = []
    for enc in candidates:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            tried.append(enc)
            continue
        if _looks_right(text):
            return text.lstrip("\ufeff"), enc.replace("-sig", "")
        tried.append(enc)
    if b"\x00" in data[:4096]:
        raise IngestError("this is a binary file, not a text plan", source=source,
                          hint="give a .txt, .docx or .pdf with a text layer")
    n, _share = plausibility(data.decode("utf-8", errors="replace"))
    if n == 0:
        raise IngestError("no Chinese text found in any of " + ", ".join(tried), source=source,
                          hint="policykg reads Chinese plans; check the file")
    raise IngestError(
        f"could not decode the file as Chinese text (tried {', '.join(tried)}); decoding gives garbled characters",
        source=source,
        hint="save it as UTF-8 and try again",
    )


def _docx_text(data: bytes, source: str) -> str:
    try:
        import docx  # python-docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise IngestError("python-docx is not installed", source=source, hint="pip install python-docx") from exc
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
                for cell in row.cells:
                    if cell.text not in cells:  # merged cells repeat their text
                        cells.append(cell.text)
                lines.append("\t".join(cells))
    return "\n".join(lines)


def _pdf_text(data: bytes, source: str) -> str:
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [page.extract_text() or "" for page in pdf.pages]
    except Exception as exc:
        raise IngestError(f"not a readable PDF ({type(exc).__name__})", source=source,
                          hint="check the file or export the plan as .docx or .txt") from exc
    text = "\n".join(pages)
    if not text.strip():
        raise IngestError("the PDF has no text layer (a scan?)", source=source,
                          hint="OCR it first (e.g. ocrmypdf --language chi_sim) or give a .docx/.txt")
    return text


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
    suffix = path.suffix.lower()
    if data.startswith(b"%PDF") or suffix == ".pdf":
        return SourceText(_pdf_text(data, source), source, "pdf", digest)
    if data.startswith(b"PK\x03\x04") or suffix == ".docx":
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise IngestError("not a readable .docx file", source=source, hint="save it again as .docx")
        return SourceText(_docx_text(data, source), source, "docx", digest)
    if suffix == ".doc" or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError("old binary Word (.doc) files are not supported", source=source,
                          hint="save it as .docx or .txt")
    text, encoding = decode_text(data, source)
    return SourceText(text, source, encoding, digest)
