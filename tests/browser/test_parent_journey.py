"""The parent's journey end to end: the coordinator prints a letter for a child of class 1А; a parent registers in
a real browser with the code printed in it; a terminal (a real store synced over HTTP by `sync.client.SyncClient`)
serves the child and pushes the serve; the parent sees it and blocks the card as lost; after the terminal's next
pull the card is refused at the window.

The live server has its own demo database, so the pages' clock (`CANTEEN_NOW`) can be set on its app.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from pos.counter import Counter
from pos.decide import Outcome, Reason
from pos.store import make_engine
from server.accounts import enroll_terminal
from server.app import create_app, state
from server.migrate import upgrade
from server.models import Card, Order, School, Student
from server.office.demo import SCHOOL_ID, TEACHER_CLASS, build, demo_child, school_class_id
from server.office.roles import Role
from sync.client import SyncClient
from tests.browser.test_office import PASSWORDS, sign_in

pytestmark = pytest.mark.slow
SERVED = {Outcome.SERVE_FREE, Outcome.SERVE_PAID}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('parents') / 'office.db'}"
    upgrade(url)
    app = create_app({"database_url": url, "secret_key": "parent-journey"})
    day = build(state(app).engine, serve=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}", day
    finally:
        server.shutdown()
        thread.join()
        state(app).engine.dispose()


def _child(app: Flask, day: Any) -> Any:
    """A child of class 1А (not the demo parent's) with a card and a breakfast ordered on the serving day."""
    class_id = school_class_id(TEACHER_CLASS)
    with state(app).engine.connect() as conn:
        taken = demo_child(conn).scope_id
        kids = conn.execute(select(Student.id, Student.full_name, Card.uid).join(
            Card, (Card.school_id == Student.school_id) & (Card.student_id == Student.id)).join(
            Order, (Order.school_id == Student.school_id) & (Order.student_id == Student.id)).where(
            Student.school_id == SCHOOL_ID, Student.class_id == class_id, Card.blocked.is_(False),
            Order.day == day, Order.meal == "breakfast", Student.id != taken).order_by(Student.full_name)).all()
    return kids[0]


def test_a_parent_registers_by_the_letter_sees_a_serve_and_blocks_the_card(
        browser: Any, live: tuple[Flask, str, Any], tmp_path: Path, shots: Path) -> None:
    app, base, day = live
    kid = _child(app, day)
    with state(app).engine.connect() as conn:
        tz = ZoneInfo(conn.execute(select(School.timezone).where(School.id == SCHOOL_ID)).scalar_one())
    app.config["CANTEEN_NOW"] = datetime.combine(day, time(10, 0), tzinfo=tz).isoformat()

    office = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU").new_page()
    sign_in(office, base, *PASSWORDS[Role.COORDINATOR])
    office.get_by_role("navigation", name="Разделы").get_by_role("link", name="Ученики", exact=True).click()
    office.locator("#parent-letters-links").get_by_role("link", name="1А", exact=True).click()
    expect(office.get_by_role("heading", name="Письма родителям: класс 1А")).to_be_visible()
    for box in office.locator("#parent-letters input[type=checkbox]").all():
        box.uncheck()
    office.get_by_label(f"Письмо: {kid.full_name}").check()
    with office.expect_popup() as popup:
        office.get_by_role("button", name="Напечатать письма с новыми кодами").click()
    letter = popup.value
    letter.wait_for_load_state()
    assert letter.locator(".letter").count() == 1
    assert kid.full_name in letter.locator(".letter-name").inner_text()
    code = letter.locator(".code").inner_text()
    letter.screenshot(path=str(shots / "parent-letter.png"), full_page=True)

    parent = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU").new_page()
    parent.goto(base + "/parent/login")
    form = parent.locator("#parent-register")
    form.get_by_label("Код из письма").fill(code.lower().replace("-", " "))
    form.get_by_label("E-mail (будет логином)").fill("mama@example.ru")
    form.get_by_label("Пароль (не короче 8 символов)").fill("parent-pass-1")
    form.get_by_label("Пароль ещё раз").fill("parent-pass-1")
    form.get_by_role("button", name="Создать кабинет").click()
    expect(parent.get_by_role("heading", name="Мои дети")).to_be_visible()
    parent.get_by_role("link", name=kid.full_name).click()
    expect(parent.get_by_role("heading", name=kid.full_name)).to_be_visible()
    assert "За последний месяц питание не получено" in parent.content()

    store = make_engine(tmp_path / "terminal.db")
    with state(app).engine.begin() as conn:
        _terminal_id, token = enroll_terminal(conn, SCHOOL_ID, name="окно родителей")
    client = SyncClient(store, base, token)
    try:
        assert client.sync_once().ok
        at = datetime.combine(day, time(8, 45), tzinfo=tz).astimezone(UTC)
        served = Counter(store).tap_text(kid.uid, now=at)
        assert served.outcome in SERVED, served.message
        assert client.sync_once().ok  # the serve goes up by the push

        parent.reload()
        meals = parent.locator("#parent-meals").inner_text()
        assert f"{day:%d.%m.%Y}" in meals and "завтрак" in meals.lower()
        parent.screenshot(path=str(shots / "parent-child.png"), full_page=True)
        asked: list[str] = []

        def answer(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept()

        parent.once("dialog", answer)
        parent.get_by_role("button", name=f"Заблокировать карту {kid.uid}").click()
        assert asked and "Снять блокировку или выдать новую карту может только школа" in asked[0]
        assert "Карта заблокирована" in parent.locator(".office-flash").inner_text()
        assert "заблокирована: утеряна" in parent.locator("#parent-cards").inner_text()

        assert client.sync_once().ok
        refused = Counter(store).tap_text(kid.uid, now=at.replace(hour=at.hour + 3))
        assert refused.outcome is Outcome.REFUSE and refused.reason is Reason.BLOCKED_CARD, refused.message
    finally:
        client.close()
        store.dispose()
