"""The «Загрузка» pages: upload, preview, confirm; bad and hostile files get a Russian answer, never a 500."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from server import tabular
from server.models import Student
from server.office.roles import Role
from tests.server.office.conftest import Office
from tests.server.office.forms import csrf, field
from tests.server.office.test_imports import TABLE, _csv

URL = "/office/sch1/import"


def _upload(client: FlaskClient, data: bytes, name: str, **form: str) -> tuple[int, str]:
    response = client.post(f"{URL}/preview", data={"csrf_token": csrf(client, URL), "file": (io.BytesIO(data), name),
                                                   **form}, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def test_upload_preview_and_confirm_import_the_list(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    assert "Загрузка списка учеников" in client.get(URL).get_data(as_text=True)
    status, page = _upload(client, _csv(TABLE), "ученики.csv")
    assert status == 200 and "заголовки найдены в строке 3" in page
    assert "Новикова Алёна Сергеевна" in page and "без молока" in page
    with office.engine.connect() as conn:
        assert conn.execute(select(Student).where(Student.full_name == "Новикова Алёна Сергеевна")).first() is None
    maps = re.findall(r"<option value=\"(\w*)\" selected>", page)
    assert len(maps) == 6, maps
    response = client.post(f"{URL}/confirm", data={"csrf_token": csrf(client, URL), "token": field(page, "token"),
                                                   "digest": field(page, "digest"), "map": maps})
    assert response.status_code == 200 and "Список загружен" in response.get_data(as_text=True)
    with office.engine.connect() as conn:
        assert conn.execute(select(Student.class_id).where(
            Student.full_name == "Новикова Алёна Сергеевна")).scalar_one() == "5а"
    again = client.post(f"{URL}/confirm", data={"csrf_token": csrf(client, URL), "token": field(page, "token"),
                                                "digest": field(page, "digest"), "map": maps})
    assert again.status_code == 422 and "не найден или устарел" in again.get_data(as_text=True)  # used once


def test_a_changed_select_is_shown_again_before_anything_is_written(office: Office) -> None:
    client = office.client(Role.SCHOOL_ADMIN)
    _status, page = _upload(client, _csv(TABLE), "ученики.csv")
    maps = ["last_name", "first_name", "", "class", "birth_date", "diet_note"]  # Отчество: «не загружать»
    response = client.post(f"{URL}/confirm", data={"csrf_token": csrf(client, URL), "token": field(page, "token"),
                                                   "digest": field(page, "digest"), "map": maps})
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "изменились: проверьте разницу ещё раз" in text
    assert "Новикова Алёна</td>" in text
    with office.engine.connect() as conn:
        assert conn.execute(select(Student).where(Student.full_name.like("Новикова%"))).first() is None


def test_an_upload_of_another_user_cannot_be_previewed_or_confirmed(office: Office) -> None:
    _status, page = _upload(office.client(Role.SCHOOL_ADMIN), _csv(TABLE), "ученики.csv")
    other = office.client(Role.COORDINATOR)
    for step in ("preview", "confirm"):
        response = other.post(f"{URL}/{step}", data={"csrf_token": csrf(other, URL), "token": field(page, "token"),
                                                      "digest": field(page, "digest")})
        assert response.status_code == 422 and "не найден или устарел" in response.get_data(as_text=True)


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 5000 + b"</a>")
    return out.getvalue()


@pytest.mark.parametrize(("data", "name", "says"), [
    (b"", "ученики.csv", "файл пуст"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "ученики.xls", "не читается как книга Excel (XLS)"),
    (b"PK\x03\x04garbage", "ученики.xlsx", "не читается как книга Excel"),
    (b"not a workbook", "ученики.xls", "назван .xls, но это не книга Excel"),
    (b"a;b\n1;2\n", "ученики.csv", "нет заголовков столбцов"),
    (";" * 300 + "\n", "ученики.csv", "больше 256 столбцов"),
    ("student_id;full_name;class\n".encode("utf-16-le"), "ученики.csv", "UTF-16 без метки BOM"),
    (b"\x81\x98\xff\xfe", "ученики.pdf", "не поддерживается"),
], ids=["empty", "broken-xls", "broken-xlsx", "text-named-xls", "no-header", "300-columns", "utf16-no-bom", "pdf"])
def test_bad_and_hostile_files_get_a_russian_answer(office: Office, data: bytes | str, name: str, says: str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    status, page = _upload(office.client(Role.SCHOOL_ADMIN), raw, name)
    assert status == 422 and says in page, page


def test_an_xls_above_its_size_cap_is_refused_unread(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "XLS_MAX_BYTES", 4096)  # the real cap is 8 MB: not for a test's upload
    status, page = _upload(office.client(Role.SCHOOL_ADMIN), b"\xd0\xcf\x11\xe0" + bytes(5000), "ученики.xls")
    assert status == 422 and "файл XLS больше" in page


def test_an_xls_whose_sheet_would_fill_the_memory_is_refused(office: Office) -> None:
    # 6 KB, made with xlwt: «ФИО» in A1 and one cell at the last row and column of BIFF8 (65536 x 256);
    # calamine builds the whole rectangle (1.2 GB): it runs in a child process with a memory limit.
    data = (Path(__file__).parent / "files" / "corner.xls").read_bytes()
    status, page = _upload(office.client(Role.SCHOOL_ADMIN), data, "ученики.xls")
    assert status == 422 and "лист XLS слишком велик для школьного списка" in page


def test_a_zip_bomb_named_xlsx_is_refused_before_it_is_inflated(office: Office,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "XLSX_MAX_SHEET", 4096)  # the real cap is 128 MB: a bomb of 5 KB will do
    status, page = _upload(office.client(Role.SCHOOL_ADMIN), _zip_bomb(), "ученики.xlsx")
    assert status == 422 and "распаковывается в слишком большой объём" in page


def test_forms_without_a_file_or_token_or_with_nonsense_are_refused_in_russian(office: Office) -> None:
    client = office.client(Role.SCHOOL_ADMIN)
    token = csrf(client, URL)
    nothing = client.post(f"{URL}/preview", data={"csrf_token": token})
    assert nothing.status_code == 422 and "выберите файл" in nothing.get_data(as_text=True)
    for form in ({"token": "../../etc/passwd"}, {"token": "x" * 5000, "map": ["<script>"] * 400},
                 {"token": "\x00"}):
        for step in ("preview", "confirm"):
            response = client.post(f"{URL}/{step}", data={"csrf_token": token, **form})
            assert response.status_code == 422 and "не найден или устарел" in response.get_data(as_text=True)
    _status, page = _upload(client, _csv(TABLE), "ученики.csv")
    odd = client.post(f"{URL}/preview", data={"csrf_token": token, "token": field(page, "token"),
                                              "map": ["<script>", "full_name"] * 200})
    text = odd.get_data(as_text=True)
    assert odd.status_code == 200 and "укажите столбец «Класс»" in text and "<script>" not in text


def test_the_upload_form_needs_its_csrf_token(office: Office) -> None:
    response = office.client(Role.SCHOOL_ADMIN).post(f"{URL}/preview", data={"file": (io.BytesIO(b"x"), "a.csv")},
                                                     content_type="multipart/form-data")
    assert response.status_code == 400


def test_a_long_difference_shows_its_first_500_rows_and_counts_the_rest(office: Office) -> None:
    table = [TABLE[2][:5], *([f"Ученик{i:04d}", "Тест", "", "2б", "01.02.2017"] for i in range(520))]
    status, page = _upload(office.client(Role.SCHOOL_ADMIN), _csv(table), "ученики.csv")
    assert status == 200 and "Добавить: <strong>520</strong>" in page
    assert page.count("<td>Тест") == 0 and page.count(">2Б</td>") == 500 and "… и ещё 20" in page
