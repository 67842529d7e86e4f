"""The canteen edits tomorrow's menu in Chromium (a row added by htmx), and a parent reads it on a phone
without signing in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from pos.demo import next_school_day
from server.office.demo import SCHOOL_ID
from server.office.roles import Role
from tests.browser.test_office import PASSWORDS, sign_in
from tests.server.kit import school_today

pytestmark = pytest.mark.slow


def test_the_canteen_adds_a_dish_and_parents_see_it(browser: Any, office_url: str, shots: Path) -> None:
    day = next_school_day(school_today() + timedelta(days=1))
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = context.new_page()
    sign_in(page, office_url, *PASSWORDS[Role.CANTEEN])
    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Меню").click()
    page.get_by_role("link", name=day.strftime("%d.%m.%Y")).click()
    page.get_by_role("button", name="Изменить меню").click()
    rows = page.locator("input[name=row]").count()
    page.get_by_role("button", name="Добавить строку").click()
    page.wait_for_function(f"document.querySelectorAll('input[name=row]').length === {rows + 1}")
    last = page.locator("#dish-rows tr").last
    last.get_by_label("Приём пищи").select_option("lunch")
    last.get_by_label("Блюдо").fill("Сырники со сметаной")
    last.get_by_label("Выход, г").fill("150/20")
    last.get_by_label("Цена, ₽").fill("0")
    last.get_by_label("Калорийность, ккал").fill("312,5")
    last.get_by_label("Аллергены").fill("молоко, глютен")
    page.get_by_role("button", name="Сохранить меню").click()
    expect(page.get_by_text("сохранено")).to_be_visible()
    expect(page.get_by_text("Сырники со сметаной")).to_be_visible()
    page.screenshot(path=str(shots / "menu-day.png"), full_page=True)
    context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU").new_page()
    phone.goto(f"{office_url}/menu/{SCHOOL_ID}/{day.isoformat()}")
    expect(phone.get_by_role("heading", name="Меню школьной столовой")).to_be_visible()
    text = phone.locator("main").inner_text()
    assert "Сырники со сметаной, 170 г, 312,5 ккал" in text and "аллергены: молоко, глютен" in text
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
    phone.screenshot(path=str(shots / "menu-public-phone.png"), full_page=True)
    phone.context.close()
