"""The federal monitoring's daily menu file (ГД-1158/01): `YYYY-MM-DD-sm.xlsx`, read back with openpyxl,
has the template's header and table and the day's dishes; `canteen server menu-file` writes it."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from sqlalchemy import Engine

from pos.cli import main
from pos.domain import AGE_OLDER, AGE_YOUNGER
from server.office import menu, menu_file
from tests.server.kit import school_today, seed_school

DAY = school_today() + timedelta(days=1)


def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["server", *args], env={"CANTEEN_DATABASE_URL": db_url}, catch_exceptions=False)


@pytest.fixture
def school(engine: Engine) -> None:
    seed_school(engine, "sch1")
    with engine.begin() as conn:
        menu.replace_day(conn, "pitanie", "sch1", DAY, [
            menu.DishRow("breakfast", AGE_YOUNGER, "Каша рисовая", "гор.блюдо", "174", 20000, 3800, 24050, 610, 790,
                         3620),
            menu.DishRow("breakfast", AGE_YOUNGER, "=HYPERLINK(\"x\")", "гор.напиток", "376", 20000, 600, 6000, 20, 0,
                         1500),
            menu.DishRow("lunch", AGE_YOUNGER, "Щи", "1 блюдо", "88", 25000, 2200, 8800, 160, 540, 800),
            menu.DishRow("lunch", AGE_OLDER, "Щи (12+)", "1 блюдо", "88", 30000, 2500, 10560, 190, 650, 960),
        ])


def test_the_days_file_has_the_templates_layout_and_the_primary_menu(engine: Engine, school: None) -> None:
    with engine.connect() as conn:
        data = menu_file.food_file(conn, "sch1", DAY)
    assert data is not None
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["Школа", "Школа sch1"] and header[4] == "Отд./корп" and header[8] == "День"
    assert header[9] == datetime.combine(DAY, datetime.min.time())
    assert all(c.value is None for c in sheet[2])
    assert tuple(c.value for c in sheet[3]) == menu_file.COLUMNS == (
        "Прием пищи", "Раздел", "№ рец.", "Блюдо", "Выход, г", "Цена", "Калорийность", "Белки", "Жиры", "Углеводы")
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=4)]
    assert rows == [
        ("Завтрак", "гор.блюдо", "174", "Каша рисовая", 200, 38, 240.5, 6.1, 7.9, 36.2),
        (None, "гор.напиток", "376", "'=HYPERLINK(\"x\")", 200, 6, 60, 0.2, 0, 15),  # shown, never run
        ("Обед", "1 блюдо", "88", "Щи", 250, 22, 88, 1.6, 5.4, 8),
    ]  # the 7–11 menu only: the monitoring reads the primary school's


def test_a_day_with_only_the_older_menu_files_that_one(engine: Engine, school: None) -> None:
    other = DAY + timedelta(days=1)
    with engine.begin() as conn:
        menu.replace_day(conn, "pitanie", "sch1", other, [menu.DishRow("lunch", AGE_OLDER, "Плов", yield_c=24000)])
        data = menu_file.food_file(conn, "sch1", other)
        assert menu_file.food_file(conn, "sch1", other + timedelta(days=1)) is None
    assert data is not None
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet["D4"].value == "Плов" and sheet["F4"].value is None


def test_file_names_are_the_day_and_nothing_else_is_a_day() -> None:
    assert menu_file.file_name(DAY) == f"{DAY:%Y-%m-%d}-sm.xlsx"
    assert menu_file.day_of(f"{DAY:%Y-%m-%d}-sm.xlsx") == DAY
    for name in ("2026-02-30-sm.xlsx", "2026-12-04.xlsx", "../2026-12-04-sm.xlsx", "2026-12-04-sm.xlsx.exe", ""):
        assert menu_file.day_of(name) is None, name


def test_the_cli_writes_the_file_into_the_folder(db_url: str, engine: Engine, school: None, tmp_path: Path) -> None:
    result = run(db_url, "menu-file", "sch1", "--date", DAY.strftime("%d.%m.%Y"), "--out", str(tmp_path / "food"))
    assert result.exit_code == 0, result.output
    path = tmp_path / "food" / f"{DAY:%Y-%m-%d}-sm.xlsx"
    assert str(path) in result.output
    sheet = load_workbook(path).active
    assert sheet is not None and sheet["D6"].value == "Щи"
    empty = run(db_url, "menu-file", "sch1", "--date", (DAY + timedelta(days=9)).isoformat(), "--out", str(tmp_path))
    assert empty.exit_code == 1 and "меню на" in empty.output and "нет" in empty.output
    bad = run(db_url, "menu-file", "sch1", "--date", "31.02.2026", "--out", str(tmp_path))
    assert bad.exit_code == 2
