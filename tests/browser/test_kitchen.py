"""«Пищеблок» in a real browser: the coordinator opens the kitchen's order of the demo's serving day (its
deadline has passed), sends it to the kitchen, downloads the XLSX and reads it back; once sent, the page
keeps the time and offers no second sending."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from playwright.sync_api import expect

from pos import demo as school
from pos.domain import ru_date
from server.office.demo import SCHOOL_ID
from server.office.roles import Role
from tests.browser.test_office import PASSWORDS, sign_in

pytestmark = pytest.mark.slow


def test_the_coordinator_sends_the_day_s_order_and_downloads_it(browser: Any, office_url: str, shots: Path) -> None:
    day = school.next_school_day(datetime.now(ZoneInfo(school.TIMEZONE)).date())  # the demo's serving day
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU", accept_downloads=True)
    page = context.new_page()
    sign_in(page, office_url, *PASSWORDS[Role.COORDINATOR])
    page.goto(f"{office_url}/office/{SCHOOL_ID}/kitchen?date={day.isoformat()}")
    expect(page.get_by_role("heading", name=f"Заявка на пищеблок на {ru_date(day)}")).to_be_visible()
    frozen = page.get_by_role("heading", name="На срок подачи заявок")
    expect(frozen).to_be_visible()  # the serving day's deadline was 10:00 of the school day before
    body = page.locator("main").inner_text()
    assert "Завтрак" in body and "Итого" in body and "₽" in body
    page.get_by_role("button", name="Отправить на пищеблок").click()
    expect(page.get_by_text(f"Заявка на {ru_date(day)} отправлена на пищеблок")).to_be_visible()
    page.screenshot(path=str(shots / "kitchen-desktop.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Скачать XLSX").click()
    data = Path(download.value.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    assert ru_date(day) in text and "завтрак" in text.lower()
    page.reload()  # sent: the time stays on the page and the button is gone
    expect(page.get_by_text("Отправлено на пищеблок", exact=True)).to_be_visible()
    assert page.get_by_role("button", name="Отправить на пищеблок").count() == 0
    context.close()
