"""Any common encoding or document format gives the same plan; garbage gives one clear error."""

from __future__ import annotations

import codecs

import pytest

from ingest import IngestError, read_plan
from ingest.reader import decode_text, read_source


def _same_plan(a, b):
    assert [(t.number, t.text, t.lead_units, t.responsible_units, t.participating_units) for t in a.tasks] == \
           [(t.number, t.text, t.lead_units, t.responsible_units, t.participating_units) for t in b.tasks]
    assert [(s.label, s.title) for s in a.sections] == [(s.label, s.title) for s in b.sections]
    assert a.title == b.title and a.id == b.id


@pytest.mark.parametrize("encoding,bom", [
    ("gb18030", b""), ("gbk", b""), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16-le", b""), ("utf-8", codecs.BOM_UTF8),
])
def test_encodings_give_the_same_plan(tmp_path, plan_file, bishan, unit_table, encoding, bom):
    text = plan_file.read_text(encoding="utf-8")
    copy = tmp_path / "plan.txt"
    copy.write_bytes(bom + text.encode(encoding))
    plan = read_plan(copy, unit_table)
    _same_plan(plan, bishan)
    assert plan.encoding.replace("-le", "").replace("-be", "").replace("gbk", "gb18030") in (
        "gb18030", "utf-16", "utf-8")


def test_docx_with_paragraphs_and_a_table(tmp_path, plan_file, bishan, unit_table):
    import docx

    document = docx.Document()
    for line in plan_file.read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    grid = document.add_table(rows=2, cols=2)
    grid.cell(0, 0).text = "附表"
    grid.cell(0, 1).text = "说明"
    path = tmp_path / "plan.docx"
    document.save(path)
    plan = read_plan(path, unit_table)
    _same_plan(plan, bishan)
    assert plan.encoding == "docx"
    assert "附表\t说明" in plan.closing


def test_gbk_mislabelled_as_utf8_is_still_read_right(tmp_path, plan_file, bishan, unit_table):
    path = tmp_path / "utf8-plan.txt"  # the name claims UTF-8, the bytes are GBK
    path.write_bytes(plan_file.read_text(encoding="utf-8").encode("gbk"))
    _same_plan(read_plan(path, unit_table), bishan)


def test_garbled_text_is_an_error_not_a_graph():
    mojibake = "法治政府建设实施方案，全面推进依法行政".encode().decode("gbk", errors="replace").encode("utf-16-le")
    with pytest.raises(IngestError):
        decode_text(codecs.BOM_UTF16_LE + mojibake, "x.txt")


@pytest.mark.parametrize("payload,message", [
    (b"", "empty"),
    (b"   \n  ", "empty"),
    (bytes(range(256)) * 40, "binary"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "binary"),
    (b"just some ascii text without any chinese", "no Chinese text"),
], ids=["empty", "blank", "bytes", "png", "ascii"])
def test_bad_bytes_give_one_clear_line(tmp_path, payload, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(payload)
    with pytest.raises(IngestError, match=message) as info:
        read_source(path)
    assert "bad.txt" in str(info.value) and "\n" not in str(info.value)


def _pdf_without_text() -> bytes:
    """A valid one-page PDF with nothing but a rectangle: what a scan without OCR looks like to us."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = b"0 0 m 100 100 l S"
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_scanned_pdf_says_ocr_is_needed(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(_pdf_without_text())
    with pytest.raises(IngestError, match=r"no text layer.*OCR"):
        read_source(path)


def test_old_word_files_are_refused_with_advice(tmp_path):
    path = tmp_path / "plan.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(IngestError, match=r"\.docx"):
        read_source(path)


def test_traditional_chinese_is_converted_and_the_original_kept(tmp_path, plan_file, bishan, unit_table):
    from opencc import OpenCC

    traditional = OpenCC("s2t").convert(plan_file.read_text(encoding="utf-8"))
    path = tmp_path / "traditional.txt"
    path.write_text(traditional, encoding="utf-8")
    plan = read_plan(path, unit_table)
    assert plan.script == "traditional"
    assert any(d.kind == "traditional_script" for d in plan.defects)
    assert [(t.number, t.lead_units, t.responsible_units) for t in plan.tasks] == \
           [(t.number, t.lead_units, t.responsible_units) for t in bishan.tasks]
    assert plan.tasks[21].original_text.startswith("22．加強川渝執法協同")
    assert plan.tasks[21].text.startswith("加强川渝执法协同")


def test_big5_bytes_are_decoded(tmp_path, unit_table):
    text = "某區方案（2021—2025年）\n一、總則\n（一）第一節\n1．做好工作。（牽頭單位：區司法局）\n"
    path = tmp_path / "big5.txt"
    path.write_bytes(text.encode("big5"))
    plan = read_plan(path, unit_table)
    assert plan.tasks[0].lead_units == ("区司法局",)
