"""Journeys through the office in a real browser: sign-in per role and its menu, a teacher kept out of
another class, an invitation followed to a first sign-in, logout; screenshots of the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from server.office.demo import LOGINS
from server.office.roles import Role

pytestmark = pytest.mark.slow
PASSWORDS = {d.role: (d.login, d.password) for d in LOGINS}
MENUS = {Role.SCHOOL_ADMIN: ["Сегодня", "Заявки", "Пищеблок", "Отчёты", "Сухой паёк", "Меню", "Календарь", "Ученики",
                             "Льготы", "Платежи", "Сверка", "Загрузка", "Терминалы", "Пользователи", "Политика"],
         Role.COORDINATOR: ["Сегодня", "Заявки", "Пищеблок", "Отчёты", "Сухой паёк", "Меню", "Календарь", "Ученики",
                            "Льготы", "Платежи", "Сверка", "Загрузка", "Терминалы", "Политика"],
         Role.CANTEEN: ["Сегодня", "Пищеблок", "Меню"],
         Role.TEACHER: ["Заявка", "Отчёты", "Календарь", "Ученики", "Класс 1А"]}  # the demo names its classes «1А»


def sign_in(page: Any, base: str, login: str, password: str) -> None:
    page.goto(base + "/")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_signs_in_and_sees_its_menu(page: Any, office_url: str, role: Role) -> None:
    sign_in(page, office_url, *PASSWORDS[role])
    menu = page.get_by_role("navigation", name="Разделы").get_by_role("link").all_inner_texts()
    assert menu == MENUS[role]
    assert role.ru in page.locator("header").inner_text()


def test_a_teacher_opening_another_class_gets_403(page: Any, office_url: str) -> None:
    sign_in(page, office_url, *PASSWORDS[Role.TEACHER])
    expect(page.get_by_role("heading", name="Класс 1А")).to_be_visible()
    response = page.goto(office_url + "/office/nazarovo-3/classes/5а")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Нет доступа")).to_be_visible()


def test_an_invited_user_follows_the_link_signs_in_and_logs_out(browser: Any, page: Any, office_url: str) -> None:
    sign_in(page, office_url, *PASSWORDS[Role.SCHOOL_ADMIN])
    page.get_by_role("link", name="Пользователи").click()
    page.get_by_text("Пригласить пользователя").click()
    page.get_by_label("Логин").fill("morozova")
    page.get_by_label("ответственный за питание").check()
    page.get_by_role("button", name="Создать ссылку-приглашение").click()
    link = page.get_by_label("Ссылка").input_value()
    newcomer = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU").new_page()
    newcomer.goto(link)
    newcomer.get_by_label("Фамилия, имя, отчество").fill("Морозова Светлана")
    newcomer.get_by_label("Пароль", exact=True).fill("morozova-pass")
    newcomer.get_by_label("Пароль ещё раз").fill("morozova-pass")
    newcomer.get_by_role("button", name="Сохранить и войти").click()
    expect(newcomer.get_by_role("heading", name="Сегодня").first).to_be_visible()
    assert "Морозова Светлана" in newcomer.locator("header").inner_text()
    newcomer.get_by_role("button", name="Выйти").click()
    expect(newcomer.get_by_role("heading", name="Вход в школьный офис")).to_be_visible()
    sign_in(newcomer, office_url, "morozova", "morozova-pass")
    assert "Морозова Светлана" in newcomer.locator("header").inner_text()
    newcomer.context.close()


@pytest.mark.parametrize(("name", "size"), [("desktop", (1366, 768)), ("phone", (390, 844))])
def test_dashboard_screenshots(browser: Any, office_url: str, shots: Path, name: str, size: tuple[int, int]
                               ) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="ru-RU")
    page = context.new_page()
    sign_in(page, office_url, *PASSWORDS[Role.COORDINATOR])
    expect(page.locator("table.office-counts").first).to_be_visible()
    page.wait_for_function("typeof htmx === 'object'")  # the vendored (deferred) htmx loaded: the table refreshes
    page.screenshot(path=str(shots / f"office-today-{name}.png"))
    # No sideways scrolling of the whole page on either screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    context.close()
