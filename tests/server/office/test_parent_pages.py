"""The parents' pages with the Flask test client, CSRF on: the letters a coordinator prints, registering with the
printed code, a parent's own child only (a forged child or school is a Russian 403), and every bad input a
Russian 4xx, never a 500."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select

from server.models import Card, Order, Student
from server.office.roles import Role
from tests.server.kit import TZ, school_today
from tests.server.office.conftest import Office

CODE = re.compile(r'<span class="code">([0-9A-Z]{5}-[0-9A-Z]{5})</span>')


def _csrf(client: FlaskClient, url: str = "/parent/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert match is not None
    return match[1]


def _print_letters(office: Office, *students: str, class_id: str = "1а") -> list[str]:
    coordinator = office.client(Role.COORDINATOR)
    url = f"/office/sch1/classes/{class_id}/letters"
    page = coordinator.get(url)
    assert page.status_code == 200 and "Письма родителям" in page.get_data(as_text=True)
    answer = coordinator.post(url, data={"csrf_token": _csrf(coordinator, url), "student": list(students)})
    assert answer.status_code == 200
    return CODE.findall(answer.get_data(as_text=True))


def test_a_parent_registers_with_the_printed_code_and_sees_the_child(office: Office) -> None:
    codes = _print_letters(office, "s2")
    assert len(codes) == 1
    parent = office.app.test_client()
    answer = parent.post("/parent/register", data={
        "csrf_token": _csrf(parent), "code": codes[0], "email": "papa@example.ru", "password": "parent-pass-1",
        "password2": "parent-pass-1"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/parent")
    home = parent.get("/parent").get_data(as_text=True)
    assert "Петрова Анна" in home and "Школа sch1, класс 1А" in home
    child = parent.get("/parent/sch1/s2")
    assert child.status_code == 200 and "EM:0000000002" in child.get_data(as_text=True)
    assert parent.get("/parent/sch1/s1").status_code == 403  # a classmate is not the parent's child
    again = office.app.test_client().post("/parent/register", data={
        "csrf_token": _csrf(office.app.test_client()), "code": codes[0], "email": "x@example.ru",
        "password": "parent-pass-1", "password2": "parent-pass-1"})
    assert again.status_code in {400, 422}


def test_registering_without_csrf_or_with_a_wrong_code_is_a_russian_refusal(office: Office) -> None:
    client = office.app.test_client()
    no_csrf = client.post("/parent/register", data={"code": "x"})
    assert no_csrf.status_code == 400 and "Неверный запрос" in no_csrf.get_data(as_text=True)
    wrong = client.post("/parent/register", data={"csrf_token": _csrf(client), "code": "AAAAA-AAAAA",
                                                  "email": "a@b.ru", "password": "p" * 8, "password2": "p" * 8})
    assert wrong.status_code == 422 and "Код не подходит" in wrong.get_data(as_text=True)
    bad_login = client.post("/parent/login", data={"csrf_token": _csrf(client), "login": "a@b.ru", "password": "x"})
    assert bad_login.status_code == 401 and "Неверный e-mail или пароль" in bad_login.get_data(as_text=True)


def test_a_signed_in_parent_adds_a_second_child_by_code(office: Office) -> None:
    code = _print_letters(office, "s3", class_id="5а")[0]
    parent = office.client(Role.PARENT)  # holds s1
    wrong = parent.post("/parent/link", data={"csrf_token": _csrf(parent, "/parent"), "code": "нет"})
    assert wrong.status_code == 422 and "Код не подходит" in wrong.get_data(as_text=True)
    done = parent.post("/parent/link", data={"csrf_token": _csrf(parent, "/parent"), "code": code})
    assert done.status_code == 303
    home = parent.get("/parent").get_data(as_text=True)
    assert "Иванов Иван" in home and "Сидоров Пётр" in home
    assert parent.get("/parent/sch1/s3").status_code == 200


def test_forged_children_and_schools_and_staff_get_a_russian_403(office: Office) -> None:
    parent = office.client(Role.PARENT)
    for url in ("/parent/sch1/s3", "/parent/sch2/s1", "/parent/sch1/nobody", "/parent/sch1/s3/orders",
                "/parent/nowhere/s1/menu"):
        answer = parent.get(url)
        assert answer.status_code == 403 and "Нет доступа" in answer.get_data(as_text=True), url
    blocked = parent.post("/parent/sch1/s3/card", data={"csrf_token": _csrf(parent, "/parent"),
                                                        "card": "EM:0000000003"})
    assert blocked.status_code == 403
    for role in (Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER):
        assert office.client(role).get("/parent/sch1/s1").status_code == 403
    nul = parent.get("/parent/sch1/s1%00/menu")
    assert nul.status_code in {400, 403} and nul.status_code != 500


def test_a_parent_blocks_the_own_card_but_not_another_childs(office: Office) -> None:
    parent = office.client(Role.PARENT)
    token = _csrf(parent, "/parent/sch1/s1")
    other = parent.post("/parent/sch1/s1/card", data={"csrf_token": token, "card": "EM:0000000002"})
    assert other.status_code == 422 and "У ребёнка нет такой карты" in other.get_data(as_text=True)
    own = parent.post("/parent/sch1/s1/card", data={"csrf_token": token, "card": "EM:0000000001"})
    assert own.status_code == 303
    assert "заблокирована: утеряна" in parent.get("/parent/sch1/s1").get_data(as_text=True)
    with office.engine.connect() as conn:
        assert conn.execute(select(Card.blocked).where(Card.school_id == "sch1", Card.uid == "EM:0000000002")
                            ).scalar_one() is False
    twice = parent.post("/parent/sch1/s1/card", data={"csrf_token": token, "card": "EM:0000000001"})
    assert twice.status_code == 422 and "уже заблокирована" in twice.get_data(as_text=True)


def test_the_daily_limit_form(office: Office) -> None:
    parent = office.client(Role.PARENT)
    token = _csrf(parent, "/parent/sch1/s1")
    bad = parent.post("/parent/sch1/s1/limit", data={"csrf_token": token, "limit": "сто"})
    assert bad.status_code == 422 and "Сумма должна быть в рублях" in bad.get_data(as_text=True)
    assert parent.post("/parent/sch1/s1/limit", data={"csrf_token": token, "limit": "120,5"}).status_code == 303
    assert "Не больше 120,50 ₽ в день" in parent.get("/parent/sch1/s1").get_data(as_text=True)
    with office.engine.connect() as conn:
        assert conn.execute(select(Student.daily_limit_kopecks).where(
            Student.school_id == "sch1", Student.id == "s1")).scalar_one() == 12050


def test_paid_orders_by_the_deadline(office: Office) -> None:
    office.app.config["CANTEEN_NOW"] = datetime.combine(school_today(), time(8, 0), tzinfo=ZoneInfo(TZ)).isoformat()
    tomorrow = (school_today() + timedelta(days=1)).isoformat()
    parent = office.client(Role.PARENT)
    page = parent.get("/parent/sch1/s1/orders").get_data(as_text=True)
    assert f'name="meal-{tomorrow}" value="lunch"' in page and "обед: 110,00 ₽" in page
    token = _csrf(parent, "/parent/sch1/s1/orders")
    done = parent.post("/parent/sch1/s1/orders", data={"csrf_token": token, "day": tomorrow,
                                                       f"meal-{tomorrow}": "lunch"})
    assert done.status_code == 303
    with office.engine.connect() as conn:
        meals = set(conn.execute(select(Order.meal).where(Order.school_id == "sch1", Order.student_id == "s1",
                                                          Order.day == school_today() + timedelta(days=1))).scalars())
    assert meals == {"breakfast", "lunch"}
    late = parent.post("/parent/sch1/s1/orders", data={"csrf_token": token, "day": school_today().isoformat(),
                                                       f"meal-{school_today().isoformat()}": "lunch"})
    assert late.status_code == 422 and "закрыт" in late.get_data(as_text=True)
    broken = parent.post("/parent/sch1/s1/orders", data={"csrf_token": token, "day": "вчера"})
    assert broken.status_code == 422 and "Форма устарела" in broken.get_data(as_text=True)


def test_the_menu_and_the_letters_pages_refuse_bad_input_in_russian(office: Office) -> None:
    parent = office.client(Role.PARENT)
    bad_day = parent.get("/parent/sch1/s1/menu?day=32.13.2026")
    assert bad_day.status_code == 400 and "Дата" in bad_day.get_data(as_text=True)
    assert "Меню на этот день нет" in parent.get("/parent/sch1/s1/menu").get_data(as_text=True)
    coordinator = office.client(Role.COORDINATOR)
    url = "/office/sch1/classes/1а/letters"
    empty = coordinator.post(url, data={"csrf_token": _csrf(coordinator, url)})
    assert empty.status_code == 422 and "Отметьте учеников" in empty.get_data(as_text=True)
    other = coordinator.post(url, data={"csrf_token": _csrf(coordinator, url), "student": "s3"})
    assert other.status_code == 422 and "нет в классе" in other.get_data(as_text=True)
    assert coordinator.get("/office/sch1/classes/9я/letters").status_code == 404
    assert office.client(Role.TEACHER).get(url).status_code == 403
    students = coordinator.get("/office/sch1/students").get_data(as_text=True)
    assert 'id="parent-letters-links"' in students
    assert 'id="parent-letters-links"' not in office.client(Role.TEACHER).get("/office/sch1/students").get_data(
        as_text=True)


def test_the_state_of_the_childs_benefit_application(office: Office) -> None:
    from server.office import benefits

    parent = office.client(Role.PARENT)
    assert "Заявлений нет" in parent.get("/parent/sch1/s1").get_data(as_text=True)
    day = school_today() - timedelta(days=2)
    with office.engine.begin() as conn:
        app_id = benefits.register(conn, "pitanie", "sch1", student_id="s1", category="low_income", registered_on=day)
    assert f"Заявление от {day:%d.%m.%Y}: <strong>на рассмотрении</strong>" in parent.get(
        "/parent/sch1/s1").get_data(as_text=True)
    with office.engine.begin() as conn:
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=False, decided_on=school_today(), reason="incomplete")
    assert f"<strong>отказано</strong> ({school_today():%d.%m.%Y})" in parent.get("/parent/sch1/s1").get_data(
        as_text=True)


def test_a_nul_in_a_parents_form_is_a_russian_400(office: Office) -> None:
    client = office.app.test_client()
    token = _csrf(client)
    for url, form in (("/parent/login", {"login": "a\x00@b.ru", "password": "x"}),
                      ("/parent/register", {"code": "A\x00", "email": "a\x00@b.ru", "password": "p",
                                            "password2": "p"})):
        answer = client.post(url, data={"csrf_token": token, **form})
        assert answer.status_code == 400 and "NUL" in answer.get_data(as_text=True), url


def test_a_parent_is_listed_among_the_schools_users_without_a_class(office: Office) -> None:
    page = office.client(Role.SCHOOL_ADMIN).get("/office/sch1/users").get_data(as_text=True)
    assert "родитель" in page and "классы: s1" not in page and "классы: 1А" in page  # the teacher's class stays


def test_a_signed_out_parent_is_sent_to_the_parents_sign_in(office: Office) -> None:
    anonymous = office.app.test_client()
    for url in ("/parent", "/parent/sch1/s1", "/parent/notices"):
        got = anonymous.get(url)
        assert got.status_code == 302 and got.headers["Location"].endswith("/parent/login"), url
    staff_page = anonymous.get("/office/sch1/reports")
    assert staff_page.status_code == 302 and "/parent/login" not in staff_page.headers["Location"]
