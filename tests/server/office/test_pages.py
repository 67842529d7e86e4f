"""The office pages: sign-in and out, CSRF, the idle timeout, Russian error pages, the layout by role."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient

from server.office.roles import Role
from tests.server.office.conftest import PASSWORD, Office


def _csrf(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match[1]


def test_sign_in_leads_home_and_a_post_without_the_csrf_token_is_refused(office: Office) -> None:
    client = office.app.test_client()
    assert client.get("/").headers["Location"].endswith("/office/login")
    assert client.post("/office/login", data={"login": "coordinator", "password": PASSWORD}).status_code == 400
    token = _csrf(client, "/office/login")
    response = client.post("/office/login", data={"login": "coordinator", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/office/sch1/today"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/").headers["Location"] == "/office/sch1/today"


def test_a_wrong_password_says_so_in_russian(office: Office) -> None:
    client = office.app.test_client()
    token = _csrf(client, "/office/login")
    response = client.post("/office/login", data={"login": "coordinator", "password": "nope", "csrf_token": token})
    assert response.status_code == 401
    assert "Неверный логин или пароль" in response.get_data(as_text=True)


def test_a_teacher_lands_on_the_class_page_with_the_class_in_the_menu(office: Office) -> None:
    page = office.client(Role.TEACHER).get("/office/sch1/classes/1а").get_data(as_text=True)
    assert "Иванов Иван" in page and "Сидоров" not in page  # the class's students only
    assert "Класс 1А" in page and ">Сегодня<" not in page and "Пользователи" not in page
    assert office.client(Role.TEACHER).get("/").headers["Location"] == "/office/sch1/classes/1%D0%B0"


def test_the_menu_follows_the_role(office: Office) -> None:
    admin = office.client(Role.SCHOOL_ADMIN).get("/office/sch1/today").get_data(as_text=True)
    canteen = office.client(Role.CANTEEN).get("/office/sch1/today").get_data(as_text=True)
    assert ">Сегодня<" in admin and ">Пользователи<" in admin and "администратор школы" in admin
    assert ">Сегодня<" in canteen and "Пользователи" not in canteen and "Школа sch1" in canteen


def test_idle_users_are_signed_out_but_background_refreshes_do_not_keep_them_in(office: Office) -> None:
    office.app.config["OFFICE_IDLE"] = office.app.config["OFFICE_IDLE"].__class__(minutes=30)
    client = office.client(Role.COORDINATOR)
    assert client.get("/office/sch1/today").status_code == 200
    with client.session_transaction() as s:
        seen = s["seen"]
        s["seen"] = seen - 29 * 60
    assert client.get("/office/sch1/today/table", headers={"HX-Request": "true"}).status_code == 200
    with client.session_transaction() as s:
        assert s["seen"] == seen - 29 * 60  # the refresh was not activity
        s["seen"] = datetime.now(UTC).timestamp() - 31 * 60
    response = client.get("/office/sch1/today")
    assert response.status_code == 302 and "/office/login" in response.headers["Location"]
    refresh = office.client(None).get("/office/sch1/today/table", headers={"HX-Request": "true"})
    assert refresh.status_code == 401 and refresh.headers["HX-Redirect"] == "/office/login"


def test_logout_ends_the_session(office: Office) -> None:
    client = office.client(Role.CANTEEN)
    token = _csrf(client, "/office/sch1/today")
    assert client.post("/office/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/office/sch1/today").status_code == 302


def test_office_errors_are_russian_pages_and_api_errors_stay_json(office: Office) -> None:
    forbidden = office.client(Role.CANTEEN).get("/office/sch2/today")
    assert forbidden.status_code == 403 and "Нет доступа" in forbidden.get_data(as_text=True)
    missing = office.client(Role.CANTEEN).get("/office/nowhere/at/all")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "Страница не найдена" in missing.get_data(as_text=True)
    assert office.app.test_client().get("/api/nowhere").json["error"] == "not_found"  # type: ignore[index]


def test_the_dashboard_shows_todays_counts_and_refreshes_itself(office: Office) -> None:
    page = office.client(Role.COORDINATOR).get("/office/sch1/today").get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in page and "Завтрак, 1 смена, 1 перемена" in page
    assert re.search(r"<th scope=\"row\">1А</th><td>3</td><td>0</td><td>3</td>", page)


def test_invite_page_gives_a_link_the_invited_person_uses_to_sign_in(office: Office) -> None:
    office.app.config["WTF_CSRF_ENABLED"] = False
    admin = office.client(Role.SCHOOL_ADMIN)
    page = admin.post("/office/sch1/users/invite", data={"login": "Novikova", "role": "teacher", "classes": ["5а"]})
    link = re.search(r'value="http://localhost(/office/link/[^"]+)"', page.get_data(as_text=True))
    assert page.status_code == 200 and link
    newcomer = office.app.test_client()
    assert newcomer.post(link[1], data={"name": "Новикова Вера", "password": "short", "password2": "short"}
                         ).status_code == 422
    done = newcomer.post(link[1], data={"name": "Новикова Вера", "password": "long-enough", "password2": "long-enough"})
    assert done.headers["Location"] == "/office/sch1/classes/5%D0%B0"
    assert "Новикова Вера" in newcomer.get(done.headers["Location"]).get_data(as_text=True)
    assert newcomer.get(link[1]).status_code == 404  # used up
    users_page = admin.get("/office/sch1/users").get_data(as_text=True)
    assert "novikova" in users_page and "работает" in users_page and "admin: приглашение (novikova)" in users_page


def test_the_session_cookie_is_secure_when_the_office_is_served_over_https(db_url: str) -> None:
    from server.app import create_app, state

    app = create_app({"database_url": db_url, "secret_key": "x", "https": True})
    try:
        client = app.test_client()
        client.get("/office/login")
        cookie = client.get_cookie("session")
        assert cookie is not None and cookie.secure and cookie.http_only
    finally:
        state(app).engine.dispose()


def test_filters_spell_dates_and_money_the_russian_way(office: Office) -> None:
    from datetime import date

    from flask import render_template_string

    with office.app.test_request_context("/office/login"):
        text = render_template_string("{{ 485800 | rub }} {{ d | ru_date }} {{ 'lunch' | meal }}", d=date(2026, 12, 3))
    assert text == "4\u202f858,00 ₽ 03.12.2026 обед"


def test_an_unexpected_failure_on_an_office_page_is_a_russian_page_not_a_trace(db_url: str) -> None:
    from server.app import create_app, state
    from server.web.auth import public

    app = create_app({"database_url": db_url, "secret_key": "x"})

    @public
    def boom() -> str:
        raise RuntimeError("the database is on fire")

    app.add_url_rule("/office/boom", "office.boom", boom)
    try:
        response = app.test_client().get("/office/boom")
    finally:
        state(app).engine.dispose()
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "Ошибка на сервере" in page and "fire" not in page
