"""The pages «Заявка» and «Заявки» and the API of a class's order, with the pages' clock fixed
(`CANTEEN_NOW`): the deadline at 09:59 and 10:01 Krasnoyarsk time, the coordinator's amendment with a
reason, refused days, who may see what, and garbage in forms and bodies (never a 500)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import delete, insert, select, update

from server.models import Holiday, MenuPrice, Order, OrderChange, School
from server.office.roles import Role
from tests.server.kit import make_admin
from tests.server.office.conftest import Office

TZ = ZoneInfo("Asia/Krasnoyarsk")
FRI, MON, TUE = date(2026, 12, 4), date(2026, 12, 7), date(2026, 12, 8)
SHEET = "/office/sch1/classes/1а/order"


def at(day: date, hh: int, mm: int) -> str:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).isoformat()


def setup(office: Office, now: str = at(FRI, 9, 59), week_days: str = "1,2,3,4,5") -> None:
    office.app.config["WTF_CSRF_ENABLED"] = False  # CSRF on every office form has its own test
    office.app.config["CANTEEN_NOW"] = now
    with office.engine.begin() as conn:
        conn.execute(update(School).where(School.id == "sch1").values(week_days=week_days))
        conn.execute(delete(Order).where(Order.school_id == "sch1"))
        conn.execute(delete(MenuPrice).where(MenuPrice.school_id == "sch1"))
        conn.execute(insert(MenuPrice), [{"school_id": "sch1", "day": d, "meal": m, "price_kopecks": p, "rev": 0}
                                         for d in (MON, TUE) for m, p in (("breakfast", 7500), ("lunch", 11000))])
        conn.execute(insert(Holiday).values(school_id="sch1", day=TUE, reason="праздник", rev=0))


def ordered(office: Office, day: date) -> set[tuple[str, str]]:
    with office.engine.connect() as conn:
        return set(conn.execute(select(Order.student_id, Order.meal).where(
            Order.school_id == "sch1", Order.day == day)).tuples())


FORM = {"day": "2026-12-07", "student": ["s1", "s2", "s6"], "meal-s1": ["breakfast"],
        "meal-s2": ["breakfast", "lunch"], "absent-s6": "1"}


def test_the_teacher_sees_the_sheet_with_the_deadline_and_submits_it(office: Office) -> None:
    setup(office)
    teacher = office.client(Role.TEACHER)
    page = teacher.get("/office/sch1/order")  # one class: straight to its sheet
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Заявка: класс 1А на 07.12.2026" in text
    assert "Приём заявок до 10:00 04.12.2026 (время школы)" in text and "Иванов Иван" in text
    assert 'name="meal-s1" value="breakfast" checked' in text and "бесплатно" in text
    assert "Заявка не подана" in text and ">Заявка</a>" in text  # the menu item
    done = teacher.post(SHEET, data=FORM)
    assert done.status_code == 303 and done.headers["Location"].endswith("day=2026-12-07")
    assert ordered(office, MON) == {("s1", "breakfast"), ("s2", "breakfast"), ("s2", "lunch")}
    after = teacher.get(done.headers["Location"]).get_data(as_text=True)
    assert "Заявка на 07.12.2026 подана: изменений 4." in after and "Заявка подана: teacher" in after
    assert "Итого:</strong> бесплатно 2, платно 1 на сумму 110,00 ₽; не придут: 1." in after


def test_after_ten_the_sheet_is_locked_for_the_teacher(office: Office) -> None:
    setup(office, at(FRI, 10, 1))
    teacher = office.client(Role.TEACHER)
    page = teacher.get(SHEET + "?day=2026-12-07").get_data(as_text=True)
    assert "Приём заявок на 07.12.2026 закрыт в 10:00 04.12.2026 (время школы)" in page
    assert "Подать заявку" not in page and "disabled" in page
    refused = teacher.post(SHEET, data=FORM)
    assert refused.status_code == 422
    assert "Приём заявок на 07.12.2026 закрыт в 10:00 04.12.2026 (время школы)" in refused.get_data(as_text=True)
    assert ordered(office, MON) == set()


def test_a_six_day_school_orders_monday_until_saturday_ten(office: Office) -> None:
    setup(office, at(FRI, 10, 1), week_days="1,2,3,4,5,6")
    assert office.client(Role.TEACHER).post(SHEET, data=FORM).status_code == 303
    assert ordered(office, MON) == {("s1", "breakfast"), ("s2", "breakfast"), ("s2", "lunch")}


def test_the_coordinator_amends_after_the_deadline_with_a_reason_and_sees_it_in_the_overview(
        office: Office) -> None:
    setup(office)
    office.client(Role.TEACHER).post(SHEET, data=FORM)
    office.app.config["CANTEEN_NOW"] = at(FRI, 10, 1)
    coordinator = office.client(Role.COORDINATOR)
    page = coordinator.get(SHEET + "?day=2026-12-07").get_data(as_text=True)
    assert "Изменение возможно только с указанием причины" in page and "Изменить заявку" in page
    amended = {**FORM, "absent-s6": "", "meal-s6": ["breakfast"]}
    refused = coordinator.post(SHEET, data=amended)
    assert refused.status_code == 422 and "укажите причину изменения" in refused.get_data(as_text=True)
    assert 'name="meal-s6" value="breakfast" checked' in refused.get_data(as_text=True)  # what was ticked is kept
    assert coordinator.post(SHEET, data={**amended, "reason": "пришёл в школу"}).status_code == 303
    assert ("s6", "breakfast") in ordered(office, MON)
    overview = coordinator.get("/office/sch1/orders?day=2026-12-07").get_data(as_text=True)
    assert "подана: teacher" in overview and "пришёл в школу" in overview and "после срока" in overview
    assert "не подана" in overview and "order-overdue" in overview  # 5А, after the deadline
    with office.engine.connect() as conn:
        assert conn.execute(select(OrderChange.actor, OrderChange.late).where(
            OrderChange.reason == "пришёл в школу")).tuples().all() == [("coordinator", True), ("coordinator", True)]


def test_the_overview_highlights_missing_classes_only_from_half_past_nine(office: Office) -> None:
    setup(office, at(FRI, 9, 29))
    coordinator = office.client(Role.COORDINATOR)
    assert 'class="order-overdue"' not in coordinator.get("/office/sch1/orders?day=07.12.2026").get_data(as_text=True)
    office.app.config["CANTEEN_NOW"] = at(FRI, 9, 31)
    page = coordinator.get("/office/sch1/orders?day=07.12.2026").get_data(as_text=True)
    assert "Не подали заявку: 2 кл." in page and ">Заявки</a>" in page and 'class="order-overdue"' in page


def test_past_days_sundays_and_holidays_are_refused_by_the_page(office: Office) -> None:
    setup(office)
    teacher = office.client(Role.TEACHER)
    for day, reason in (("2026-12-03", "03.12.2026 — прошедший день"), ("2026-12-06", "выходной день (воскресенье)"),
                        ("2026-12-08", "08.12.2026 — не учебный день: праздник")):
        page = teacher.get(f"{SHEET}?day={day}")
        assert page.status_code == 422 and reason in page.get_data(as_text=True)
        posted = teacher.post(SHEET, data={**FORM, "day": day})
        assert posted.status_code == 422 and reason in posted.get_data(as_text=True)
    assert ordered(office, date(2026, 12, 6)) == set() and ordered(office, TUE) == set()


def test_only_the_class_teacher_of_the_class_and_the_school_staff_see_it(office: Office) -> None:
    setup(office)
    assert office.client(Role.TEACHER).get("/office/sch1/classes/5а/order").status_code == 403
    assert office.client(Role.TEACHER).post("/office/sch1/classes/5а/order", data=FORM).status_code == 403
    assert office.client(Role.PARENT).get(SHEET).status_code == 403
    assert office.client(Role.PARENT).get("/office/sch1/order").status_code == 403
    assert office.client(Role.CANTEEN).get("/office/sch1/orders").status_code == 403
    assert office.client(Role.TEACHER).get("/office/sch1/orders").status_code == 403
    assert office.client(Role.COORDINATOR).get("/office/sch1/classes/9я/order").status_code == 404
    assert office.client(Role.COORDINATOR).get("/office/sch2/classes/1а/order").status_code == 403
    assert ordered(office, MON) == set()


def test_garbage_in_the_form_is_a_russian_page_never_a_500(office: Office) -> None:
    setup(office)
    teacher = office.client(Role.TEACHER)
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("get", {"day": "31.02.2026"}, 400, "ДД.ММ.ГГГГ"),
        ("get", {"day": "0001-01-01"}, 400, "год от 2000 до 2100"),  # no date arithmetic overflows (was a 500)
        ("get", {"day": "31.12.9999"}, 400, "год от 2000 до 2100"),
        ("post", {**FORM, "day": "9999-12-31"}, 422, "год от 2000 до 2100"),
        ("get", {"day": "x\x00"}, 400, "NUL"),
        ("post", {**FORM, "day": "завтра"}, 422, "ДД.ММ.ГГГГ"),
        ("post", {"day": "2026-12-07"}, 422, "В форме нет учеников"),
        ("post", {**FORM, "meal-s1": ["ужин"]}, 422, "Неизвестный приём пищи"),
        ("post", {**FORM, "student": ["s3"]}, 422, "нет в классе 1А"),
        ("post", {**FORM, "student": ["s1\x00"]}, 422, "NUL"),
        ("post", {**FORM, "student": ["x" * 100]}, 422, "Форма заполнена не так"),
    ]
    for method, data, code, text in cases:
        response = (teacher.get(SHEET, query_string=data) if method == "get" else teacher.post(SHEET, data=data))
        assert (response.status_code, text in response.get_data(as_text=True)) == (code, True), (data, text)
    assert ordered(office, MON) == set()
    coordinator = office.client(Role.COORDINATOR)
    for day in ("0001-01-01", "9999-12-31"):
        overview = coordinator.get("/office/sch1/orders", query_string={"day": day})
        assert overview.status_code == 400 and "год от 2000 до 2100" in overview.get_data(as_text=True)
        assert coordinator.get(f"/office/sch1/menu/{day}").status_code == 404
        assert office.app.test_client().get(f"/menu/sch1/{day}").status_code == 404


def test_the_standing_choice_page_saves_and_the_sheet_starts_from_it(office: Office) -> None:
    setup(office)
    teacher = office.client(Role.TEACHER)
    assert "Постоянный выбор платного питания" in teacher.get("/office/sch1/classes/1а/standing").get_data(
        as_text=True)
    saved = teacher.post("/office/sch1/classes/1а/standing", data={"student": ["s1"], "standing-s1": ["1:lunch"]})
    assert saved.status_code == 303
    bad = teacher.post("/office/sch1/classes/1а/standing", data={"student": ["s1"], "standing-s1": ["пн:lunch"]})
    assert bad.status_code == 422 and "Неверная отметка" in bad.get_data(as_text=True)
    page = teacher.get(SHEET + "?day=2026-12-07").get_data(as_text=True)
    assert 'name="meal-s1" value="lunch" checked' in page


def _api(office: Office) -> tuple[FlaskClient, dict[str, str]]:
    make_admin(office.engine)
    client = office.app.test_client()
    token = client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"}).json
    assert token is not None
    return client, {"Authorization": f"Bearer {token['token']}"}


def test_the_api_reads_and_writes_a_class_order_with_the_same_rules(office: Office) -> None:
    setup(office)
    client, auth = _api(office)
    url = "/api/schools/sch1/classes/1а/order"
    got = client.get(url + "?date=2026-12-07", headers=auth)
    assert got.status_code == 200 and got.json is not None
    assert got.json["deadline"] == "2026-12-04T10:00:00+07:00" and got.json["source"] == "defaults"
    assert {s["student_id"]: s["meals"] for s in got.json["students"]}["s1"] == ["breakfast"]
    body = {"date": "2026-12-07", "students": [{"student_id": "s1", "meals": ["breakfast", "lunch"]},
                                               {"student_id": "s6", "absent": True}]}
    put = client.put(url, json=body, headers=auth)
    assert put.status_code == 200 and put.json is not None and put.json["result"]["late"] is False
    assert ordered(office, MON) == {("s1", "breakfast"), ("s1", "lunch")}
    office.app.config["CANTEEN_NOW"] = at(FRI, 10, 1)
    late = client.put(url, json={**body, "students": [{"student_id": "s1", "meals": []}]}, headers=auth)
    assert late.status_code == 422 and "укажите причину изменения" in late.json["message"]  # type: ignore[index]
    late = client.put(url, json={**body, "reason": "заболел", "students": [{"student_id": "s1"}]}, headers=auth)
    assert late.status_code == 200 and late.json["result"]["late"] is True  # type: ignore[index]
    for bad, code, text in ((dict(body, date="2026-12-06"), 422, "выходной день"),
                            (dict(body, date="2026-12-08"), 422, "праздник"),
                            (dict(body, date="2026-12-01"), 422, "прошедший день"),
                            (dict(body, students="все"), 400, "поле students"),
                            (dict(body, students=[{"student_id": "s1", "meals": "завтрак"}]), 400, "meals"),
                            (dict(body, students=[{"student_id": "s1", "absent": "да"}]), 400, "absent"),
                            (dict(body, date="завтра"), 400, "поле date")):
        answer = client.put(url, json=bad, headers=auth)
        assert answer.status_code == code and text in answer.json["message"], (bad, answer.json)  # type: ignore[index]
    assert client.get("/api/schools/sch1/classes/9я/order", headers=auth).status_code == 404
    assert client.get(url + "?date=2026-12-06", headers=auth).status_code == 422
    assert client.get(url).status_code == 401
