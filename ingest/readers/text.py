"""Plain text in any encoding a government website serves: UTF-8 with or without BOM, GB18030/GBK,
UTF-16 with or without BOM, Big5. The fallback reader for any file no other reader claims.

The encoding is detected, then the decoded text is checked for being plausible Chinese: a wrong
guess produces mojibake, and mojibake must be an error, not a graph.
"""

from __future__ import annotations

import codecs

from ..errors import IngestError
from . import Reader


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
        from ..script import to_simplified

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


def _read(data: bytes, source: str) -> tuple[str, str]:
    return decode_text(data, source)


READER = Reader("text", (".txt", ".text", ".md", ".csv", ".tsv"), (), _read, priority=90)
