"""The submission loop in a real browser: the school submits its month from «Отчёты», the district
(управление образования) returns it with a comment, the school sees the comment and submits again, and the
district accepts it; both see every step."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from server.office.demo import SCHOOL_ID
from server.office.roles import Role
from tests.browser.test_office import PASSWORDS, sign_in

pytestmark = pytest.mark.slow
COMMENT = "Проверьте число пайков за 3 число"


def _new_page(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU").new_page()


def _last_month() -> str:
    first = date.today().replace(day=1) - timedelta(days=1)
    return first.strftime("%Y-%m")


def _monthly_row(page: Any) -> Any:
    return page.locator("#district-loop tbody tr").filter(has_text="Отчёт об организации питания")


def test_the_school_submits_the_district_returns_the_school_resubmits_the_district_accepts(
        browser: Any, office_url: str) -> None:
    school = _new_page(browser)
    sign_in(school, office_url, *PASSWORDS[Role.COORDINATOR])
    school.get_by_role("navigation", name="Разделы").get_by_role("link", name="Отчёты").click()
    expect(_monthly_row(school)).to_contain_text("можно отправить после окончания месяца")  # this month
    school.goto(school.url.split("?")[0] + f"?month={_last_month()}")  # the month before: over, to be sent
    _monthly_row(school).get_by_role("button", name="Отправить в управление образования").click()
    expect(_monthly_row(school)).to_contain_text("отправлен, на проверке")

    uo = _new_page(browser)
    sign_in(uo, office_url, *PASSWORDS[Role.DISTRICT])
    expect(uo.get_by_role("heading", level=1)).to_contain_text("Управление образования")
    uo.get_by_role("link", name="Месяц").click()
    uo.goto(uo.url.split("?")[0] + f"?month={_last_month()}")
    uo.locator("#district-schools").get_by_role("link", name="отправлен, на проверке").first.click()
    uo.get_by_label("Комментарий (обязателен при возврате)").fill(COMMENT)
    uo.get_by_role("button", name="Вернуть на исправление").click()
    expect(uo.locator("#submission-state")).to_have_text("возвращён на исправление")

    school.reload()
    row = _monthly_row(school)
    expect(row).to_contain_text(COMMENT)
    row.get_by_role("button", name="Отправить снова").click()
    expect(_monthly_row(school)).to_contain_text("отправлен, на проверке")

    uo.reload()
    uo.get_by_role("button", name="Принять").click()
    expect(uo.locator("#submission-state")).to_have_text("принят")
    steps = uo.locator("#submission-steps tbody tr").all_inner_texts()
    assert [s.split("\t")[1] for s in steps] == ["отправлен", "возвращён", "отправлен", "принят"]

    school.reload()
    expect(_monthly_row(school)).to_contain_text("принят")
    _monthly_row(school).get_by_role("link", name="ход проверки").click()
    expect(school.locator("#submission-steps")).to_contain_text(COMMENT)
    assert school.url.startswith(f"{office_url}/office/{SCHOOL_ID}/reports/submissions/")
