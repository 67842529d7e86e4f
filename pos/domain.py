"""Words of the domain shared by every part of the engine: meals, their Russian names, ages, and when
an entitlement is in force."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum


class Meal(StrEnum):
    BREAKFAST = "breakfast"
    LUNCH = "lunch"
    SNACK = "snack"
    MILK = "milk"

    @property
    def ru(self) -> str:
        """The Russian word staff see on screen."""
        return MEAL_TITLES[self]

    def participle(self, masculine: str) -> str:
        """A short participle agreeing with the meal's word: ``выдан`` -> «молоко выдано»."""
        return masculine + "о" if self is Meal.MILK else masculine


MEAL_TITLES = {
    Meal.BREAKFAST: "завтрак",
    Meal.LUNCH: "обед",
    Meal.SNACK: "полдник",
    Meal.MILK: "молоко",
}


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on `day` (a birthday on 29 February counts on 1 March in other years)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


# Age groups of the menu (СанПиН 2.3/2.4.3590-20): code -> the words parents and staff read.
AGE_YOUNGER, AGE_OLDER = "7-11", "12+"
AGE_GROUP_TITLES = {AGE_YOUNGER: "7–11 лет", AGE_OLDER: "12 лет и старше"}
ALL_AGES = ""  # a price row for every age (price files, rows from before the menu had age groups)


def age_group(birth_date: date | None, grade: int, day: date) -> str:
    """The menu's age group of a student on `day`: by age where the birth date is known (under 12 eat
    the 7–11 menu), else by grade (1–4 are primary school, 7–11 years)."""
    return group_of(age_on(birth_date, day) if birth_date is not None else None, grade)


def group_of(age: int | None, grade: int) -> str:
    """`age_group` of a student of this age (None: unknown) and grade."""
    if age is not None:
        return AGE_YOUNGER if age < 12 else AGE_OLDER
    return AGE_YOUNGER if grade <= 4 else AGE_OLDER


def menu_price(prices: Mapping[tuple[str, str], int], meal: str, group: str) -> int | None:
    """A paid meal's price from a day's menu prices keyed (meal, age group): the group's own, else the
    price for every age; None when the menu has neither. The terminal and the office price by this."""
    found = prices.get((meal, group))
    return found if found is not None else prices.get((meal, ALL_AGES))


def ru_minutes(n: int) -> str:
    """``15`` -> «15 минут», ``1`` -> «1 минуту», ``2`` -> «2 минуты» (as after «за последние»)."""
    if n % 10 == 1 and n % 100 != 11:
        word = "минуту"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "минуты"
    else:
        word = "минут"
    return f"{n} {word}"


def ru_date(day: date) -> str:
    """``2026-11-23`` -> ``23.11.2026``."""
    return day.strftime("%d.%m.%Y")


def in_force(starts: date, ends: date | None, day: date) -> bool:
    """An entitlement (or any dated right) from `starts` to `ends` inclusive holds on `day`; no end is open."""
    return starts <= day and (ends is None or day <= ends)
