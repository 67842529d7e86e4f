"""The menu: the dishes of each day per meal and age group, and the prices of paid meals they make.

A day's menu is replaced whole (page, import, CLI and demo all come through `replace_day`): its dishes
are checked cell by cell with the rules of `DISH_COLS` (the same for a form and a file), then written,
and the day's menu prices (`MenuPrice`) become the sum of the dish prices per meal and age group, so a
paying student is charged their group's price at the window (`pos.reference.Reference.price`). The
change takes one rev of the school and is audited (`server.office.changes.change`), so terminals pull
the new prices on their next sync. A meal whose dishes cost nothing has no age-group price: the price
of the price file ("" — every age) still applies, and refusing a paying student with no price at all
stays the terminal's rule.

Menus are kept for the current and the next school year only, and a day that is over is not changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from pos.domain import AGE_GROUP_TITLES, AGE_OLDER, AGE_YOUNGER, ALL_AGES, Meal, menu_price, ru_date
from pos.money import format_rub
from server import rows as r
from server.db import upsert
from server.models import Dish, MenuPrice, School, Tombstone
from server.office.changes import NotFound, OfficeError, change
from server.office.changes import today as school_today

MENU_MEALS = (Meal.BREAKFAST, Meal.LUNCH, Meal.SNACK)  # milk is priced by the price file, not cooked
AGE_GROUPS = (AGE_YOUNGER, AGE_OLDER)
MAX_DISHES = 60  # of one meal for one age group: a menu has a dozen
AMOUNT_MAX = 10_000_000  # hundredths: 100 000 g or kcal, far beyond any portion
PRICE_MAX = 1_000_000  # kopecks: 10 000 ₽ for one dish


class MenuError(OfficeError):
    """The menu was not saved; `errors` (Russian, with row numbers) say why."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors[:3]) + (f" (и ещё {len(errors) - 3})" if len(errors) > 3 else ""))
        self.errors = list(errors)


@dataclass(frozen=True)
class DishRow:
    meal: str
    age_group: str
    name: str
    section: str = ""
    recipe: str = ""
    yield_c: int = 0  # grams × 100
    price_kopecks: int = 0
    energy_c: int = 0  # kcal × 100
    proteins_c: int = 0  # grams × 100
    fats_c: int = 0
    carbs_c: int = 0
    allergens: str = ""


# ---- cells: one set of rules for the page's form, the kitchen's file and the CLI ----

def amount(value: Any) -> int:
    """Grams or kcal as exact hundredths: 200, «4,71», 4.713 (Excel's figure, rounded), «150/5»
    (a portion with its topping, as menus write it: the sum)."""
    if isinstance(value, bool):
        raise r.CellError(f"ожидается число, а не «{value}»")
    parts = [value] if isinstance(value, int | float) else re.split(r"\s*/\s*", str(value).strip())
    total = Decimal(0)
    for part in parts:
        text = str(part).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise r.CellError(f"ожидается число, например «4,71», а не «{str(value)[:40]}»") from None
        if not number.is_finite():
            raise r.CellError(f"ожидается число, а не «{str(value)[:40]}»")
        if number < 0:
            raise r.CellError("не может быть отрицательным")
        total += number
    if total * 100 > AMOUNT_MAX:
        raise r.CellError(f"больше {AMOUNT_MAX // 100}: проверьте число")
    return int((total * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def menu_meal(value: Any) -> str:
    meal = r.meal(value)
    if Meal(meal) not in MENU_MEALS:
        raise r.CellError(f"в меню только {', '.join(m.ru for m in MENU_MEALS)}; цена молока — в файле цен")
    return meal


_AGE_WORDS = re.compile(r"\s*(лет|года|год|years?|классы?|кл\.?)\s*", re.IGNORECASE)


def age_group_of(value: Any) -> str:
    """«7-11», «7–11 лет», «12+», «12 лет и старше», «12-18» -> "7-11" or "12+"."""
    raw = str(value or "").strip()
    text = _AGE_WORDS.sub(" ", re.sub(r"[\u2010-\u2015\u2212]", "-", raw)).lower()
    text = "".join(text.split())
    if text in ("7-11", "6-11", "1-4"):
        return AGE_YOUNGER
    if text in ("12+", "12", "12истарше", "старше12", "12-18", "12-17", "5-11"):
        return AGE_OLDER
    raise r.CellError(f"неизвестная возрастная группа «{raw[:30]}»; допустимо: "
                      f"{', '.join(AGE_GROUP_TITLES.values())}")


def not_past_and_this_or_next_year(value: date, today: date) -> str | None:
    if value < today:
        return f"день {ru_date(value)} уже прошёл: меню прошедшего дня не меняется"
    return r.this_or_next_school_year(value, today)


def _zero(parse: r.Parser) -> r.Parser:
    def wrapped(value: Any) -> Any:
        return 0 if value is None or str(value).strip() == "" else parse(value)
    return wrapped


DAY_COL = r.Col("day", ("Дата", "День", "date", "day"), r.day, check=not_past_and_this_or_next_year)
AGE_COL = r.Col("age_group", ("Возрастная группа", "Возраст", "Группа", "age_group", "age"), age_group_of)
DISH_COLS = (
    r.Col("meal", ("Прием пищи", "Приём пищи", "meal"), menu_meal),
    r.Col("section", ("Раздел", "section"), r.text(64), required=False),
    r.Col("recipe", ("№ рец.", "№ рецептуры", "№ рец", "Рецептура", "recipe"), r.text(32), required=False),
    r.Col("name", ("Блюдо", "Наименование блюда", "Название", "name", "dish"), r.text(300)),
    r.Col("yield_c", ("Выход, г", "Выход", "Масса порции", "yield"), amount),
    r.Col("price_kopecks", ("Цена", "Цена, руб", "price"), _zero(r.money(0, PRICE_MAX)), required=False),
    r.Col("energy_c", ("Калорийность", "Энергетическая ценность", "Ккал", "energy"), _zero(amount),
          required=False),
    r.Col("proteins_c", ("Белки", "proteins"), _zero(amount), required=False),
    r.Col("fats_c", ("Жиры", "fats"), _zero(amount), required=False),
    r.Col("carbs_c", ("Углеводы", "carbohydrates", "carbs"), _zero(amount), required=False),
    r.Col("allergens", ("Аллергены", "allergens"), r.text(300), required=False),
)


def dish_of(values: Mapping[str, Any]) -> DishRow:
    return DishRow(**{k: values[k] for k in DishRow.__dataclass_fields__})


def parse_dishes(rows: Iterable[tuple[int, Mapping[str, Any]]], today: date) -> tuple[list[DishRow], list[str]]:
    """Dishes from form rows (by column key, as typed), with each bad cell as «строка N, «…»: …»."""
    dishes: list[DishRow] = []
    errors: list[r.RowError] = []
    for number, cells in rows:
        row = r.parse_row(number, cells, (AGE_COL, *DISH_COLS), None, errors, today)
        if row is not None:
            dishes.append(dish_of(row))
    return dishes, [str(e) for e in errors]


# ---- reading ----

def day_menu(conn: Connection, school_id: str, day: date) -> list[DishRow]:
    """The day's dishes in the order of meals, age groups and positions."""
    found = conn.execute(select(Dish.__table__).where(Dish.school_id == school_id, Dish.day == day)).all()
    order = {m.value: i for i, m in enumerate(MENU_MEALS)}
    found = sorted(found, key=lambda d: (order.get(d.meal, 9), AGE_GROUPS.index(d.age_group)
                                         if d.age_group in AGE_GROUPS else 9, d.position))
    return [DishRow(d.meal, d.age_group, d.name, d.section, d.recipe, d.yield_c, d.price_kopecks, d.energy_c,
                    d.proteins_c, d.fats_c, d.carbs_c, d.allergens) for d in found]


def menu_days(conn: Connection, school_id: str, start: date, end: date) -> dict[date, int]:
    """Days from `start` to `end` that have a menu, with their number of dishes."""
    counts: dict[date, int] = {}
    for day in conn.execute(select(Dish.day).where(Dish.school_id == school_id, Dish.day >= start,
                                                   Dish.day <= end)).scalars():
        counts[day] = counts.get(day, 0) + 1
    return dict(sorted(counts.items()))


def sums(dishes: Iterable[DishRow]) -> dict[tuple[str, str], int]:
    """The price of each (meal, age group): the sum of its dishes' prices."""
    totals: dict[tuple[str, str], int] = {}
    for d in dishes:
        totals[(d.meal, d.age_group)] = totals.get((d.meal, d.age_group), 0) + d.price_kopecks
    return totals


def paid_prices(conn: Connection, school_id: str, day: date) -> Callable[[str, str], int | None]:
    """The day's price of a paid meal for an age group, as the terminals charge it (`pos.domain.menu_price`:
    the group's price, else the price for every age; None when the menu has neither) — the one lookup the
    class order and the kitchen's order price paid meals by."""
    prices = {(m, g): p for m, g, p in conn.execute(
        select(MenuPrice.meal, MenuPrice.age_group, MenuPrice.price_kopecks).where(
            MenuPrice.school_id == school_id, MenuPrice.day == day))}

    def price(meal: str, group: str) -> int | None:
        return menu_price(prices, meal, group)

    return price


def school_name(conn: Connection, school_id: str) -> str:
    name = conn.execute(select(School.name).where(School.id == school_id)).scalar()
    if name is None:
        raise NotFound(f"школа {school_id} не найдена")
    return str(name)


# ---- writing ----

def check_day(day: date, today: date) -> None:
    problem = not_past_and_this_or_next_year(day, today)
    if problem:
        raise MenuError([problem])


def check_counts(day: date, dishes: Sequence[DishRow]) -> list[str]:
    counts: dict[tuple[str, str], int] = {}
    for d in dishes:
        counts[(d.meal, d.age_group)] = counts.get((d.meal, d.age_group), 0) + 1
    return [f"{ru_date(day)}, {Meal(m).ru}, {AGE_GROUP_TITLES[g]}: больше {MAX_DISHES} блюд"
            for (m, g), n in counts.items() if n > MAX_DISHES]


def replace_day(conn: Connection, actor: str, school_id: str, day: date, dishes: Sequence[DishRow], *,
                today: date | None = None) -> int:
    """Make `dishes` the whole menu of `day` and its paid meals' prices; returns the rev taken.

    Raises MenuError (nothing written) for a day that is over or outside the school years, too many
    dishes; NotFound for no such school. `today` is the school's today unless a caller knows better
    (the demo builds a past week)."""
    today = today or school_today(conn, school_id)
    check_day(day, today)
    problems = check_counts(day, dishes)
    if problems:
        raise MenuError(problems)
    before = day_menu(conn, school_id, day)
    old_prices = {(m, g): p for m, g, p in conn.execute(
        select(MenuPrice.meal, MenuPrice.age_group, MenuPrice.price_kopecks).where(
            MenuPrice.school_id == school_id, MenuPrice.day == day, MenuPrice.age_group != ALL_AGES)).tuples()}
    new_prices = {k: v for k, v in sums(dishes).items() if v > 0}
    rev = change(conn, actor, school_id, "menu", day.isoformat(), "replace",
                 _audit(before, old_prices) if before or old_prices else None,
                 _audit(dishes, new_prices) if dishes else None)
    conn.execute(delete(Dish).where(Dish.school_id == school_id, Dish.day == day))
    positions: dict[tuple[str, str], int] = {}
    values = []
    for d in dishes:
        key = (d.meal, d.age_group)
        positions[key] = positions.get(key, 0) + 1
        values.append({"school_id": school_id, "day": day, "position": positions[key], **asdict(d)})
    if values:
        conn.execute(insert(Dish), values)
    gone = [k for k in old_prices if k not in new_prices]
    for meal, group in gone:
        conn.execute(delete(MenuPrice).where(MenuPrice.school_id == school_id, MenuPrice.day == day,
                                             MenuPrice.meal == meal, MenuPrice.age_group == group))
    if gone:  # terminals delete them too (the key after school_id, as `server.pull` sends it)
        conn.execute(insert(Tombstone), [{"school_id": school_id, "rev": rev, "table": "menu_prices",
                                          "key": json.dumps([day.isoformat(), m, g])} for m, g in gone])
    upsert(conn, MenuPrice.__table__, [
        {"school_id": school_id, "day": day, "meal": m, "age_group": g, "price_kopecks": p, "rev": rev}
        for (m, g), p in new_prices.items() if old_prices.get((m, g)) != p],
        ("school_id", "day", "meal", "age_group"))
    return rev


def _audit(dishes: Sequence[DishRow], prices: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    return {"dishes": [f"{Meal(d.meal).ru}, {d.age_group}: {d.name}, {d.yield_c / 100:g} г, "
                       f"{format_rub(d.price_kopecks)}" for d in dishes],
            "prices": {f"{m} {g}": p for (m, g), p in sorted(prices.items())}}


def replace_days(conn: Connection, actor: str, school_id: str, days: Mapping[date, Sequence[DishRow]], *,
                 today: date | None = None) -> None:
    """Several days at once (a file), all or nothing: the caller's transaction holds them."""
    today = today or school_today(conn, school_id)
    errors: list[str] = []
    for day, dishes in days.items():
        problem = not_past_and_this_or_next_year(day, today)
        errors += [problem] if problem else check_counts(day, dishes)
    if errors:
        raise MenuError(errors)
    for day, dishes in sorted(days.items()):
        replace_day(conn, actor, school_id, day, dishes, today=today)
