"""Files no school has: zip bombs, truncated or forged workbooks, strange encodings. Each is refused
with a Russian message before it costs memory, and an import of it writes nothing."""

from __future__ import annotations

import contextlib
import io
import tracemalloc
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from pos.cli import main
from server.importer import ImportFailed, import_file
from server.models import Student, TopUp
from server.tabular import TableError, read_table
from tests.server.kit import school_today, seed_school

ROSTER = [["Код ученика", "ФИО", "Класс"], ["n1", "Белова Вера", "2б"], ["n2", "Гусев Лев", "2б"]]


def workbook(rows: list[list[object]] = ROSTER) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SOUND = workbook()  # made once: openpyxl stamps the time, and the draws depend on the length

MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{REL}"><sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
    "xl/sharedStrings.xml": ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                             '<si><t>student_id</t></si></sst>'),
    "xl/worksheets/sheet1.xml": ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                 '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'),
}


def package(**streamed: Iterable[bytes]) -> bytes:
    """A workbook written by hand, as Excel lays it out (its sheet's first cell is shared string 0);
    the parts named by keyword (sheet, strings, styles) are streamed in, never all in memory."""
    names = {"sheet": "xl/worksheets/sheet1.xml", "strings": "xl/sharedStrings.xml", "styles": "xl/styles.xml"}
    replaced = {names[k]: v for k, v in streamed.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in PARTS.items():
            with archive.open(name, "w", force_zip64=True) as member:
                for part in replaced.get(name, [text.encode()]):
                    member.write(part)
    return out.getvalue()


def huge_text(head: bytes, size: int, tail: bytes) -> Iterator[bytes]:
    yield head
    chunk = b"A" * (1 << 20)
    for _ in range(size >> 20):
        yield chunk
    yield tail


def read_all(data: bytes, name: str = "ученики.xlsx") -> list[tuple[int, list[object]]]:
    _headers, body = read_table(data, name)
    return list(body)


def peak_mib_of(data: bytes) -> tuple[str, float]:
    """The refusal's message and the peak of Python's memory while reading `data`, in MiB."""
    tracemalloc.start()
    try:
        with pytest.raises(TableError) as refused:
            read_all(data)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return str(refused.value), peak


def test_the_handmade_workbook_is_read() -> None:
    headers, body = read_table(package(), "a.xlsx")
    assert (headers, list(body)) == (["student_id"], [])


def test_zip_bomb_in_shared_strings_is_refused_before_inflating() -> None:
    bomb = package(strings=huge_text(b"<sst " + MAIN + b"><si><t>", 300 << 20, b"</t></si></sst>"))
    assert len(bomb) < 2 << 20  # a small upload…
    message, peak = peak_mib_of(bomb)
    assert "распаковывается в слишком большой объём" in message and "sharedStrings" in message
    assert peak < 30  # …that openpyxl alone would have inflated to 300 MB and more


def test_a_huge_cell_inside_an_allowed_sheet_is_refused_while_streaming() -> None:
    sheet = b"<worksheet " + MAIN + b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    bomb = package(sheet=huge_text(sheet, 100 << 20, b"</t></is></c></row></sheetData></worksheet>"))
    message, peak = peak_mib_of(bomb)
    assert "ячейка длиннее 10000 символов" in message
    assert peak < 30


def test_a_cell_over_ten_thousand_characters_is_refused() -> None:
    with pytest.raises(TableError, match="ячейка длиннее 10000 символов"):
        read_all(workbook([["Код ученика", "ФИО", "Класс"], ["n1", "Я" * 10_001, "2б"]]))
    assert len(read_all(workbook([["Код ученика", "ФИО", "Класс"], ["n1", "Я" * 10_000, "2б"]]))) == 1


def test_a_dtd_in_a_workbook_is_refused() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
              b"<sst " + MAIN + b"><si><t>&b;</t></si></sst>")
    with pytest.raises(TableError, match="DTD"):
        read_all(package(strings=[laughs]))


def test_an_oversized_styles_part_is_refused_before_openpyxl_builds_it() -> None:
    styles = [b"<styleSheet " + MAIN + b"><cellXfs>", b"<xf/>" * (1 << 20), b"</cellXfs></styleSheet>"]
    message, peak = peak_mib_of(package(styles=styles))  # 5 MB: openpyxl would take half a gigabyte
    assert "xl/styles.xml" in message and peak < 30


def test_a_forged_row_number_past_excels_last_row_is_refused() -> None:
    sheet = (b"<worksheet " + MAIN + b'><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
             b'<row r="99999999999"><c r="A99999999999" t="inlineStr"><is><t>n1</t></is></c></row>'
             b"</sheetData></worksheet>")
    with pytest.raises(TableError, match="больше 1048576 строк"):
        read_all(package(sheet=[sheet]))


def test_every_truncation_of_a_workbook_is_a_russian_error() -> None:
    data = workbook()
    for cut in range(0, len(data), max(1, len(data) // 80)):
        with pytest.raises(TableError, match=r"[а-я]"):
            read_all(data[:cut])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_damaged_workbook_is_read_or_refused_never_crashes(data: st.DataObject) -> None:
    original = bytearray(SOUND)
    for _ in range(data.draw(st.integers(1, 8))):
        original[data.draw(st.integers(0, len(original) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(TableError):
        read_all(bytes(original))


def test_files_that_are_not_workbooks_get_a_clear_message() -> None:
    with pytest.raises(TableError, match=r"назван \.xlsx, но это не книга Excel"):
        read_all("Код ученика;ФИО\n".encode(), "ученики.xlsx")
    with pytest.raises(TableError, match="старого формата Excel"):
        read_all(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "ученики.xls")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "не таблица")
    with pytest.raises(TableError, match="не читается как книга Excel"):
        read_all(archive.getvalue(), "ученики.xlsx")


def test_a_workbook_named_csv_is_read_as_a_workbook() -> None:
    assert [cells for _, cells in read_all(workbook(), "ученики.csv")] == [ROSTER[1], ROSTER[2]]


def test_utf16_csv_with_a_bom_is_read() -> None:
    text = "Код ученика;ФИО;Класс\r\nn1;Белова Вера;2б\r\n"
    for encoding in ("utf-16", "utf-16-be"):
        data = text.encode(encoding) if encoding == "utf-16" else b"\xfe\xff" + text.encode(encoding)
        headers, body = read_table(data, "ученики.csv")
        assert headers == ["Код ученика", "ФИО", "Класс"]
        assert list(body) == [(2, ["n1", "Белова Вера", "2б"])]


def test_undecodable_or_bomless_utf16_csv_is_an_encoding_error() -> None:
    with pytest.raises(TableError, match="не в кодировке UTF-8, UTF-16 или Windows-1251"):
        read_all("Код ученика;ФИО\nn1;".encode("cp1251") + b"\x98\n", "a.csv")  # neither UTF-8 nor cp1251
    with pytest.raises(TableError, match="UTF-16 без метки BOM"):
        read_all("Код ученика;ФИО;Класс\nn1;Белова Вера;2б\n".encode("utf-16-le"), "a.csv")


def test_a_csv_line_of_a_million_separators_is_refused_before_splitting() -> None:
    with pytest.raises(TableError, match="больше 256 столбцов"):
        read_all(b"a;b\n" + b";" * 1_000_000 + b"\n", "a.csv")


def test_broken_workbook_import_writes_nothing(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn, pytest.raises(ImportFailed) as failed:
        import_file(conn, "sch1", "students", workbook()[:-100], "ученики.xlsx")
    assert failed.value.errors[0].startswith("файл не читается как книга Excel")
    long_cell = workbook([["Код ученика", "Сумма", "Дата платежа", "Номер платежа"],
                          ["s5", 100, school_today().isoformat(), "x" * 20_000]])
    with engine.begin() as conn, pytest.raises(ImportFailed, match="ячейка длиннее 10000 символов"):
        import_file(conn, "sch1", "topups", long_cell, "платежи.xlsx")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Student)).scalar() == 6
        assert conn.execute(select(func.count()).select_from(TopUp)).scalar() == 1  # the seed's


def test_cli_answers_a_hostile_file_in_russian_without_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    runner = CliRunner()

    def canteen(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["server", *args], env={"CANTEEN_DATABASE_URL": url}, catch_exceptions=False)
        return result.exit_code, result.output

    assert canteen("db", "upgrade")[0] == 0
    assert canteen("school", "add", "sch1", "--name", "Школа", "--timezone", "Asia/Krasnoyarsk",
                   "--policy", "nazarovo-2021")[0] == 0
    bomb = tmp_path / "ученики.xlsx"
    bomb.write_bytes(package(strings=huge_text(b"<sst><si><t>", 64 << 20, b"</t></si></sst>")))
    code, output = canteen("import", "sch1", "students", str(bomb))
    assert code == 1 and "Ничего не загружено" in output and "слишком большой объём" in output
    assert "Traceback" not in output
