"""A small school built by hand on a real SQLite store, so each test states the data it relies on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert

from pos.cards import match_keys
from pos.counter import Counter
from pos.domain import Meal
from pos.models import Break, Card, Entitlement, Holiday, MealSlot, MenuPrice, Order, SchoolClass, Student
from pos.policy import shipped_policies
from pos.settings import write_meta
from pos.store import make_engine

TZ = ZoneInfo("Asia/Krasnoyarsk")
DAY = date(2026, 11, 23)  # a Monday
BREAKFAST_AT = datetime.combine(DAY, time(8, 45), TZ)


def at(hh: int, mm: int, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hh, mm), TZ).astimezone(UTC)


@dataclass
class School:
    engine: Engine
    path: Path

    def counter(self, **kwargs: float) -> Counter:
        return Counter(self.engine, **kwargs)

    def add_class(self, class_id: str, name: str, grade: int, shift: int = 1,
                  slots: dict[Meal, tuple[int, int]] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(SchoolClass).values(id=class_id, name=name, grade=grade, shift=shift))
            for meal, (slot_shift, number) in (slots or {}).items():
                conn.execute(insert(MealSlot).values(class_id=class_id, meal=meal.value, shift=slot_shift,
                                                     break_no=number))

    def add_student(self, student_id: str, class_id: str, *, card: str | None = None,
                    birth: date | None = date(2018, 3, 1), balance: int = 0, limit: int | None = None,
                    diet: str = "", orders: tuple[Meal, ...] = (Meal.BREAKFAST,), day: date = DAY,
                    categories: tuple[str, ...] = (), starts: date = date(2026, 9, 2),
                    ends: date | None = date(2027, 5, 31), blocked: bool = False) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(Student).values(
                id=student_id, full_name=f"Ученик {student_id}", class_id=class_id, birth_date=birth,
                balance_kopecks=balance, daily_limit_kopecks=limit, diet_note=diet))
            if card:
                key32, key24 = match_keys(card)
                conn.execute(insert(Card).values(uid=card, student_id=student_id, key32=key32, key24=key24,
                                                 blocked=blocked, blocked_reason="утеряна" if blocked else ""))
            for meal in orders:
                conn.execute(insert(Order).values(student_id=student_id, day=day, meal=meal.value))
            for n, category in enumerate(categories):
                conn.execute(insert(Entitlement).values(
                    id=f"{student_id}-{n}", student_id=student_id, category=category, starts=starts, ends=ends))


def make_school(tmp_path: Path, policy: str = "nazarovo-2021", *, policy_text: str | None = None,
                **meta: str) -> School:
    engine = make_engine(tmp_path / "terminal.db")
    with engine.begin() as conn:
        write_meta(conn, {
            "terminal_id": "T-TEST", "school_id": "school-1", "school_name": "Тестовая школа",
            "timezone": "Asia/Krasnoyarsk", "week_days": "1,2,3,4,5,6",
            "policy": policy_text or shipped_policies()[policy].read_text(encoding="utf-8"), **meta,
        })
        conn.execute(insert(Break), [
            {"shift": 1, "number": 1, "starts": "08:40", "ends": "09:00"},
            {"shift": 1, "number": 2, "starts": "09:40", "ends": "10:00"},
            {"shift": 1, "number": 5, "starts": "12:35", "ends": "12:55"},
            {"shift": 2, "number": 1, "starts": "14:40", "ends": "15:00"},
        ])
        conn.execute(insert(MenuPrice), [
            {"day": DAY, "meal": "breakfast", "price_kopecks": 7500},
            {"day": DAY, "meal": "lunch", "price_kopecks": 11000},
        ])
        conn.execute(insert(Holiday).values(day=date(2026, 11, 4), reason="День народного единства"))
    return School(engine, tmp_path / "terminal.db")
