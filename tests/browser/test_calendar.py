"""«Календарь» in a real browser: the coordinator adds a vacation and sees it in the list and on the grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from server.office.roles import Role
from tests.browser.test_office import PASSWORDS, sign_in

pytestmark = pytest.mark.slow


def test_the_coordinator_adds_a_vacation_and_sees_it_on_the_grid(browser: Any, office_url: str, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = context.new_page()
    sign_in(page, office_url, *PASSWORDS[Role.COORDINATOR])
    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Календарь").click()
    expect(page.get_by_role("heading", name="Календарь", exact=True)).to_be_visible()  # waits for the page
    assert page.locator('td[data-day="2027-01-05"]').get_attribute("data-state") == "vacation"  # the demo's
    assert page.locator('td[data-day="2027-02-02"]').get_attribute("data-state") == "school"
    form = page.locator("form", has=page.get_by_role("button", name="Добавить")).filter(
        has_text="Добавить праздник, каникулы, карантин")
    form.get_by_label("С", exact=True).fill("2027-02-01")
    form.get_by_label("По", exact=True).fill("2027-02-05")
    form.get_by_label("Причина").fill("Дополнительные каникулы для первоклассников")
    form.get_by_role("button", name="Добавить").click()
    expect(page.get_by_text("Добавлено нерабочих дней: 5 (01.02.2027–05.02.2027)")).to_be_visible()
    row = page.locator("#holidays tr", has_text="01.02.2027–05.02.2027")
    assert "Дополнительные каникулы для первоклассников" in row.inner_text()
    for day in ("2027-02-01", "2027-02-03", "2027-02-05"):
        assert page.locator(f'td[data-day="{day}"]').get_attribute("data-state") == "vacation"
    assert page.locator('td[data-day="2027-02-06"]').get_attribute("data-state") == "school"  # six-day week
    page.locator('td[data-day="2027-02-03"]').scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "calendar-desktop.png"), full_page=False)
    row.get_by_role("button", name="Удалить").click()  # and back: the days are school days again
    assert page.locator('td[data-day="2027-02-03"]').get_attribute("data-state") == "school"
    context.close()
