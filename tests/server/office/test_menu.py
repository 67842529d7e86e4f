"""The menu service: a day replaced whole, its prices per meal and age group (rev, audit, tombstones),
the rules of every cell, and the kitchen's file read with row errors in Russian."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select

from pos.domain import AGE_OLDER, AGE_YOUNGER, age_group
from server.models import AuditEntry, Dish, MenuPrice, School, Tombstone
from server.office import menu, menu_import
from server.office.changes import NotFound
from tests.server.kit import school_today, seed_school

HEADER = ["Дата", "Возрастная группа", "Прием пищи", "Раздел", "№ рец.", "Блюдо", "Выход, г", "Цена",
          "Калорийность", "Белки", "Жиры", "Углеводы", "Аллергены"]


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def dish(meal: str = "lunch", group: str = AGE_YOUNGER, name: str = "Суп", price: int = 3000,
         **more: Any) -> menu.DishRow:
    return menu.DishRow(meal, group, name, yield_c=more.pop("yield_c", 20000), price_kopecks=price, **more)


def prices(engine: Engine, day: date) -> dict[tuple[str, str], tuple[int, int]]:
    with engine.connect() as conn:
        return {(p.meal, p.age_group): (p.price_kopecks, p.rev) for p in conn.execute(
            select(MenuPrice.__table__).where(MenuPrice.school_id == "sch1", MenuPrice.day == day))}


@pytest.fixture
def school(engine: Engine) -> date:
    """sch1 with the price file's prices ("" rows) for today and tomorrow; returns tomorrow."""
    seed_school(engine, "sch1")
    return school_today() + timedelta(days=1)


def test_saving_a_day_writes_its_dishes_and_each_groups_price_with_one_rev(engine: Engine, school: date) -> None:
    dishes = [dish(name="Щи", price=2200), dish(name="Котлета", price=4300), dish(name="Компот", price=800),
              dish(group=AGE_OLDER, name="Щи", price=2500), dish(group=AGE_OLDER, name="Котлета", price=5000),
              dish(meal="breakfast", name="Каша", price=0, energy_c=24050, proteins_c=471)]
    with engine.begin() as conn:
        rev = menu.replace_day(conn, "pitanie", "sch1", school, dishes)
        assert menu.day_menu(conn, "sch1", school)[0] == dishes[5]  # breakfast first, exact hundredths
        assert [d.name for d in menu.day_menu(conn, "sch1", school)][1:4] == ["Щи", "Котлета", "Компот"]
        assert conn.execute(select(School.rev).where(School.id == "sch1")).scalar() == rev
        audit = conn.execute(select(AuditEntry.__table__).where(AuditEntry.entity == "menu")).one()
    assert (audit.actor, audit.entity_id, audit.before) == ("pitanie", school.isoformat(), None)
    assert "Котлета" in audit.after
    # the breakfast costs nothing: no age-group price, the price file's "" row stays for every age
    assert prices(engine, school) == {("lunch", AGE_YOUNGER): (7300, rev), ("lunch", AGE_OLDER): (7500, rev),
                                      ("breakfast", ""): (7500, prices(engine, school)[("breakfast", "")][1]),
                                      ("lunch", ""): (11000, prices(engine, school)[("lunch", "")][1])}


def test_a_group_dropped_from_the_menu_loses_its_price_and_terminals_are_told(engine: Engine, school: date) -> None:
    with engine.begin() as conn:
        menu.replace_day(conn, "pitanie", "sch1", school, [dish(), dish(group=AGE_OLDER, price=4000)])
    first = prices(engine, school)[("lunch", AGE_YOUNGER)][1]
    with engine.begin() as conn:
        rev = menu.replace_day(conn, "pitanie", "sch1", school, [dish()])  # the same 7–11 lunch, no 12+
        tomb = conn.execute(select(Tombstone.__table__).where(Tombstone.table == "menu_prices")).one()
    assert (tomb.rev, json.loads(tomb.key)) == (rev, [school.isoformat(), "lunch", AGE_OLDER])
    assert prices(engine, school)[("lunch", AGE_YOUNGER)] == (3000, first)  # unchanged: not sent again
    assert ("lunch", AGE_OLDER) not in prices(engine, school)
    with engine.begin() as conn:
        menu.replace_day(conn, "pitanie", "sch1", school, [])
        assert menu.day_menu(conn, "sch1", school) == []
    assert set(prices(engine, school)) == {("breakfast", ""), ("lunch", "")}


@pytest.mark.parametrize(("day", "message"), [
    (-1, "уже прошёл"), (800, "вне текущего и следующего учебного года")])
def test_past_days_and_days_beyond_next_school_year_are_refused(engine: Engine, school: date, day: int,
                                                                 message: str) -> None:
    when = school_today() + timedelta(days=day)
    with engine.begin() as conn, pytest.raises(menu.MenuError, match=message):
        menu.replace_day(conn, "pitanie", "sch1", when, [dish()])
    with engine.connect() as conn:
        assert conn.execute(select(Dish)).first() is None


def test_unknown_school_is_not_found(engine: Engine, school: date) -> None:
    with engine.begin() as conn, pytest.raises(NotFound):
        menu.replace_day(conn, "pitanie", "nope", school, [dish()])


def test_more_dishes_than_a_menu_has_are_refused(engine: Engine, school: date) -> None:
    with engine.begin() as conn, pytest.raises(menu.MenuError, match="больше 60 блюд"):
        menu.replace_day(conn, "pitanie", "sch1", school, [dish(name=f"Блюдо {i}") for i in range(61)])


@pytest.mark.parametrize(("cells", "message"), [
    ({"yield_c": "-5"}, "«Выход, г»: не может быть отрицательным"),
    ({"price_kopecks": "-48,58"}, "«Цена»: сумма не может быть отрицательной"),
    ({"energy_c": "NaN"}, "«Калорийность»: ожидается число"),
    ({"proteins_c": float("nan")}, "«Белки»: ожидается число"),
    ({"fats_c": "-Infinity"}, "«Жиры»: ожидается число"),
    ({"fats_c": "1e400"}, "«Жиры»: больше 100000"),
    ({"carbs_c": "много"}, "«Углеводы»: ожидается число"),
    ({"meal": "молоко"}, "цена молока — в файле цен"),
    ({"meal": "ужин"}, "неизвестный приём пищи"),
    ({"age_group": "3-7"}, "неизвестная возрастная группа"),
    ({"name": ""}, "«Блюдо»: не заполнено"),
    ({"name": "Суп\x00"}, "управляющий символ"),
    ({"yield_c": "99999999"}, "больше 100000"),
])
def test_bad_cells_are_refused_with_the_row_and_column(cells: dict[str, Any], message: str) -> None:
    row = {"age_group": "7-11", "meal": "обед", "name": "Суп", "yield_c": "200", **cells}
    dishes, errors = menu.parse_dishes([(7, row)], date(2026, 12, 3))
    assert dishes == [] and len(errors) == 1 and errors[0].startswith("строка 7") and message in errors[0], errors


def test_cells_as_kitchens_write_them_are_read_exactly() -> None:
    dishes, errors = menu.parse_dishes([(1, {
        "age_group": "12 лет и старше", "meal": "Завтрак", "name": " Чай с сахаром ", "yield_c": "200/15",
        "price_kopecks": "6,50", "energy_c": 59.99999999, "proteins_c": "0,2", "fats_c": "", "carbs_c": "4,713",
        "allergens": "нет"})], date(2026, 12, 3))
    assert errors == []
    assert dishes == [menu.DishRow("breakfast", AGE_OLDER, "Чай с сахаром", yield_c=21500, price_kopecks=650,
                                   energy_c=6000, proteins_c=20, fats_c=0, carbs_c=471, allergens="нет")]


@pytest.mark.parametrize(("birth", "grade", "group"), [
    (date(2016, 12, 4), 5, AGE_YOUNGER),  # 9 years old in grade 5: by age
    (date(2014, 12, 3), 5, AGE_OLDER),  # 12 today
    (date(2014, 12, 4), 6, AGE_YOUNGER),  # 12 tomorrow
    (None, 4, AGE_YOUNGER), (None, 5, AGE_OLDER),  # no birth date: by grade
])
def test_age_group_by_age_else_by_grade(birth: date | None, grade: int, group: str) -> None:
    assert age_group(birth, grade, date(2026, 12, 3)) == group


# ---- the kitchen's file ----

def test_a_file_of_many_days_is_read_with_blocks_written_once(school: date) -> None:
    d1, d2 = school, school + timedelta(days=1)
    data = xlsx([
        ["Меню на неделю"],  # a title above the header
        HEADER,
        [d1, "7-11", "Завтрак", "гор.блюдо", "174", "Каша рисовая", 200, 38, 240, 6.1, 7.9, 36.2, "молоко"],
        [None, None, None, "гор.напиток", "376", "Чай с сахаром", "200", "6,00", 60, 0.2, 0, 15, ""],
        [None, None, "Итого", None, None, None, None, 44, 300, None, None, None, None],  # a total: skipped
        [None, "12+", "Обед", "1 блюдо", "88", "Щи", 250, 22, 88, 1.6, 5.4, 8, ""],
        [],
        [d2.strftime("%d.%m.%Y"), "7–11 лет", "обед", "2 блюдо", "268", "Котлета", "90", 43, 210, 12.4, 14.2, 8.8,
         "глютен"],
    ])
    parsed = menu_import.parse(data, "меню.xlsx", today=school_today())
    assert parsed.errors == [] and parsed.header_row == 2 and list(parsed.days) == [d1, d2]
    assert [(d.meal, d.age_group, d.name, d.price_kopecks) for d in parsed.days[d1]] == [
        ("breakfast", AGE_YOUNGER, "Каша рисовая", 3800), ("breakfast", AGE_YOUNGER, "Чай с сахаром", 600),
        ("lunch", AGE_OLDER, "Щи", 2200)]
    assert parsed.days[d2][0].allergens == "глютен"
    assert [(g.title, g.dishes, g.price_kopecks) for g in parsed.groups(d1)] == [
        ("завтрак, 7–11 лет", 2, 4400), ("обед, 12 лет и старше", 1, 2200)]


def test_a_federal_daily_file_takes_its_day_from_the_header_and_the_group_from_the_page(school: date) -> None:
    data = xlsx([
        ["Школа", "МБОУ СОШ № 3", None, None, "Отд./корп", None, None, None, "День",
         datetime.combine(school, datetime.min.time())],
        [],
        ["Прием пищи", "Раздел", "№ рец.", "Блюдо", "Выход, г", "Цена", "Калорийность", "Белки", "Жиры", "Углеводы"],
        ["Завтрак", "гор.блюдо", "210", "Омлет", 150, 40, 250, 13.9, 20.6, 2.7],
        [None, "хлеб", None, "Хлеб пшеничный", 30, 4, 70, 2.3, 0.2, 14.8],
    ])
    no_group = menu_import.parse(data, f"{school}-sm.xlsx", today=school_today())
    assert no_group.errors == ["строка 3: нет столбца «Возрастная группа»: выберите группу для всего файла"]
    parsed = menu_import.parse(data, f"{school}-sm.xlsx", today=school_today(), default_age=AGE_YOUNGER)
    assert parsed.errors == [] and [d.name for d in parsed.days[school]] == ["Омлет", "Хлеб пшеничный"]


def test_row_errors_are_all_reported_with_excel_row_numbers(school: date) -> None:
    past = school_today() - timedelta(days=3)
    data = xlsx([
        HEADER,
        [school, "7-11", "Обед", None, None, "Суп", -200, 30, 100, 1, 1, 1, None],
        [past, "7-11", "Обед", None, None, "Суп", 200, 30, 100, 1, 1, 1, None],
        [school, "5 лет", "Обед", None, None, "Суп", 200, 30, 100, 1, 1, 1, None],
        [school, "7-11", "Обед", None, None, None, 200, 30, 100, 1, 1, 1, None],  # figures but no dish
        [school, "7-11", "Обед", None, None, "Суп", 200, "сорок рублей", 100, 1, 1, 1, None],
    ])
    parsed = menu_import.parse(data, "меню.xlsx", today=school_today())
    assert not parsed.ok
    assert [e.split(":")[0] for e in parsed.errors] == [
        "строка 2, «Выход, г»", "строка 3, «Дата»", "строка 4, «Возрастная группа»", "строка 5, «Блюдо»",
        "строка 6, «Цена»"], parsed.errors
    assert "уже прошёл" in parsed.errors[1]


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "menu.xlsx", "файл пуст"),
    (b"PK\x03\x04garbage", "menu.xlsx", "не читается как книга Excel"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "menu.xls", "XLS"),
    ("Имя;Фамилия\nАнна;Иванова\n".encode(), "menu.csv", "нет заголовков столбцов меню"),
    (b"\x00\x01\x02\x03" * 100, "menu.csv", "не похож на текст CSV"),
    (b"x" * (17 * 1024 * 1024), "menu.csv", "больше 16 МБ"),
], ids=["empty", "broken-zip", "xls", "not-a-menu", "binary", "too-big"])
def test_files_that_are_no_menu_are_refused_in_russian(data: bytes, name: str, message: str) -> None:
    with pytest.raises(menu_import.MenuFileError, match=message):
        menu_import.parse(data, name, today=date(2026, 12, 3))


def test_a_file_with_a_huge_cell_is_stopped_by_the_table_limits() -> None:
    data = xlsx([HEADER, ["2026-12-04", "7-11", "Обед", None, None, "С" * 20_000, 200]])
    with pytest.raises(menu_import.MenuFileError, match="длиннее 10000 символов"):
        menu_import.parse(data, "menu.xlsx", today=date(2026, 12, 3))


def test_replacing_several_days_is_all_or_nothing(engine: Engine, school: date) -> None:
    past = school_today() - timedelta(days=1)
    with engine.begin() as conn, pytest.raises(menu.MenuError, match="уже прошёл"):
        menu.replace_days(conn, "pitanie", "sch1", {school: [dish()], past: [dish()]})
    with engine.connect() as conn:
        assert conn.execute(select(Dish)).first() is None
