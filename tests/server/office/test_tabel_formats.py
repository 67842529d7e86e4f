"""The registers as files, through the API, the CLI and the office pages: XLSX read back (headers, print
titles, A4 landscape, money as numbers with the ₽ format), PDF, CSV, JSON; exports recorded; garbage months,
classes and formats refused in Russian (400 / exit 2), never a 500."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from pos.cli import main
from server.models import ReportExport
from server.reports import monthly, tabel
from server.reports.common import MONEY_FORMAT
from tests.server.kit import make_admin
from tests.server.office.tabel_kit import MONTH, SCHOOL, build


def tabel_1a(engine: Engine) -> tabel.Tabel:
    build(engine)
    with engine.connect() as conn:
        return tabel.build(conn, SCHOOL, MONTH, class_id="1а")


def test_xlsx_reads_back_with_headers_numbers_and_print_setup(engine: Engine) -> None:
    book = load_workbook(io.BytesIO(tabel.to_xlsx(tabel_1a(engine))))
    sheet = book["Табель"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Табель учёта питания"
    assert rows[1][0] == "МБОУ «СОШ № 3» г. Назарово" and rows[2][0] == "Класс 1А, декабрь 2026"
    head_at = next(i for i, r in enumerate(rows) if r[0] == "№")
    head = rows[head_at]
    assert head[1] == "Ученик" and head[2] == "01.12" and head[24] == "31.12"  # 23 day columns
    assert head[25:29] == ["Дней", "З", "О", "П"]
    assert head[29:33] == ["0110075660: кол-во", "0110075660: сумма", "01100L3040: кол-во", "01100L3040: сумма"]
    assert sheet.print_title_rows == f"${head_at + 1}:${head_at + 1}"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.page_setup.fitToWidth == 1
    # a2 (Белова Алла): ЗО, ЗО, Н; 2 days, 2 breakfasts + 2 lunches, 0110075660: 4 meals, 242,92 ₽.
    a2 = next(r for r in rows if r[1] == "Белова Алла")
    assert a2[2:5] == ["ЗО", "ЗО", "Н"] and a2[25:29] == [2, 2, 2, 0] and a2[29:31] == [4, 242.92]
    a2_row = next(i for i, r in enumerate(rows) if r[1] == "Белова Алла") + 1
    assert sheet.cell(a2_row, 31).number_format == MONEY_FORMAT
    total = next(r for r in rows if r[1] == "Итого по классу")
    assert total[29:33] == [4, 242.92, 3, 145.74]  # 0110075660 242,92; 01100L3040 97,16 + 48,58
    assert any(str(r[0]).startswith("Классный руководитель") for r in rows if r[0])
    assert any(str(r[0]).startswith("Директор") for r in rows if r[0])


def test_csv_and_json_carry_the_same_figures(engine: Engine) -> None:
    t = tabel_1a(engine)
    text = tabel.to_csv(t)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    a2 = next(r for r in rows if len(r) > 1 and r[1] == "Белова Алла")
    assert a2[2:5] == ["ЗО", "ЗО", "Н"] and a2[29:31] == ["4", "242,92"]
    data = json.loads(json.dumps(tabel.to_json(t)))
    assert data["month"] == "2026-12" and data["class_name"] == "1А"
    ovz = data["groups"][0]
    assert ovz["category"] == "ovz" and ovz["totals"]["free"]["0110075660"] == {"count": 4, "kopecks": 24292}
    assert ovz["students"][0]["cells"]["2026-12-03"] == "Н"


def test_pdf_is_made_from_the_printed_page(engine: Engine) -> None:
    t = tabel_1a(engine)
    html = tabel.to_html(t)
    assert "Класс 1А, декабрь 2026" in html and "Белова Алла" in html and "Классный руководитель" in html
    from server.reports.pdf import to_pdf

    pdf = to_pdf(html)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    # Read back: A4 landscape pages carrying the register's words and sums, not merely a file.
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    first = reader.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (842, 595)
    text = " ".join((page.extract_text() or "") for page in reader.pages)
    for words in ("Табель учёта питания", "Класс 1А, декабрь 2026", "Белова Алла", "242,92", "Директор"):
        assert words in text, words


# --- the API ------------------------------------------------------------------------------------------------

def token(client: FlaskClient, engine: Engine) -> dict[str, str]:
    make_admin(engine)
    answer = client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"}).json
    assert answer is not None
    return {"Authorization": f"Bearer {answer['token']}"}


def test_api_gives_each_format_and_records_the_export(engine: Engine, client: FlaskClient) -> None:
    build(engine)
    auth = token(client, engine)
    got = client.get(f"/api/schools/{SCHOOL}/reports/tabel?month=2026-12&class=1а", headers=auth)
    assert got.status_code == 200 and got.json is not None and got.json["totals"]["free"]["01100L3040"]["count"] == 3
    got = client.get(f"/api/schools/{SCHOOL}/reports/monthly?month=2026-12&format=csv", headers=auth)
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert 'filename="monthly-naz-2026-12.csv"' in got.headers["Content-Disposition"]
    got = client.get(f"/api/schools/{SCHOOL}/reports/milk?month=2026-12&format=xlsx", headers=auth)
    assert got.status_code == 200 and load_workbook(io.BytesIO(got.data))["Молоко"] is not None
    with engine.connect() as conn:
        made = conn.execute(select(ReportExport.kind, ReportExport.format, ReportExport.class_id, ReportExport.made_by)
                            .order_by(ReportExport.id)).all()
    assert [tuple(r) for r in made] == [("tabel", "json", "1а", "admin"), ("monthly", "csv", "", "admin"),
                                        ("milk", "xlsx", "", "admin")]


@pytest.mark.parametrize(("query", "status", "message"), [
    ("tabel?month=2026-13&class=1а", 400, "номер от 1 до 12"),
    ("tabel?month=декабрь&class=1а", 400, "ГГГГ-ММ"),
    ("tabel?class=1а", 400, "укажите месяц"),
    ("tabel?month=2026-12", 400, "укажите класс"),
    ("tabel?month=2026-12&class=9я", 400, "класс «9я» в школе не найден"),
    ("tabel?month=2026-12&class=1а&format=docx", 400, "формат"),
    ("nonsense?month=2026-12", 400, "вид отчёта"),
])
def test_api_refuses_garbage_in_russian(engine: Engine, client: FlaskClient, query: str, status: int,
                                        message: str) -> None:
    build(engine)
    got = client.get(f"/api/schools/{SCHOOL}/reports/{query}", headers=token(client, engine))
    assert got.status_code == status and got.json is not None and message in got.json["message"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ReportExport)).scalar() == 0


# --- the CLI ------------------------------------------------------------------------------------------------

def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["server", "report", *args], env={"CANTEEN_DATABASE_URL": db_url},
                              catch_exceptions=False)


def test_cli_writes_json_to_stdout_and_xlsx_and_pdf_to_files(db_url: str, engine: Engine, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    build(engine)
    done = run(db_url, "monthly", SCHOOL, "--month", "2026-12", "--format", "json")
    assert done.exit_code == 0, done.output
    data: dict[str, Any] = json.loads(done.stdout)
    assert data["totals"]["free"] == {"count": 14, "kopecks": 78100}  # as test_tabel's monthly report
    monkeypatch.chdir(tmp_path)
    done = run(db_url, "tabel", SCHOOL, "--month", "2026-12", "--class", "1а", "--format", "xlsx")
    assert done.exit_code == 0, done.output
    assert load_workbook(tmp_path / "tabel-naz-1_-2026-12.xlsx")["Табель"]["A1"].value == "Табель учёта питания"
    done = run(db_url, "milk", SCHOOL, "--month", "2026-12", "--format", "pdf", "--out", str(tmp_path / "m.pdf"))
    assert done.exit_code == 0 and (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(("args", "code", "message"), [
    (("tabel", SCHOOL, "--month", "2026-12"), 2, "укажите класс"),
    (("tabel", SCHOOL, "--month", "12/2026", "--class", "1а"), 2, "ГГГГ-ММ"),
    (("monthly", SCHOOL, "--month", "2026-12", "--format", "doc"), 2, "формат"),
    (("weekly", SCHOOL, "--month", "2026-12"), 2, "вид отчёта"),
    (("monthly", "nowhere", "--month", "2026-12"), 1, "школа nowhere не найдена"),
])
def test_cli_refuses_bad_arguments_in_russian(db_url: str, engine: Engine, args: tuple[str, ...], code: int,
                                              message: str) -> None:
    build(engine)
    done = run(db_url, *args)
    assert done.exit_code == code and message in done.output


# --- the pages ----------------------------------------------------------------------------------------------

def test_pages_list_show_and_download_and_tell_what_changed(office: Any) -> None:
    from server.office.roles import Role
    from tests.server.office.tabel_kit import d, event, store

    build(office.engine)
    with office.engine.begin() as conn:  # the coordinator of sch1 works in «naz» too
        from sqlalchemy import update

        from server.models import RoleGrant
        conn.execute(update(RoleGrant).where(RoleGrant.role == "coordinator").values(school_id=SCHOOL))
    client = office.client(Role.COORDINATOR)
    page = client.get(f"/office/{SCHOOL}/reports?month=2026-12")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Табель учёта питания" in text and "Отчёт об организации питания за месяц" in text
    page = client.get(f"/office/{SCHOOL}/reports/tabel?month=2026-12&class=1а")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Белова Алла" in text and "ещё не выгружался" in text
    got = client.get(f"/office/{SCHOOL}/reports/tabel/export?month=2026-12&class=1а&format=pdf")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    # A breakfast served to x1 on 04.12 arrives after the export: the page names the change.
    store(office.engine, event(d(4), "x1", "breakfast", free=4858, line="01100L3040", rule="1"))
    text = client.get(f"/office/{SCHOOL}/reports/tabel?month=2026-12&class=1а").get_data(as_text=True)
    assert "С последней выгрузки (" in text and ", coordinator) изменилось:" in text
    assert "Ещё Один, 04.12.2026: было «—», стало «З»" in text
    # 01100L3040 of the class: 145,74 ₽ + 48,58 ₽ = 194,32 ₽
    assert "Итого по классу: бесплатно 01100L3040, ₽: было «145,74 ₽», стало «194,32 ₽»" in text
    for bad in ("month=2026-00&class=1а", "month=2026-12&class=zz"):
        got = client.get(f"/office/{SCHOOL}/reports/tabel?{bad}")
        assert got.status_code == 400 and "Отчёт не составлен" in got.get_data(as_text=True)
    got = client.get(f"/office/{SCHOOL}/reports/tabel/export?month=2026-12&class=1а&format=exe")
    assert got.status_code == 400 and "Формат выгрузки: xlsx, pdf, csv" in got.get_data(as_text=True)


def test_a_teacher_sees_the_own_class_tabel_only(office: Any) -> None:
    from server.office.roles import Role

    client = office.client(Role.TEACHER)  # teacher of 1а in sch1
    assert client.get("/office/sch1/reports/tabel?month=2026-12").status_code == 200
    assert client.get("/office/sch1/reports/tabel?month=2026-12&class=5а").status_code == 403
    assert client.get("/office/sch1/reports/monthly?month=2026-12").status_code == 403
    assert client.get("/office/sch1/reports/milk/export?month=2026-12").status_code == 403


def test_monthly_xlsx_has_budget_lines(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        r = monthly.build(conn, SCHOOL, MONTH)
    rows = [list(x) for x in load_workbook(io.BytesIO(monthly.to_xlsx(r)))["Отчёт"].iter_rows(values_only=True)]
    lines = {(x[0], x[1]): x[-2:] for x in rows if x[0] == "Бесплатное питание"}
    # 0110075660: 7 meals 408,73 ₽; 01100L3040: 7 meals 372,27 ₽ (test_tabel)
    assert lines == {("Бесплатное питание", "0110075660"): [7, 408.73],
                     ("Бесплатное питание", "01100L3040"): [7, 372.27]}


def test_app_fixture_is_used(app: Flask) -> None:
    assert app is not None
