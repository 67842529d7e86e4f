"""Words of the domain shared by every part of the engine: meals, their Russian names, ages."""

from __future__ import annotations

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


def ru_date(day: date) -> str:
    """``2026-11-23`` -> ``23.11.2026``."""
    return day.strftime("%d.%m.%Y")
