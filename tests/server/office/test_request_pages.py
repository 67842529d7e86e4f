"""/office/<school>/reports/<kind> for the request's kinds: the page, print view and downloads from the same
build; garbage arguments and a year without a policy are said in Russian (see test_request_kit)."""

from __future__ import annotations

import io
import json

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from server.models import User
from server.office.roles import Grant, Role, Scope
from server.office.users import add_user
from tests.server.office.conftest import Office
from tests.server.office.test_request_kit import nazarovo


def coordinator(office: Office, role: Role = Role.COORDINATOR) -> FlaskClient:
    nazarovo(office.engine)
    with office.engine.begin() as conn:
        uid = add_user(conn, f"naz-{role.value}", password="correct-horse-1", grants=[Grant(role, Scope.SCHOOL, "naz")])
        key = conn.execute(select(User.session_key).where(User.id == uid)).scalar_one()
    client = office.app.test_client()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = key, True
    return client


def test_the_request_page_print_and_downloads(office: Office) -> None:
    client = coordinator(office)
    page = client.get("/office/naz/reports/request?month=2027-03")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "март 2027" in text and "5\u202f976,20 ₽" in text
    assert "протокол от 02.12.2026 № 7" in text and "начальные классы <strong>22</strong>" in text
    printed = client.get("/office/naz/reports/request?month=2027-03&format=print").get_data(as_text=True)
    assert "Руководитель ОУ" in printed and "@page" in printed
    xlsx = client.get("/office/naz/reports/request?month=2027-03&format=xlsx")
    assert xlsx.headers["Content-Disposition"] == 'attachment; filename="request-naz-2027-03.xlsx"'
    assert load_workbook(io.BytesIO(xlsx.data)).active is not None
    assert client.get("/office/naz/reports/request?month=2027-03&format=pdf").data.startswith(b"%PDF")
    assert ";790,86" in client.get("/office/naz/reports/request?month=2027-03&format=csv").get_data(as_text=True)
    got = json.loads(client.get("/office/naz/reports/request?month=2027-03&format=json").data)
    assert got["total_kopecks"] == 1064674


def test_lists_and_schedule_pages_take_their_own_arguments(office: Office) -> None:
    client = coordinator(office, Role.SCHOOL_ADMIN)
    lists = client.get("/office/naz/reports/lists?month=2027-03&day=16.03.2027").get_data(as_text=True)
    assert "Гусев Глеб" in lists and "приказ № 01-04-77 от 15.03.2027" in lists
    one = client.get("/office/naz/reports/lists?month=2027-03&class=1А").get_data(as_text=True)
    assert "Белова Алла" in one and "Жукова Жанна" not in one
    sched = client.get("/office/naz/reports/schedule?month=2027-03&seats=120").get_data(as_text=True)
    assert "120 мест" in sched and "с 09:45 по 10:05 (20 мин)" in sched
    csv = client.get("/office/naz/reports/schedule?month=2027-03&format=csv").get_data(as_text=True)
    assert "К-во посадочных мест в обеденном зале;—" in csv


def test_garbage_arguments_and_missing_policy_answer_in_russian(office: Office) -> None:
    client = coordinator(office)
    bad = client.get("/office/naz/reports/request?month=2027-13")
    assert bad.status_code == 400 and "Месяц: ГГГГ-ММ" in bad.get_data(as_text=True)
    assert client.get("/office/naz/reports/request?month=2027-03&format=docx").status_code == 400
    assert client.get("/office/naz/reports/schedule?seats=много").status_code == 400
    assert client.get("/office/naz/reports/lists?month=2027-03&day=01.04.2027").status_code == 200  # said on the page
    assert client.get("/office/naz/reports/nothing").status_code == 404
    # A year without a policy: the page says so; a download is refused (422) with the same words.
    page = client.get("/office/naz/reports/request?month=2027-09")
    assert page.status_code == 200 and "нет политики питания на 2027/28" in page.get_data(as_text=True)
    download = client.get("/office/naz/reports/request?month=2027-09&format=xlsx")
    assert download.status_code == 422 and "нет политики питания" in download.get_data(as_text=True)
    # Other roles and schools: refused.
    assert office.client(Role.COORDINATOR).get("/office/naz/reports/request").status_code == 403
    assert office.client(Role.CANTEEN).get("/office/sch1/reports/request").status_code == 403
