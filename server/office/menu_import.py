"""The kitchen's menu file: one XLSX (or CSV) with many days, read into days of dishes for a preview,
then written all or nothing (`server.office.menu.replace_days`).

The file is a table: a row per dish with the columns of the federal daily menu («Прием пищи», «Раздел»,
«№ рец.», «Блюдо», «Выход, г», «Цена», «Калорийность», «Белки», «Жиры», «Углеводы») plus «Дата»,
«Возрастная группа» and «Аллергены». The header may sit below a title (the federal file has «Школа …
День» above it); an empty date, meal or age group cell means "as in the row above", since menus write
them once per block. A file without a date column takes the day from the cell after «День» above the
header (a federal daily file); without an age group column, the group chosen on the page. Rows without
a dish name (totals, blank lines) are skipped unless they carry figures. Every problem is reported with
the row number Excel shows; hostile files are stopped by `server.tabular`'s limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pos.domain import AGE_GROUP_TITLES, Meal, ru_date
from server import rows as r
from server.office import menu
from server.tabular import TableError, norm_header, read_grid

HEADER_SEARCH_ROWS = 10
MAX_ROWS = 5_000  # a year of a school's menus is about 4 000 dishes
MAX_DAYS = 400
_CARRIED = ("day", "meal", "age_group")
_TOTALS = ("итог", "всего")


class MenuFileError(ValueError):
    """The file is not a menu table at all (Russian message)."""


@dataclass
class Group:
    meal: str
    age_group: str
    dishes: int = 0
    price_kopecks: int = 0
    energy_c: int = 0

    @property
    def title(self) -> str:
        return f"{Meal(self.meal).ru}, {AGE_GROUP_TITLES[self.age_group]}"


@dataclass
class ParsedMenu:
    filename: str
    days: dict[date, list[menu.DishRow]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    header_row: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.days)

    def groups(self, day: date) -> list[Group]:
        """What the day's menu holds per meal and age group (the preview's lines)."""
        found: dict[tuple[str, str], Group] = {}
        for d in self.days[day]:
            g = found.setdefault((d.meal, d.age_group), Group(d.meal, d.age_group))
            g.dishes += 1
            g.price_kopecks += d.price_kopecks
            g.energy_c += d.energy_c
        return list(found.values())


_ALIASES = {norm_header(a): c.key for c in (menu.DAY_COL, menu.AGE_COL, *menu.DISH_COLS) for a in (*c.aliases, c.key)}


def _header(grid: Sequence[tuple[int, list[Any]]]) -> int:
    best, best_score = -1, 0
    for i, (_number, cells) in enumerate(grid[:HEADER_SEARCH_ROWS]):
        keys = {_ALIASES.get(norm_header(c)) for c in cells if isinstance(c, str)} - {None}
        if "name" in keys and len(keys) > best_score:
            best, best_score = i, len(keys)
    if best < 0:
        raise MenuFileError(f"в первых {HEADER_SEARCH_ROWS} строках нет заголовков столбцов меню («Блюдо», "
                            "«Прием пищи», «Выход, г» …): проверьте, что это меню")
    return best


def _day_above(grid: Sequence[tuple[int, list[Any]]], header: int, today: date) -> tuple[date | None, list[str]]:
    """The day written after «День» above the header (the federal daily file's J1)."""
    for number, cells in grid[:header]:
        for i, cell in enumerate(cells):
            if isinstance(cell, str) and norm_header(cell) in ("день", "дата"):
                errors: list[r.RowError] = []
                values = r.parse_row(number, {"day": cells[i + 1] if i + 1 < len(cells) else None},
                                     (menu.DAY_COL,), None, errors, today)
                return (values["day"] if values else None), [str(e) for e in errors]
    return None, []


def _skippable(cells: Sequence[Any]) -> bool:
    """A line without a dish: a total («Итого»), a section title, an empty line between meals."""
    texts = [str(c).strip().lower() for c in cells if c is not None and str(c).strip()]
    if any(t.startswith(_TOTALS) for t in texts):
        return True
    return not any(isinstance(c, int | float) and not isinstance(c, bool) for c in cells)


def parse(data: bytes, filename: str, *, today: date, default_age: str | None = None) -> ParsedMenu:
    """The file's days of dishes and every row error; raises MenuFileError for a file that is no table."""
    result = ParsedMenu(filename)
    if not data.strip():
        raise MenuFileError("файл пуст")
    try:
        grid = []
        for number, cells in read_grid(data, filename):
            grid.append((number, cells))
            if len(grid) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise MenuFileError(f"в файле больше {MAX_ROWS} строк: меню так велико не бывает, разделите файл")
    except TableError as exc:
        raise MenuFileError(str(exc)) from None
    if not grid:
        raise MenuFileError("файл пуст")
    header = _header(grid)
    result.header_row = grid[header][0]
    headers = [str(c) if c is not None else "" for c in grid[header][1]]
    cols = [menu.DAY_COL, menu.AGE_COL, *menu.DISH_COLS]
    index, problems = r.map_headers(headers, [c for c in cols if c.key not in ("day", "age_group")])
    day_index, _ = r.map_headers(headers, [menu.DAY_COL, menu.AGE_COL])
    index.update(day_index)
    if problems:
        result.errors += [f"строка {result.header_row}: {p}" for p in problems]
        return result
    file_day: date | None = None
    if "day" not in index:
        file_day, errors = _day_above(grid, header, today)
        result.errors += errors
        if file_day is None and not errors:
            result.errors.append(f"строка {result.header_row}: нет столбца «Дата» и нет дня над таблицей "
                                 "(«День» и дата справа от него)")
    if "age_group" not in index and default_age is None:
        result.errors.append(f"строка {result.header_row}: нет столбца «Возрастная группа»: выберите группу для "
                             "всего файла")
    if result.errors:
        return result
    carried: dict[str, Any] = {"day": file_day, "age_group": default_age, "meal": None}
    row_errors: list[r.RowError] = []
    for number, cells in grid[header + 1:]:
        named = {key: cells[i] if i < len(cells) else None for key, i in index.items()}
        if (named.get("name") is None or str(named["name"]).strip() == "") and _skippable(cells):
            continue
        for key in _CARRIED:  # written once per block: the row above's
            value = named.get(key)
            if value is None or str(value).strip() == "":
                named[key] = carried[key]
        values = r.parse_row(number, named, cols, None, row_errors, today)
        for key in _CARRIED:
            if key in index and named.get(key) is not None and str(named[key]).strip():
                carried[key] = named[key]
        if values is not None:
            result.days.setdefault(values["day"], []).append(menu.dish_of(values))
    result.errors += [str(e) for e in row_errors[:500]]
    if len(row_errors) > 500:
        result.errors.append(f"… и ещё {len(row_errors) - 500} ошибок")
    if len(result.days) > MAX_DAYS:
        result.errors.append(f"в файле {len(result.days)} дней: больше {MAX_DAYS}, разделите файл")
    for day, dishes in result.days.items():
        result.errors += menu.check_counts(day, dishes)
    if not result.days and not result.errors:
        result.errors.append("в файле нет ни одного блюда")
    result.days = dict(sorted(result.days.items()))
    return result


def describe(parsed: ParsedMenu) -> str:
    days = list(parsed.days)
    if not days:
        return "нет дней"
    span = ru_date(days[0]) if len(days) == 1 else f"{ru_date(days[0])}–{ru_date(days[-1])}"
    return f"{len(days)} дн. ({span}), блюд: {sum(len(v) for v in parsed.days.values())}"
