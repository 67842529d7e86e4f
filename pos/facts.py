"""The facts a verdict is made of, as plain values: the store's reads (`pos.lookup`) return them, the
decision (`pos.decide`) reads them. Neither module imports the other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pos.domain import Meal


@dataclass(frozen=True)
class StudentView:
    """What serving needs to know of a student: nothing more."""

    id: str
    full_name: str
    class_name: str
    grade: int
    shift: int
    birth_date: date | None
    diet_note: str
    daily_limit_kopecks: int | None
    balance_kopecks: int


@dataclass(frozen=True)
class Day:
    """What a student has had and ordered on a day."""

    served: dict[Meal, datetime]  # aware UTC
    free_used_kopecks: int
    paid_kopecks: int
    ordered: frozenset[Meal]


@dataclass(frozen=True)
class BookedServe:
    """A serve (or override) in this window's journal that undo could reverse."""

    id: str
    student_id: str | None
    meal: Meal | None
    at_utc: datetime  # aware
    paid_kopecks: int
    free_kopecks: int
    budget_line: str | None
    card_uid: str | None
    free_category: str = ""
    free_rule: str = ""
