"""A coordinator's journey through «Сверка» in a real browser: an item resolved with a reason and a
comment leaves the open queue, and a new serve for the same key brings it back as reopened; then
screenshots of «Сегодня» (with the month's chart), «Сверка» and «Терминалы» on a desktop and a phone."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, insert, select

from server.models import Event, School, Student
from server.office.demo import SCHOOL_ID
from server.office.roles import Role
from tests.browser.test_office import PASSWORDS, sign_in
from tests.server.office.test_today import event

pytestmark = pytest.mark.slow
SIZES = [("desktop", (1366, 768)), ("phone", (390, 844))]


def _serve(office_db: str, seq: int, student_id: str) -> None:
    """A serve of yesterday's breakfast at a second window, stored as a push would store it."""
    engine = create_engine(office_db)
    try:
        with engine.begin() as conn:
            tz = conn.execute(select(School.timezone).where(School.id == SCHOOL_ID)).scalar_one()
            day = datetime.now(ZoneInfo(tz)).date() - timedelta(days=1)
            conn.execute(insert(Event), [event(seq, day, student_id, school_id=SCHOOL_ID,
                                               terminal_id=f"{SCHOOL_ID}-journey")])
    finally:
        engine.dispose()


def _student(office_db: str) -> tuple[str, str]:
    engine = create_engine(office_db)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Student.id, Student.full_name).where(Student.school_id == SCHOOL_ID)
                               .order_by(Student.full_name)).first()
    finally:
        engine.dispose()
    assert row is not None
    return row.id, row.full_name


def test_a_resolved_item_leaves_the_queue_and_comes_back_reopened_after_a_new_serve(
        browser: Any, office_url: str, office_db: str) -> None:
    student_id, name = _student(office_db)
    _serve(office_db, 90_001, student_id)
    _serve(office_db, 90_002, student_id)
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU").new_page()
    sign_in(page, office_url, *PASSWORDS[Role.COORDINATOR])
    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Сверка").click()
    row = page.locator("tbody tr").filter(has_text=name).filter(has_text="выдано повторно")
    assert row.count() == 1 and "открыто" in row.inner_text()
    row.get_by_role("checkbox").check()
    page.get_by_label("Причина").select_option(label="ошибка на раздаче")
    page.get_by_label("Комментарий").fill("второе окно не видело первого")
    page.get_by_role("button", name="Решить выбранные").click()
    expect(page.get_by_text("Решено расхождений: 1.")).to_be_visible()
    assert row.count() == 0  # gone from the open queue

    _serve(office_db, 90_003, student_id)  # a third serve for the same day, student and meal
    page.reload()
    assert row.count() == 1 and "открыто снова: данные изменились" in row.inner_text()
    row.get_by_text("История (1)").click()
    assert "второе окно не видело первого" in row.inner_text()
    page.context.close()


@pytest.mark.parametrize(("name", "size"), SIZES)
def test_screenshots_of_today_the_queue_and_the_terminals(browser: Any, office_url: str, shots: Path, name: str,
                                                          size: tuple[int, int]) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="ru-RU")
    page = context.new_page()
    sign_in(page, office_url, *PASSWORDS[Role.SCHOOL_ADMIN])
    expect(page.locator("svg.office-chart")).to_be_visible()
    for title, shot in (("Сегодня", "today"), ("Сверка", "reviews"), ("Терминалы", "terminals")):
        page.get_by_role("navigation", name="Разделы").get_by_role("link", name=title).click()
        expect(page.get_by_role("heading").first).to_be_visible()
        page.screenshot(path=str(shots / f"office-{shot}-{name}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0], shot  # no sideways page scroll
    context.close()
