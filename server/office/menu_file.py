"""The daily menu file of the federal monitoring of school meals (letter of the Ministry of Education
ГД-1158/01 of 17.05.2021): each school puts one XLSX per day into the `food/` folder of its site, named
``YYYY-MM-DD-sm.xlsx``, by 18:00 of the day before.

The template (as the monitoring's sample and the generators schools use lay it out): row 1 holds
«Школа» and the school's name (A1, B1), «Отд./корп» and the branch (E1, F1), «День» and the date (I1,
J1); row 2 is empty; row 3 is the table's header (`COLUMNS`); from row 4 a row per dish, the meal
named on the first row of its block. The monitoring reads the primary school's (7–11 years) menu, so
the file carries the 7–11 group's dishes, or the 12+ group's on a day that has only those.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

from sqlalchemy import Connection

from pos.domain import AGE_OLDER, AGE_YOUNGER, MEAL_TITLES, Meal
from server.office import menu
from server.tabular import excel_safe

COLUMNS = ("Прием пищи", "Раздел", "№ рец.", "Блюдо", "Выход, г", "Цена", "Калорийность", "Белки", "Жиры",
           "Углеводы")
SUFFIX = "-sm.xlsx"
_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})-sm\.xlsx")


def file_name(day: date) -> str:
    return f"{day:%Y-%m-%d}{SUFFIX}"


def day_of(name: str) -> date | None:
    """The day a file name of the folder stands for; None for any other name."""
    m = _NAME.fullmatch(name)
    if not m:
        return None
    try:
        return date.fromisoformat(m[1])
    except ValueError:
        return None


def _number(hundredths: int) -> int | float:
    return hundredths // 100 if hundredths % 100 == 0 else hundredths / 100


def food_file(conn: Connection, school_id: str, day: date) -> bytes | None:
    """The day's file in the monitoring's template; None when the day has no menu."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    dishes = menu.day_menu(conn, school_id, day)
    group = AGE_YOUNGER if any(d.age_group == AGE_YOUNGER for d in dishes) else AGE_OLDER
    dishes = [d for d in dishes if d.age_group == group]
    if not dishes:
        return None
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "1"
    sheet.append(["Школа", excel_safe(menu.school_name(conn, school_id)), None, None, "Отд./корп", None, None, None,
                  "День", datetime.combine(day, datetime.min.time())])
    sheet["F1"].number_format = "@"
    sheet["J1"].number_format = "dd.mm.yyyy"
    sheet.append([])
    sheet.append(list(COLUMNS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    shown = ""
    for d in dishes:
        title = MEAL_TITLES[Meal(d.meal)].capitalize() if d.meal != shown else None
        shown = d.meal
        sheet.append([title, excel_safe(d.section), excel_safe(d.recipe), excel_safe(d.name), _number(d.yield_c),
                      d.price_kopecks / 100 if d.price_kopecks else None, _number(d.energy_c),
                      _number(d.proteins_c), _number(d.fats_c), _number(d.carbs_c)])
        sheet.cell(sheet.max_row, 6).number_format = "0.00"
    for letter, width in zip("ABCDEFGHIJ", (12, 14, 9, 42, 10, 10, 14, 9, 9, 11), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
