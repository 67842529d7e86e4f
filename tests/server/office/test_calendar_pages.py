"""«Календарь» in the office: the coordinator keeps it; a class teacher sees it and changes only the own
class's days off; other roles are refused; bad input gets the form again with a Russian message; the file
of non-school days goes through a preview. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from server.models import ClassDayOff, Holiday, School
from server.office import calendar as cal
from server.office.roles import Role
from tests.server.office.conftest import Office

URL = "/office/sch1/calendar"


@pytest.fixture
def office_cal(office: Office) -> Office:
    office.app.config["WTF_CSRF_ENABLED"] = False  # CSRF: test_csrf_is_checked
    office.app.config["CANTEEN_NOW"] = "2026-12-03T10:00:00+07:00"
    with office.engine.begin() as conn:
        cal.set_settings(conn, "pitanie", "sch1", year_starts=date(2026, 9, 1), year_ends=date(2027, 5, 31),
                         days_per_week=5)
    return office


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _count(office: Office, model: Any) -> int:
    with office.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_the_coordinator_sets_the_year_and_adds_and_removes_a_vacation(office_cal: Office) -> None:
    c = office_cal.client(Role.COORDINATOR)
    answer = c.post(f"{URL}/settings", data={"year_starts": "01.09.2026", "year_ends": "2027-05-31",
                                             "days_per_week": "6", "order_deadline": "09:30"})
    assert answer.status_code == 303
    with office_cal.engine.connect() as conn:
        school = conn.execute(select(School.week_days, School.order_deadline).where(School.id == "sch1")).one()
    assert tuple(school) == ("1,2,3,4,5,6", "09:30")
    answer = c.post(f"{URL}/holidays/add", data={"start": "2026-12-31", "end": "2027-01-11",
                                                 "reason": "Зимние каникулы"}, follow_redirects=True)
    page = _text(answer.get_data(as_text=True))
    assert answer.status_code == 200 and "Добавлено нерабочих дней: 12 (31.12.2026–11.01.2027)" in page
    assert "31.12.2026–11.01.2027 Зимние каникулы 12" in page
    assert 'data-day="2027-01-05" data-state="vacation"' in answer.get_data(as_text=True)
    assert "Пн Вт Ср Чт Пт Сб Ян" not in page and "Декабрь 2026 Пн Вт Ср Чт Пт Сб 1" in page  # six columns
    answer = c.post(f"{URL}/holidays/remove", data={"start": "2026-12-31", "end": "2027-01-11"})
    assert answer.status_code == 303 and _count(office_cal, Holiday) == 0


@pytest.mark.parametrize("path, data, message", [
    ("holidays/add", {"start": "2026-12-05", "end": "2026-12-01", "reason": "Карантин"},
     "Конец периода (01.12.2026) раньше начала (05.12.2026)"),
    ("holidays/add", {"start": "завтра", "reason": "Карантин"}, "С: дата ДД.ММ.ГГГГ, а не «завтра»"),
    ("holidays/add", {"start": "2027-07-01", "reason": "Карантин"}, "выходит за учебный год"),
    ("holidays/add", {"start": "2026-12-10", "reason": "x" * 300}, "Причина длиннее 200 символов"),
    ("holidays/add", {"start": "2026-12-10", "reason": "a\x1bb"}, "Причина: недопустимый управляющий символ"),
    ("holidays/remove", {"start": "2026-12-10"}, "В период 10.12.2026 нет праздников и каникул"),
    ("settings", {"year_starts": "2027-05-31", "year_ends": "2026-09-01"}, "должен быть позже первого"),
    ("settings", {"order_deadline": "десять"}, "Срок заявки: время ЧЧ:ММ"),
    ("settings", {"days_per_week": "7"}, "Учебная неделя: 5 или 6 дней"),
    ("days-off/add", {"class_id": "9я", "start": "2026-12-10", "reason": "Экскурсия"}, "Класса «9я» нет в школе"),
    ("days-off/add", {"class_id": "1а", "start": "2026-12-12", "end": "2026-12-13", "reason": "Экскурсия"},
     "нет учебных дней"),
])
def test_bad_input_gets_the_form_again_with_a_russian_message(office_cal: Office, path: str, data: dict[str, str],
                                                              message: str) -> None:
    answer = office_cal.client(Role.COORDINATOR).post(f"{URL}/{path}", data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and message in _text(page).replace("&#34;", '"')
    assert 'role="alert"' in page and "<h1>Календарь</h1>" in page
    if "reason" in data and len(data["reason"]) < 100 and "\x1b" not in data["reason"]:
        assert f'value="{data["reason"]}"' in page  # what was typed stays in the form
    assert _count(office_cal, Holiday) == 0 and _count(office_cal, ClassDayOff) == 0


def test_a_teacher_changes_only_the_own_class_and_the_coordinator_sees_who(office_cal: Office) -> None:
    teacher = office_cal.client(Role.TEACHER)  # class 1а
    page = teacher.get(URL).get_data(as_text=True)
    assert "Класс" in page and '<option value="1а"' in page and '<option value="5а"' not in page
    assert "/calendar/holidays/add" not in page and "/calendar/settings" not in page
    answer = teacher.post(f"{URL}/days-off/add", data={"class_id": "1а", "start": "2026-12-10",
                                                        "reason": "Экскурсия в музей"})
    assert answer.status_code == 303
    assert teacher.post(f"{URL}/days-off/add", data={"class_id": "5а", "start": "2026-12-10",
                                                      "reason": "Экскурсия"}).status_code == 403
    assert teacher.post(f"{URL}/holidays/add", data={"start": "2026-12-10", "reason": "Карантин"}).status_code == 403
    assert teacher.post(f"{URL}/settings", data={"days_per_week": "6"}).status_code == 403
    coordinator = office_cal.client(Role.COORDINATOR)
    page = _text(coordinator.get(URL).get_data(as_text=True))
    assert "1А 10.12.2026 Экскурсия в музей Пользователь классный руководитель (teacher)" in page
    with office_cal.engine.begin() as conn:
        cal.add_days_off(conn, "coordinator", "sch1", "5а", date(2026, 12, 11), date(2026, 12, 11), "Экскурсия")
    assert teacher.post(f"{URL}/days-off/remove", data={"class_id": "5а", "start": "2026-12-11"}).status_code == 403
    assert teacher.post(f"{URL}/days-off/remove", data={"class_id": "1а", "start": "2026-12-10"}).status_code == 303
    with office_cal.engine.connect() as conn:
        assert conn.execute(select(ClassDayOff.class_id)).scalars().all() == ["5а"]


@pytest.mark.parametrize("role", [Role.PARENT, Role.CANTEEN, Role.DISTRICT])
def test_other_roles_are_refused(office_cal: Office, role: Role) -> None:
    client = office_cal.client(role)
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}/days-off/add", data={"class_id": "1а", "start": "2026-12-10",
                                                     "reason": "x"}).status_code == 403
    assert client.post(f"{URL}/holidays/add", data={"start": "2026-12-10", "reason": "x"}).status_code == 403
    assert _count(office_cal, ClassDayOff) == 0 and _count(office_cal, Holiday) == 0


def test_csrf_is_checked(office_cal: Office) -> None:
    office_cal.app.config["WTF_CSRF_ENABLED"] = True
    answer = office_cal.client(Role.COORDINATOR).post(f"{URL}/holidays/add", data={"start": "2026-12-10",
                                                                                  "reason": "Карантин"})
    assert answer.status_code == 400 and _count(office_cal, Holiday) == 0


def test_a_bad_period_in_the_address_shows_the_default_months(office_cal: Office) -> None:
    answer = office_cal.client(Role.COORDINATOR).get(f"{URL}?from=2026-01-01&to=2029-01-01")
    page = _text(answer.get_data(as_text=True))
    assert answer.status_code == 200 and "Период длиннее" in page and "Сентябрь 2026" in page
    answer = office_cal.client(Role.COORDINATOR).get(f"{URL}?from=garbage")
    assert answer.status_code == 200 and "С: дата ДД.ММ.ГГГГ" in _text(answer.get_data(as_text=True))


def _upload(office: Office, content: bytes, name: str = "дни.csv") -> Any:
    return office.client(Role.COORDINATOR).post(f"{URL}/import/preview", data={"file": (io.BytesIO(content), name)},
                                                content_type="multipart/form-data")


def test_a_file_is_previewed_then_confirmed(office_cal: Office) -> None:
    answer = _upload(office_cal, "с;по;причина;класс\n31.12.2026;11.01.2027;Зимние каникулы;\n"
                                 "10.12.2026;;Экскурсия;1а\n".encode())
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, _text(page)
    assert "31.12.2026–11.01.2027 Зимние каникулы вся школа" in _text(page)
    assert _count(office_cal, Holiday) == 0
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    answer = office_cal.client(Role.COORDINATOR).post(f"{URL}/import/confirm", data={"token": token[1]},
                                                      follow_redirects=True)
    assert answer.status_code == 200 and "загружено строк: 2" in answer.get_data(as_text=True)
    assert _count(office_cal, Holiday) == 12 and _count(office_cal, ClassDayOff) == 1
    again = office_cal.client(Role.COORDINATOR).post(f"{URL}/import/confirm", data={"token": token[1]})
    assert again.status_code == 422 and "устарел" in again.get_data(as_text=True)  # used once


@pytest.mark.parametrize("content, name, message", [
    (b"c;po\n1;2\n", "x.csv", "нет обязательного столбца «с»"),
    ("с;по;причина\n31.12.2026;01.12.2026;Каникулы\n".encode(), "x.csv", "строка 2: конец периода"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "x.xls", "старого формата"),
    (b"<html><script>alert(1)</script>", "x.html", "не поддерживается"),
])
def test_bad_and_hostile_files_are_refused_with_row_errors(office_cal: Office, content: bytes, name: str,
                                                           message: str) -> None:
    answer = _upload(office_cal, content, name)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and message in page and "<script>alert" not in page
    assert "disabled" in page and _count(office_cal, Holiday) == 0


def test_an_upload_without_a_file_or_a_forged_token_is_refused(office_cal: Office) -> None:
    c = office_cal.client(Role.COORDINATOR)
    assert c.post(f"{URL}/import/preview", data={}).status_code == 422
    answer = c.post(f"{URL}/import/confirm", data={"token": "../../etc/passwd"})
    assert answer.status_code == 422 and "Загруженный файл не найден" in answer.get_data(as_text=True)
