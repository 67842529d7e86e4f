"""The kitchen's order as files and through the API and the CLI: XLSX read back with openpyxl (headers,
numbers and their formats, print titles, A4), CSV, JSON; garbage dates and formats refused in Russian."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from pos.cli import main
from server.office import kitchen
from tests.server.kit import make_admin
from tests.server.office.kitchen_kit import AFTER_DEADLINE, DAY, L3040, L75660, SCHOOL, TZ, build

SENT = datetime(2026, 12, 3, 12, 0, tzinfo=TZ)


def order(engine: Engine) -> kitchen.KitchenOrder:
    build(engine, sent_at=SENT)
    with engine.connect() as conn:
        return kitchen.kitchen_order(conn, SCHOOL, DAY, AFTER_DEADLINE)


def cells(sheet: Any) -> list[list[Any]]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_xlsx_reads_back_with_headers_numbers_formats_and_print_setup(engine: Engine) -> None:
    book = load_workbook(io.BytesIO(kitchen.to_xlsx(order(engine))))
    sheet = book["Заявка"]
    grid = cells(sheet)
    assert grid[0][0] == "Заявка на питание обучающихся (пищеблок)"
    assert [r[0] for r in grid[1:5]] == ["МБОУ «СОШ № 3»", "на 04.12.2026 (пятница)",
                                         "Срок подачи заявок классов: 03.12.2026 10:00",
                                         "Отправлено на пищеблок: 03.12.2026 12:00, коорд"]
    head = next(i for i, r in enumerate(grid) if r[0] == "Класс")
    assert grid[head][:9] == ["Класс", f"Бесплатно, {L75660}", None, f"Бесплатно, {L3040}", None, "Платно", None,
                              "Всего", None]
    assert grid[head + 1][1:9] == ["кол-во", "сумма"] * 4
    assert sheet.print_title_rows == f"${head + 1}:${head + 2}"  # 1-based rows of the two header lines
    assert int(sheet.page_setup.paperSize) == 9 and sheet.page_setup.fitToWidth == 1
    assert grid[head + 2][0] == "Завтрак: 1 смена, 1 перемена, 08:40–09:00"
    first = grid[head + 3]
    assert first == ["1А", 1, 48.58, 2, 97.16, 0, 0, 3, 145.74]
    money = sheet.cell(head + 4, 3)
    assert money.number_format == kitchen.MONEY_FORMAT and sheet.cell(head + 4, 2).number_format == "0"
    day_total = next(r for r in grid if r[0] == "Итого за день")
    assert day_total == ["Итого за день", 7, 414.35, 3, 170.04, 4, 370.0, 14, 954.39]
    # The amendments, then the counts of now, then the signature line.
    assert any(r[0] == "Изменения после срока подачи заявок" for r in grid)
    late = [r for r in grid if r[1] == "коорд"]
    assert [(r[2], r[3], r[5], r[6], r[7]) for r in late] == [
        ("1А", "Галкина Ася", "снято", "уезжает на соревнования", None),
        ("6В", "Дёмина Дарья", "добавлено", "остаётся на продлёнку", "после отправки")]
    assert late[0][0] == datetime(2026, 12, 3, 11, 0)
    totals = [r for r in grid if r[0] == "Итого за день"]
    assert len(totals) == 2 and totals[1][7:9] == [14, round((95439 - 11000) / 100, 2)]
    assert any(str(r[0]).startswith("Ответственный за питание ____") for r in grid)


def test_xlsx_text_cells_are_never_formulas(engine: Engine) -> None:
    build(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE schools SET name = '=HYPERLINK(\"http://x\")' WHERE id = 'kit'")
        o = kitchen.kitchen_order(conn, SCHOOL, DAY, AFTER_DEADLINE)
    sheet = load_workbook(io.BytesIO(kitchen.to_xlsx(o)))["Заявка"]
    assert sheet.cell(2, 1).value == "'=HYPERLINK(\"http://x\")" and sheet.cell(2, 1).data_type == "s"


def test_csv_has_the_counts_then_the_amendments(engine: Engine) -> None:
    text = kitchen.to_csv(order(engine))
    assert text.startswith("\ufeff")
    counts, amendments = text[1:].split("\r\n\r\n")
    rows = list(csv.reader(io.StringIO(counts), delimiter=";"))
    assert rows[0][:9] == ["Состояние", "Строка", "Приём пищи", "Смена", "Перемена", "Время", "Класс",
                           f"Бесплатно {L75660}: кол-во", f"Бесплатно {L75660}: сумма, ₽"]
    assert ["на срок заявки", "класс", "Завтрак", "1", "1", "08:40–09:00", "1А", "1", "48,58", "2", "97,16", "0",
            "0,00", "0,00", "3", "145,74"] in rows
    assert ["на срок заявки", "класс", "Полдник", "вне расписания", "", "", "2Б", "1", "36,44", "0", "0,00", "0",
            "0,00", "0,00", "1", "36,44"] in rows
    day = [r for r in rows if r[1] == "итого за день"]
    assert [(r[0], r[-2], r[-1]) for r in day] == [("на срок заявки", "14", "954,39"),
                                                   ("сейчас, с изменениями", "14", "844,39")]
    late = list(csv.reader(io.StringIO(amendments), delimiter=";"))
    assert late[0][0] == "Изменения после срока" and len(late) == 3
    assert late[2][1:] == ["03.12.2026 13:00", "коорд", "6В", "Дёмина Дарья", "Полдник", "добавлено",
                           "остаётся на продлёнку", "после отправки"]


def test_json_has_kopecks_and_iso_dates(engine: Engine) -> None:
    data = kitchen.to_json(order(engine))
    assert data["date"] == "2026-12-04" and data["deadline"] == "2026-12-03T10:00:00+07:00" and data["locked"]
    assert data["sent"] == {"at": "2026-12-03T12:00:00+07:00", "by": "коорд"}
    assert data["at_deadline"]["total"] == {"count": 14, "kopecks": 95439}
    assert data["at_deadline"]["lines"][L3040] == {"count": 3, "kopecks": 17004}
    breakfast = data["at_deadline"]["meals"][0]
    assert breakfast["meal"] == "breakfast" and breakfast["breaks"][0]["classes"][1]["class_name"] == "5А"
    assert breakfast["breaks"][0]["classes"][1]["paid"] == {"count": 2, "kopecks": 15000}
    assert [a["after_sent"] for a in data["amendments"]] == [False, True]
    assert data["current"]["total"] == {"count": 14, "kopecks": 84439}
    json.dumps(data)  # JSON-ready as it is


# --- the API -----------------------------------------------------------------------------------------------

def token(client: FlaskClient, engine: Engine) -> dict[str, str]:
    make_admin(engine)
    answer = client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"}).json
    assert answer is not None
    return {"Authorization": f"Bearer {answer['token']}"}


def test_api_gives_json_csv_and_xlsx(app: Flask, engine: Engine, client: FlaskClient) -> None:
    build(engine, sent_at=SENT)
    app.config["CANTEEN_NOW"] = AFTER_DEADLINE
    auth = token(client, engine)
    url = f"/api/schools/{SCHOOL}/kitchen-order"
    got = client.get(f"{url}?date=04.12.2026", headers=auth)
    assert got.status_code == 200 and got.json is not None and got.json["at_deadline"]["total"]["kopecks"] == 95439
    assert client.get(url, headers=auth).json["date"] == "2026-12-04"  # the next school day after 03.12
    got = client.get(f"{url}?date=2026-12-04&format=csv", headers=auth)
    assert got.mimetype == "text/csv" and "954,39" in got.data.decode("utf-8")
    assert 'filename="kitchen-order-kit-2026-12-04.csv"' in got.headers["Content-Disposition"]
    got = client.get(f"{url}?date=2026-12-04&format=xlsx", headers=auth)
    assert got.mimetype == kitchen.XLSX_TYPE and load_workbook(io.BytesIO(got.data))["Заявка"]["A1"].value


@pytest.mark.parametrize(("query", "message"), [
    ("date=завтра", "параметр date: дата: ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, а не «завтра»"),
    ("date=0001-01-01", "год от 2000 до 2100"),
    ("date=2026-02-30", "а не «2026-02-30»"),
    ("date=2026-12-04&format=pdf", "параметр format: json, csv, xlsx"),
])
def test_api_refuses_garbage_in_russian(engine: Engine, client: FlaskClient, query: str, message: str) -> None:
    build(engine)
    got = client.get(f"/api/schools/{SCHOOL}/kitchen-order?{query}", headers=token(client, engine))
    assert got.status_code == 400 and got.json is not None and message in got.json["message"]


def test_api_sends_once_and_refuses_a_day_off(app: Flask, engine: Engine, client: FlaskClient) -> None:
    build(engine, amended=False)
    app.config["CANTEEN_NOW"] = AFTER_DEADLINE
    auth = token(client, engine)
    url = f"/api/schools/{SCHOOL}/kitchen-order/send"
    first = client.post(url, json={"date": "2026-12-04"}, headers=auth)
    assert first.status_code == 200 and first.json is not None and first.json["new"] is True
    again = client.post(url, json={"date": "04.12.2026"}, headers=auth)
    assert again.json is not None and again.json["new"] is False and again.json["sent_at"] == first.json["sent_at"]
    assert "уже была отправлена" in again.json["message"]
    sunday = client.post(url, json={"date": "2026-12-06"}, headers=auth)
    assert sunday.status_code == 422 and "выходной день (воскресенье)" in sunday.json["message"]
    assert client.post(url, json={"date": 5}, headers=auth).status_code == 400
    assert client.post("/api/schools/nope/kitchen-order/send", json={}, headers=auth).status_code == 404


# --- the CLI -----------------------------------------------------------------------------------------------

def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["server", "kitchen-order", *args], env={"CANTEEN_DATABASE_URL": db_url},
                              catch_exceptions=False)


def test_cli_writes_json_and_csv_to_stdout_and_xlsx_to_a_file(db_url: str, engine: Engine, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    build(engine)
    done = run(db_url, SCHOOL, "--date", "2026-12-04", "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["at_deadline"]["total"] == {"count": 14, "kopecks": 95439}
    done = run(db_url, SCHOOL, "--date", "04.12.2026", "--format", "csv")
    assert done.exit_code == 0 and "итого за день" in done.stdout and "954,39" in done.stdout
    monkeypatch.chdir(tmp_path)
    done = run(db_url, SCHOOL, "--date", "2026-12-04", "--format", "xlsx")
    written = tmp_path / "kitchen-order-kit-2026-12-04.xlsx"
    assert done.exit_code == 0 and written.exists() and "Записано" in done.stderr
    assert int(load_workbook(written)["Заявка"].page_setup.paperSize) == 9  # A4
    out = tmp_path / "заявка.xlsx"
    assert run(db_url, SCHOOL, "--date", "2026-12-04", "--format", "xlsx", "--out", str(out)).exit_code == 0
    assert load_workbook(out)["Заявка"]["A1"].value == "Заявка на питание обучающихся (пищеблок)"


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--date", "завтра"), 2, "ОШИБКА: --date: дата: ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, а не «завтра»"),
    (("--date", "2026-12-04", "--format", "pdf"), 2, "ОШИБКА: --format: xlsx, csv или json"),
])
def test_cli_refuses_bad_arguments_in_russian(db_url: str, engine: Engine, args: tuple[str, ...], code: int,
                                              message: str) -> None:
    build(engine)
    done = run(db_url, SCHOOL, *args)
    assert done.exit_code == code and message in done.stderr and "Traceback" not in done.output


def test_cli_says_an_unknown_school(db_url: str, engine: Engine) -> None:
    build(engine)
    done = run(db_url, "nope", "--date", "2026-12-04")
    assert done.exit_code == 1 and "школа nope не найдена" in done.stderr
