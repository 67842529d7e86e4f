"""«Пищеблок»: the page shows the frozen order apart from the later amendments, sends once, prints, downloads;
who may do what; garbage asked → a Russian 400, never a 500."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from server.models import KitchenSending, User
from server.office.roles import Grant, Role, Scope
from server.office.users import add_user
from tests.server.office.kitchen_kit import AFTER_DEADLINE, SCHOOL, TZ, build

SENT = datetime(2026, 12, 3, 12, 0, tzinfo=TZ)


class Users:
    def __init__(self, app: Flask, engine: Engine) -> None:
        self.app = app
        self.keys: dict[Role, str] = {}
        with engine.begin() as conn:
            for role in (Role.COORDINATOR, Role.CANTEEN, Role.SCHOOL_ADMIN):
                uid = add_user(conn, f"{role.value}-kit", name=f"Пользователь {role.ru}", password="correct-horse-1",
                               grants=[Grant(role, Scope.SCHOOL, SCHOOL)])
                self.keys[role] = conn.execute(select(User.session_key).where(User.id == uid)).scalar_one()
            uid = add_user(conn, "teacher-kit", name="Учитель", password="correct-horse-1",
                           grants=[Grant(Role.TEACHER, Scope.CLASS, SCHOOL, "1а")])
            self.keys[Role.TEACHER] = conn.execute(select(User.session_key).where(User.id == uid)).scalar_one()

    def client(self, role: Role) -> FlaskClient:
        client = self.app.test_client()
        with client.session_transaction() as s:
            s["_user_id"] = self.keys[role]
            s["_fresh"] = True
        return client


@pytest.fixture
def users(app: Flask, engine: Engine) -> Users:
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["CANTEEN_NOW"] = AFTER_DEADLINE
    return Users(app, engine)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_page_shows_the_frozen_order_then_the_amendments_and_the_counts_of_now(users: Users, engine: Engine
                                                                                   ) -> None:
    build(engine, sent_at=SENT)
    got = users.client(Role.COORDINATOR).get(f"/office/{SCHOOL}/kitchen?date=2026-12-04")
    assert got.status_code == 200
    html = got.data.decode()
    page = text(html)
    assert "Заявка на пищеблок на 04.12.2026 (пятница)" in page
    assert "Срок подачи заявок классов: 03.12.2026 10:00 — прошёл" in page
    assert "Отправлено на пищеблок 03.12.2026 12:00, коорд" in page
    frozen, later = html.split('id="amendments"')
    assert 'id="frozen"' in frozen and "Итого за день 7 414,35 ₽ 3 170,04 ₽ 4 370,00 ₽ 14 954,39 ₽" in text(frozen)
    assert "Завтрак: 1 смена, 1 перемена, 08:40–09:00" in text(frozen)
    assert "Галкина Ася" not in frozen
    assert "03.12.2026 11:00 коорд 1А Галкина Ася снято: обед уезжает на соревнования" in text(later)
    assert "Дёмина Дарья добавлено: полдник остаётся на продлёнку после отправки" in text(later)
    assert "Сейчас, с изменениями после срока" in later and "844,39 ₽" in later
    assert "Отправить на пищеблок" not in html  # already sent
    assert "Пищеблок" in text(html.split("</nav>")[1])  # the menu item


def test_the_page_opens_on_the_next_school_day_and_sends_once(users: Users, engine: Engine) -> None:
    build(engine, amended=False)
    coordinator = users.client(Role.COORDINATOR)
    page = coordinator.get(f"/office/{SCHOOL}/kitchen").data.decode()
    assert "на 04.12.2026" in page and "Отправить на пищеблок" in page and "Изменений после срока нет." in page
    done = coordinator.post(f"/office/{SCHOOL}/kitchen/send", data={"date": "2026-12-04"})
    assert done.status_code == 200
    assert "Заявка на 04.12.2026 отправлена на пищеблок: 03.12.2026 15:00, coordinator-kit." in text(
        done.data.decode())
    again = coordinator.post(f"/office/{SCHOOL}/kitchen/send", data={"date": "04.12.2026"})
    assert "уже была отправлена на пищеблок: 03.12.2026 15:00" in again.data.decode()
    with engine.connect() as conn:
        assert conn.execute(select(KitchenSending.sent_by)).scalars().all() == ["coordinator-kit"]


def test_sending_a_day_off_or_garbage_is_refused_in_russian(users: Users, engine: Engine) -> None:
    build(engine, amended=False)
    coordinator = users.client(Role.COORDINATOR)
    saturday = coordinator.post(f"/office/{SCHOOL}/kitchen/send", data={"date": "2026-12-05"})
    assert saturday.status_code == 422
    assert "На пищеблок отправляют заявку учебного дня: 05.12.2026 — выходной день (суббота)." in saturday.data.decode()
    garbage = coordinator.post(f"/office/{SCHOOL}/kitchen/send", data={"date": "сегодня"})
    assert garbage.status_code == 400 and "Дата: ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, а не «сегодня»." in garbage.data.decode()
    with engine.connect() as conn:
        assert conn.execute(select(KitchenSending.day)).all() == []


@pytest.mark.parametrize("query", ["date=31.02.2026", "date=1999-12-31", "date=" + "9" * 300, "date=%00"])
def test_a_garbage_date_is_a_russian_400(users: Users, engine: Engine, query: str) -> None:
    build(engine)
    got = users.client(Role.CANTEEN).get(f"/office/{SCHOOL}/kitchen?{query}")
    assert got.status_code == 400 and "дат" in got.data.decode().lower()


def test_the_canteen_sees_and_downloads_but_does_not_send(users: Users, engine: Engine) -> None:
    build(engine, amended=False)
    canteen = users.client(Role.CANTEEN)
    page = canteen.get(f"/office/{SCHOOL}/kitchen?date=2026-12-04").data.decode()
    assert "Итого за день" in page and "Отправить на пищеблок" not in page
    assert canteen.post(f"/office/{SCHOOL}/kitchen/send", data={"date": "2026-12-04"}).status_code == 403
    xlsx = canteen.get(f"/office/{SCHOOL}/kitchen/export?date=2026-12-04&format=xlsx")
    assert xlsx.status_code == 200 and load_workbook(io.BytesIO(xlsx.data))["Заявка"]["A2"].value == "МБОУ «СОШ № 3»"
    csv = canteen.get(f"/office/{SCHOOL}/kitchen/export?date=2026-12-04&format=csv")
    assert csv.mimetype == "text/csv" and "954,39" in csv.data.decode("utf-8")
    bad = canteen.get(f"/office/{SCHOOL}/kitchen/export?date=2026-12-04&format=pdf")
    assert bad.status_code == 400 and "Формат выгрузки: xlsx или csv." in bad.data.decode()
    assert users.client(Role.TEACHER).get(f"/office/{SCHOOL}/kitchen").status_code == 403


def test_the_print_view_is_a4_with_the_header_and_the_signature_line(users: Users, engine: Engine) -> None:
    build(engine, sent_at=SENT)
    html = users.client(Role.COORDINATOR).get(f"/office/{SCHOOL}/kitchen?date=04.12.2026&print=1").data.decode()
    assert "@page { size: A4" in html and "<h1>Заявка на питание обучающихся (пищеблок)</h1>" in html
    page = text(html)
    for part in ("МБОУ «СОШ № 3»", "на 04.12.2026 (пятница)", "Срок подачи заявок классов: 03.12.2026 10:00",
                 "Ответственный за питание ____", "Изменения после срока подачи заявок", "после отправки"):
        assert part in page
    assert "office-menu" not in html  # a page of its own, without the site's menu


def test_before_the_deadline_the_send_button_waits(users: Users, engine: Engine, app: Flask) -> None:
    build(engine, amended=False)
    app.config["CANTEEN_NOW"] = datetime(2026, 12, 3, 9, 30, tzinfo=TZ)
    page = users.client(Role.COORDINATOR).get(f"/office/{SCHOOL}/kitchen?date=2026-12-04").data.decode()
    assert "ещё не наступил" in page and 'disabled title="Можно после срока подачи заявок"' in page
    assert 'id="amendments"' not in page
