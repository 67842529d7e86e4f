"""What the region's policy gives a student free on a day, with each meal's price and budget line: the
one lookup the mismatch report and the kitchen's order share.

A school has few kinds of student — (grade, shift, benefit categories in force, age) — however many
students and days a report covers, so the policy is asked once per kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pos.domain import age_on, in_force
from pos.policy import EligibilityError, FreeMeal, Policy

Kind = tuple[int, int, frozenset[str], int | None]


class FreeMeals:
    """The policy's free meals per kind of student, asked once per kind."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._grants: dict[Kind, dict[str, FreeMeal] | None] = {}

    def of(self, grade: int, shift: int, categories: frozenset[str], age: int | None) -> dict[str, FreeMeal] | None:
        """Meal -> its free meal (price, budget line); None when the policy cannot be applied (no birth
        date where prices depend on the age)."""
        key = (grade, shift, categories, age)
        if key not in self._grants:
            try:
                self._grants[key] = {g.meal.value: g for g in self.policy.free_meals(
                    grade=grade, shift=shift, categories=categories, age=age)}
            except EligibilityError:
                self._grants[key] = None
        return self._grants[key]

    def on(self, day: date, *, grade: int, shift: int, birth_date: date | None, benefits: Iterable[Any]
           ) -> dict[str, FreeMeal] | None:
        """A student's free meals on `day`; `benefits` are rows with category, starts and ends (the
        student's entitlements, of any day: those not in force on `day` are skipped)."""
        categories = frozenset(b.category for b in benefits if in_force(b.starts, b.ends, day))
        return self.of(grade, shift, categories, age_on(birth_date, day) if birth_date else None)
