"""«Меню» pages: the day view, editing (rows added, changed, deleted; errors keep what was typed), the
kitchen's file through preview and confirm, the public pages without signing in, the food/ folder;
garbage anywhere gets a Russian answer, never a 500."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from pos.domain import AGE_OLDER, AGE_YOUNGER
from server.models import Dish, MenuPrice
from server.office import menu
from server.office.roles import Role
from tests.server.kit import school_today
from tests.server.office.conftest import Office
from tests.server.office.test_menu import HEADER, xlsx

DAY = school_today() + timedelta(days=1)
DAY_URL = f"/office/sch1/menu/{DAY.isoformat()}"


def csrf(client: FlaskClient, url: str = "/office/sch1/menu") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert match
    return match[1]


def row_ids(page: str) -> list[str]:
    return re.findall(r'name="row" value="([a-z0-9]+)"', page)


def dishes(office: Office, day: date = DAY) -> list[menu.DishRow]:
    with office.engine.connect() as conn:
        return menu.day_menu(conn, "sch1", day)


def save(office: Office, day: date = DAY) -> None:
    with office.engine.begin() as conn:
        menu.replace_day(conn, "pitanie", "sch1", day, [
            menu.DishRow("breakfast", AGE_YOUNGER, "Каша рисовая", "гор.блюдо", "174", 20000, 3800, 24050, 610, 790,
                         3620, "молоко"),
            menu.DishRow("breakfast", AGE_OLDER, "Каша рисовая", "гор.блюдо", "174", 25000, 4200, 30000, 760, 990,
                         4520, "молоко"),
        ])


def test_the_menu_list_and_a_day_show_dishes_per_group_and_meal(office: Office) -> None:
    save(office)
    client = office.client(Role.CANTEEN)
    listing = client.get("/office/sch1/menu").get_data(as_text=True)
    assert "Меню" in listing and DAY.strftime("%d.%m.%Y") in listing and "Загрузить файл меню" in listing
    page = client.get(DAY_URL).get_data(as_text=True)
    assert "7–11 лет" in page and "12 лет и старше" in page and "Каша рисовая" in page
    assert "242,5" not in page and "240,5 ккал" in page and "38,00 ₽" in page and "42,00 ₽" in page
    assert f"{DAY.isoformat()}-sm.xlsx" in page and "Изменить меню" in page
    assert '<a href="/office/sch1/menu"' in office.client(Role.COORDINATOR).get(DAY_URL).get_data(as_text=True)


def test_editing_changes_adds_and_deletes_rows_and_feeds_prices(office: Office) -> None:
    save(office)
    client = office.client(Role.CANTEEN)
    form_page = client.get(f"{DAY_URL}/edit").get_data(as_text=True)
    ids = row_ids(form_page)
    assert len(ids) == 5  # two dishes and three empty rows
    token = csrf(client, f"{DAY_URL}/edit")
    data: dict[str, str | list[str]] = {"csrf_token": token, "row": ids}
    young, old, new = ids[0], ids[1], ids[2]
    data.update({f"age_group-{young}": AGE_YOUNGER, f"meal-{young}": "breakfast", f"name-{young}": "Каша пшённая",
                 f"yield_c-{young}": "200", f"price_kopecks-{young}": "40,50", f"energy_c-{young}": "231,4"})
    data.update({f"age_group-{old}": AGE_OLDER, f"meal-{old}": "breakfast", f"name-{old}": "Каша рисовая",
                 f"yield_c-{old}": "250", f"delete-{old}": "1"})
    data.update({f"age_group-{new}": AGE_OLDER, f"meal-{new}": "lunch", f"name-{new}": "Борщ",
                 f"yield_c-{new}": "250", f"price_kopecks-{new}": "25", f"allergens-{new}": "сельдерей"})
    response = client.post(f"{DAY_URL}/edit", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(DAY_URL)
    assert [(d.age_group, d.meal, d.name, d.price_kopecks, d.energy_c) for d in dishes(office)] == [
        (AGE_YOUNGER, "breakfast", "Каша пшённая", 4050, 23140), (AGE_OLDER, "lunch", "Борщ", 2500, 0)]
    with office.engine.connect() as conn:
        found = {(p.meal, p.age_group): p.price_kopecks for p in conn.execute(select(MenuPrice.__table__).where(
            MenuPrice.school_id == "sch1", MenuPrice.day == DAY, MenuPrice.age_group != ""))}
    assert found == {("breakfast", AGE_YOUNGER): 4050, ("lunch", AGE_OLDER): 2500}
    assert "сохранено: блюд 2" in client.get(DAY_URL).get_data(as_text=True)


def test_a_bad_form_saves_nothing_and_keeps_what_was_typed(office: Office) -> None:
    save(office)
    client = office.client(Role.COORDINATOR)
    ids = row_ids(client.get(f"{DAY_URL}/edit").get_data(as_text=True))
    data: dict[str, str | list[str]] = {"csrf_token": csrf(client, f"{DAY_URL}/edit"), "row": [*ids, "BAD!", "x" * 40]}
    data.update({f"age_group-{ids[0]}": AGE_YOUNGER, f"meal-{ids[0]}": "lunch", f"name-{ids[0]}": "Котлета особая",
                 f"yield_c-{ids[0]}": "-90", f"price_kopecks-{ids[0]}": "сто"})
    response = client.post(f"{DAY_URL}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Меню не сохранено" in page
    assert "строка 1, «Выход, г»: не может быть отрицательным" in page and "строка 1, «Цена»" in page
    assert 'value="Котлета особая"' in page and 'value="-90"' in page
    assert [d.name for d in dishes(office)] == ["Каша рисовая", "Каша рисовая"]


def test_a_past_day_is_shown_but_not_changed(office: Office) -> None:
    past = school_today() - timedelta(days=1)
    client = office.client(Role.COORDINATOR)
    assert "уже прошёл" in client.get(f"/office/sch1/menu/{past}").get_data(as_text=True)
    response = client.post(f"/office/sch1/menu/{past}/edit", data={
        "csrf_token": csrf(client), "row": ["a1"], "age_group-a1": AGE_YOUNGER, "meal-a1": "lunch", "name-a1": "Суп",
        "yield_c-a1": "200"})
    assert response.status_code == 422 and "уже прошёл" in response.get_data(as_text=True)
    assert dishes(office, past) == []


def test_a_new_row_comes_from_htmx_with_the_group_and_meal_asked(office: Office) -> None:
    page = office.client(Role.CANTEEN).get("/office/sch1/menu/row?age_group=12%2B&meal=lunch").get_data(as_text=True)
    assert '<option value="12+" selected>' in page and '<option value="lunch" selected>' in page
    assert len(row_ids(page)) == 1
    page = office.client(Role.CANTEEN).get("/office/sch1/menu/row?age_group=<x>&meal=%00").get_data(as_text=True)
    assert '<option value="7-11" selected>' in page and '<option value="breakfast" selected>' in page


@pytest.mark.parametrize("day", ["2026-13-01", "garbage", "2026-12-4", "%00", "9" * 300])
def test_garbage_days_are_a_russian_404(office: Office, day: str) -> None:
    for url in (f"/office/sch1/menu/{day}", f"/office/sch1/menu/{day}/edit", f"/menu/sch1/{day}"):
        response = office.client(Role.COORDINATOR).get(url)
        assert response.status_code == 404 and "Страница не найдена" in response.get_data(as_text=True), url


def test_the_menu_list_refuses_a_garbage_day_in_russian(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    assert "Неверная дата" in client.get("/office/sch1/menu?day=31.02").get_data(as_text=True)
    response = client.get(f"/office/sch1/menu?day={DAY.isoformat()}")
    assert response.status_code == 302 and response.headers["Location"].endswith(DAY_URL)


def _upload(client: FlaskClient, data: bytes, name: str, **form: str) -> tuple[int, str]:
    response = client.post("/office/sch1/menu/import/preview", content_type="multipart/form-data", data={
        "csrf_token": csrf(client, "/office/sch1/menu/import"), "file": (io.BytesIO(data), name), **form})
    return response.status_code, response.get_data(as_text=True)


def test_the_kitchens_file_is_previewed_then_imported(office: Office) -> None:
    client = office.client(Role.CANTEEN)
    assert "Загрузка меню" in client.get("/office/sch1/menu/import").get_data(as_text=True)
    data = xlsx([HEADER,
                 [DAY, "7-11", "Обед", "1 блюдо", "88", "Щи", 200, 22, 88, 1.6, 5.4, 8, ""],
                 [None, None, None, "2 блюдо", "268", "Котлета", 90, 43, 210, 12.4, 14.2, 8.8, "глютен"],
                 [DAY + timedelta(days=1), "12+", "Завтрак", "гор.блюдо", "174", "Каша", 250, 40, 300, 7, 9, 45, ""]])
    status, page = _upload(client, data, "menu.xlsx")
    assert status == 200 and "2 дн." in page and "обед, 7–11 лет" in page and "65,00 ₽" in page
    assert dishes(office) == []  # nothing written before the confirm
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token
    response = client.post("/office/sch1/menu/import/confirm", data={
        "csrf_token": csrf(client), "token": token[1], "age": ""})
    assert response.status_code == 302
    assert [d.name for d in dishes(office)] == ["Щи", "Котлета"]
    assert [d.name for d in dishes(office, DAY + timedelta(days=1))] == ["Каша"]
    again = client.post("/office/sch1/menu/import/confirm", data={"csrf_token": csrf(client), "token": token[1]})
    assert again.status_code == 422 and "не найден или устарел" in again.get_data(as_text=True)


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "menu.xlsx", "файл пуст"),
    (b"PK\x03\x04\x00\x00garbage", "menu.xlsx", "не читается как книга Excel"),
    (b"\x89PNG\r\n", "menu.png", "не поддерживается"),
    (xlsx([["Фамилия", "Имя"], ["Иванова", "Анна"]]), "menu.xlsx", "нет заголовков столбцов меню"),
    (xlsx([HEADER, ["2031-01-01", "7-11", "Обед", None, None, "Суп", 200]]), "menu.xlsx", "вне текущего"),
], ids=["empty", "broken-zip", "png", "not-a-menu", "far-day"])
def test_broken_and_hostile_files_get_a_russian_answer_and_write_nothing(office: Office, data: bytes, name: str,
                                                                          message: str) -> None:
    status, page = _upload(office.client(Role.COORDINATOR), data, name)
    assert status == 422 and message in page, page
    assert 'name="token"' not in page
    with office.engine.connect() as conn:
        assert conn.execute(select(Dish.name)).first() is None


def test_a_forged_or_missing_token_is_refused(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    for token in ("", "../../etc/passwd", "A" * 40):
        response = client.post("/office/sch1/menu/import/confirm", data={"csrf_token": csrf(client), "token": token})
        assert response.status_code == 422 and "не найден или устарел" in response.get_data(as_text=True)


def test_the_public_menu_opens_without_signing_in(office: Office) -> None:
    save(office)
    anonymous = office.client(None)
    page = anonymous.get("/menu/sch1").get_data(as_text=True)
    assert "Меню школьной столовой" in page and "Школа sch1" in page and "Каша рисовая" in page
    assert DAY.strftime("%d.%m.%Y") in page and "аллергены: молоко" in page and 'name="viewport"' in page
    assert "Войти" not in page and "csrf" not in page
    day_page = anonymous.get(f"/menu/sch1/{DAY.isoformat()}").get_data(as_text=True)
    assert "12 лет и старше" in day_page and "250 г" in day_page
    empty = anonymous.get(f"/menu/sch1/{(DAY + timedelta(days=3)).isoformat()}")
    assert empty.status_code == 200 and "не опубликовано" in empty.get_data(as_text=True)
    assert "не опубликовано" in anonymous.get("/menu/sch2").get_data(as_text=True)


@pytest.mark.parametrize("school", ["nope", "sch1%00", "x" * 100])
def test_public_pages_of_no_school_are_a_russian_404(office: Office, school: str) -> None:
    for url in (f"/menu/{school}", f"/menu/{school}/{DAY}", f"/menu/{school}/food/", f"/menu/{school}/food/a.xlsx"):
        response = office.client(None).get(url)
        assert response.status_code == 404 and "Страница не найдена" in response.get_data(as_text=True), url


def test_the_food_folder_lists_published_days_and_serves_their_files(office: Office) -> None:
    save(office)
    anonymous = office.client(None)
    listing = anonymous.get("/menu/sch1/food/").get_data(as_text=True)
    name = f"{DAY.isoformat()}-sm.xlsx"
    assert f'href="/menu/sch1/food/{name}"' in listing and "ГД-1158/01" in listing
    response = anonymous.get(f"/menu/sch1/food/{name}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None and sheet["D4"].value == "Каша рисовая" and sheet["E4"].value == 200
    for missing in (f"{DAY + timedelta(days=5)}-sm.xlsx", "2026-02-30-sm.xlsx", "passwd", f"{DAY}.xlsx"):
        assert anonymous.get(f"/menu/sch1/food/{missing}").status_code == 404, missing
