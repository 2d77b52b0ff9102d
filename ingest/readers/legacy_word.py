"""Old binary Word (.doc): refused with advice, since no pure-Python reader gets its text right."""

from __future__ import annotations

from ..errors import IngestError
from . import Reader


def _read(data: bytes, source: str) -> tuple[str, str]:
    raise IngestError("old binary Word (.doc) files are not supported", source=source,
                      hint="save it as .docx or .txt")


READER = Reader("doc", (".doc",), (b"\xd0\xcf\x11\xe0",), _read, priority=30)
