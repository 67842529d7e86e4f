"""«Платежи»: a bank register uploaded, previewed row by row, applied; conflicts listed and resolved on the
page; bad files and forged forms get a Russian answer, never a 500."""

from __future__ import annotations

import io
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from server.models import PaymentConflict, Student
from server.office.roles import Role
from tests.server.kit import school_today
from tests.server.office.conftest import Office
from tests.server.office.forms import csrf, field
from tests.server.office.test_payments import sber

URL = "/office/sch1/payments"


def _balance(office: Office, student: str) -> int:
    with office.engine.connect() as conn:
        return int(conn.execute(select(Student.balance_kopecks).where(
            Student.school_id == "sch1", Student.id == student)).scalar_one())


def _upload(client: FlaskClient, data: bytes, name: str) -> tuple[int, str]:
    response = client.post(f"{URL}/preview", data={"csrf_token": csrf(client, URL), "file": (io.BytesIO(data), name),
                                                   "format": "auto"}, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def test_upload_preview_apply_and_resolve(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    page = client.get(URL).get_data(as_text=True)
    assert "Платежи из банка" in page and "Реестров ещё не загружали" in page
    day = school_today() - timedelta(days=1)
    data = sber([("7001", "s1", "150.00"), ("7002", "nobody", "99.99"), ("7003", "s2", "12,345")], day)
    status, page = _upload(client, data, "7701234567_40703810000000000001_001_1226.txt")
    assert status == 200 and "Зачислить: <strong>1</strong> на <strong>150,00 ₽</strong>" in page
    assert "лицевого счёта «nobody» нет в школе" in page and "больше двух знаков" in page
    before = _balance(office, "s1")
    response = client.post(f"{URL}/apply", data={"csrf_token": csrf(client, URL), "token": field(page, "token"),
                                                 "digest": field(page, "digest"), "format": "sber"})
    result = response.get_data(as_text=True)
    assert response.status_code == 200 and "зачислено платежей 1 на 150,00 ₽" in result
    assert _balance(office, "s1") == before + 15000
    again = client.post(f"{URL}/apply", data={"csrf_token": csrf(client, URL), "token": field(page, "token"),
                                              "digest": field(page, "digest"), "format": "sber"})
    assert again.status_code == 422 and "не найден или устарел" in again.get_data(as_text=True)
    assert _balance(office, "s1") == before + 15000
    page = client.get(URL).get_data(as_text=True)
    assert "Конфликты: не разобрано 2" in page and "nobody" in page
    report = client.get(f"{URL}?import=1").get_data(as_text=True)
    assert "Реестр № 1" in report and "неизвестный лицевой счёт" in report
    with office.engine.connect() as conn:
        ids = dict(conn.execute(select(PaymentConflict.account, PaymentConflict.id)).tuples().all())
    s4 = _balance(office, "s4")
    done = client.post(f"{URL}/resolve", data={"csrf_token": csrf(client, URL), "conflict": ids["nobody"],
                                               "action": "assign", "student": "s4"})
    assert done.status_code == 303 and _balance(office, "s4") == s4 + 9999
    assert "Платёж 99,99 ₽ зачислен." in client.get(URL).get_data(as_text=True)
    refused = client.post(f"{URL}/resolve", data={"csrf_token": csrf(client, URL), "conflict": ids["s2"],
                                                  "action": "assign", "student": "s2"})
    assert refused.status_code == 422 and "только отклонить" in refused.get_data(as_text=True)
    dismissed = client.post(f"{URL}/resolve", data={"csrf_token": csrf(client, URL), "conflict": ids["s2"],
                                                    "action": "dismiss", "reason": "сумма с ошибкой, банк вернёт"})
    assert dismissed.status_code == 303
    assert "Все платежи разобраны" in client.get(URL).get_data(as_text=True)


def test_bad_files_and_forged_forms_get_a_russian_answer(office: Office) -> None:
    client = office.client(Role.SCHOOL_ADMIN)
    day = school_today()
    cases = [(sber([("1", "s1", "10.00")], day, "=1;11.00"), "r.txt", "не равна сумме строк"),
             (b"\x00\xff" * 500, "r.txt", "двоичный"), (b"", "r.txt", "пуст"),
             (b"PK\x03\x04junk", "r.xlsx", "Excel")]
    for data, name, message in cases:
        status, page = _upload(client, data, name)
        assert status == 422 and message in page, (name, page[-2000:])
    token = csrf(client, URL)
    for form, message in (({"token": "forged-token-forged-token"}, "не найден или устарел"),
                          ({"conflict": "12; drop", "action": "assign", "student": "s1"}, "нет"),
                          ({"conflict": "1", "action": "explode"}, "зачислить ученику или отклонить")):
        path = "apply" if "token" in form else "resolve"
        response = client.post(f"{URL}/{path}", data={"csrf_token": token, **form})
        assert response.status_code in (404, 422) and message in response.get_data(as_text=True)
    for forged in ("abc", "99999999999999999999", "0", "١٢"):
        assert client.get(f"{URL}?import={forged}").status_code == 404
    huge = client.post(f"{URL}/resolve", data={"csrf_token": token, "conflict": "99999999999999999999",
                                               "action": "dismiss", "reason": "x"})
    assert huge.status_code == 404 or huge.status_code == 422
    no_csrf = client.post(f"{URL}/resolve", data={"conflict": "1", "action": "dismiss", "reason": "x"})
    assert no_csrf.status_code in (400, 403)


def test_another_schools_upload_is_not_reachable(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    day = school_today()
    status, page = _upload(client, sber([("1", "s1", "10.00")], day), "r.txt")
    assert status == 200
    other = client.post("/office/sch2/payments/apply", data={"csrf_token": csrf(client, URL),
                                                             "token": field(page, "token"),
                                                             "digest": field(page, "digest")})
    assert other.status_code == 403
