"""The order's journey end to end: the class teacher orders the next school day in a real browser before
the deadline, marking one child «не придёт»; a terminal pulls; on that day the ordered child is served
and the other is refused «Нет заявки»; after the deadline the coordinator amends the order with a
reason, and after the next pull the terminal serves that child.

The live server has its own demo database here, so the pages' clock (`CANTEEN_NOW`) can be set on its
app; the terminal is a real store synced over HTTP by `sync.client.SyncClient`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from pos.counter import Counter
from pos.decide import Outcome
from pos.store import make_engine
from server.accounts import enroll_terminal
from server.app import create_app, state
from server.calendar import deadline_of, load_calendar
from server.migrate import upgrade
from server.models import Card, Order, School, Student
from server.office.demo import SCHOOL_ID, TEACHER_CLASS, build, school_class_id
from server.office.roles import Role
from sync.client import SyncClient
from tests.browser.test_office import PASSWORDS, sign_in

pytestmark = pytest.mark.slow
SERVED = {Outcome.SERVE_FREE, Outcome.SERVE_PAID}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('orders') / 'office.db'}"
    upgrade(url)
    app = create_app({"database_url": url, "secret_key": "order-journey"})
    build(state(app).engine, serve=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        state(app).engine.dispose()


def _plan(app: Flask) -> dict[str, Any]:
    """The next school day of the teacher's class, its deadline, and two children of the class with cards."""
    class_id = school_class_id(TEACHER_CLASS)
    with state(app).engine.connect() as conn:
        tz = ZoneInfo(conn.execute(select(School.timezone).where(School.id == SCHOOL_ID)).scalar_one())
        today = datetime.now(tz).date()
        day = load_calendar(conn, SCHOOL_ID, today, today + timedelta(days=40)).next_school_day(today, class_id)
        assert day is not None
        deadline = deadline_of(conn, SCHOOL_ID, day)
        kids = conn.execute(select(Student.id, Student.full_name, Card.uid).join(
            Card, (Card.school_id == Student.school_id) & (Card.student_id == Student.id)).where(
            Student.school_id == SCHOOL_ID, Student.class_id == class_id, Card.blocked.is_(False),
            Student.birth_date.is_not(None)).order_by(Student.full_name)).all()
        ordered = set(conn.execute(select(Order.student_id).where(Order.school_id == SCHOOL_ID, Order.day == day,
                                                                  Order.meal == "breakfast")).scalars())
    eating, staying = [k for k in kids if k.id in ordered][:2]
    return {"tz": tz, "day": day, "deadline": deadline, "eating": eating, "staying": staying}


def _tap(store: Any, card: str, plan: dict[str, Any]) -> Any:
    at = datetime.combine(plan["day"], time(8, 45), tzinfo=plan["tz"]).astimezone(UTC)
    return Counter(store).tap_text(card, now=at)


def test_a_teachers_order_reaches_the_terminal_and_a_late_amendment_too(
        browser: Any, live: tuple[Flask, str], tmp_path: Path, shots: Path) -> None:
    app, base = live
    plan = _plan(app)
    day, eating, staying = plan["day"], plan["eating"], plan["staying"]
    app.config["CANTEEN_NOW"] = (plan["deadline"] - timedelta(hours=1)).isoformat()

    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU").new_page()
    sign_in(page, base, *PASSWORDS[Role.TEACHER])
    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Заявка", exact=True).click()
    expect(page.get_by_role("heading", name=f"Заявка: класс 1А на {day:%d.%m.%Y}")).to_be_visible()
    assert f"Приём заявок до {plan['deadline']:%H:%M %d.%m.%Y}" in page.locator("#order-deadline").inner_text()
    assert page.get_by_label(f"завтрак: {eating.full_name}").is_checked()
    page.get_by_label(f"Не придёт: {staying.full_name}").check()
    page.screenshot(path=str(shots / "order-teacher.png"), full_page=True)
    page.get_by_role("button", name="Подать заявку").click()
    assert f"Заявка на {day:%d.%m.%Y} подана" in page.locator(".office-flash").inner_text()
    assert page.get_by_label(f"Не придёт: {staying.full_name}").is_checked()

    store = make_engine(tmp_path / "terminal.db")
    with state(app).engine.begin() as conn:
        _terminal_id, token = enroll_terminal(conn, SCHOOL_ID, name="окно заявок")
    client = SyncClient(store, base, token)
    try:
        assert client.sync_once().ok
        served = _tap(store, eating.uid, plan)
        assert served.outcome in SERVED, served.message
        refused = _tap(store, staying.uid, plan)
        assert refused.outcome is Outcome.REFUSE and "Нет заявки" in refused.message

        app.config["CANTEEN_NOW"] = (plan["deadline"] + timedelta(hours=1)).isoformat()
        coordinator = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU").new_page()
        sign_in(coordinator, base, *PASSWORDS[Role.COORDINATOR])
        coordinator.goto(f"{base}/office/{SCHOOL_ID}/orders?day={day.isoformat()}")
        row = coordinator.locator("#orders-classes tbody tr").filter(has_text="1А").first
        assert "подана: uchitel" in row.inner_text()
        row.get_by_role("link", name="1А").click()
        assert "закрыт" in coordinator.locator("#order-lock").inner_text()
        coordinator.get_by_label(f"Не придёт: {staying.full_name}").uncheck()
        coordinator.get_by_label(f"завтрак: {staying.full_name}").check()
        coordinator.get_by_role("button", name="Изменить заявку").click()  # no reason: the browser asks for one
        expect(coordinator.get_by_label("Причина изменения (обязательно)")).to_be_visible()
        coordinator.get_by_label("Причина изменения (обязательно)").fill("пришёл после болезни")
        coordinator.get_by_role("button", name="Изменить заявку").click()
        assert "изменена после срока" in coordinator.locator(".office-flash").inner_text()
        history = coordinator.locator("#order-history").inner_text()
        assert "пришёл после болезни" in history and "после срока" in history
        coordinator.goto(f"{base}/office/{SCHOOL_ID}/orders?day={day.isoformat()}")
        coordinator.screenshot(path=str(shots / "orders-coordinator.png"), full_page=True)

        assert client.sync_once().ok
        late = _tap(store, staying.uid, plan)
        assert late.outcome in SERVED, late.message
    finally:
        client.close()
        store.dispose()
