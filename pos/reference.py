"""The reference data a terminal serves by, cached: the school's settings, the schedule, the calendar and
menu prices. One place holds them, `reload` re-reads them all (after a sync changed them).

Prices are read per day on first use: a terminal serves one day, and sync may add tomorrow's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from pos.calendar import Calendar
from pos.domain import ALL_AGES, Meal, menu_price
from pos.models import Break, ClassDayOff, Holiday, MealSlot, MenuPrice, SchoolClass
from pos.schedule import Schedule, Slot, Tolerance, Window
from pos.settings import SchoolSettings, load_settings


def load_schedule(conn: Connection, tolerance: Tolerance) -> Schedule:
    rows = conn.execute(
        select(MealSlot.class_id, SchoolClass.name, MealSlot.meal, Break.shift, Break.number, Break.starts,
               Break.ends)
        .join(SchoolClass, SchoolClass.id == MealSlot.class_id)
        .join(Break, (Break.shift == MealSlot.shift) & (Break.number == MealSlot.break_no))
        .order_by(Break.starts, Break.shift, Break.number, SchoolClass.id)).tuples().all()
    return Schedule(tuple(
        Slot(class_id, name, Meal(meal), shift, number, starts, ends,
             Window.around(time.fromisoformat(starts), time.fromisoformat(ends), tolerance))
        for class_id, name, meal, shift, number, starts, ends in rows))


@dataclass
class Reference:
    settings: SchoolSettings
    schedule: Schedule
    calendar: Calendar
    tz: ZoneInfo
    _prices: dict[date, dict[tuple[str, str], int]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection) -> Reference:
        settings = load_settings(conn)
        calendar = Calendar(
            week_days=settings.week_days, year_starts=settings.year_starts, year_ends=settings.year_ends,
            holidays=dict(conn.execute(select(Holiday.day, Holiday.reason)).tuples().all()),
            days_off={(c, d): r for c, d, r in conn.execute(
                select(ClassDayOff.class_id, ClassDayOff.day, ClassDayOff.reason)).tuples()})
        return cls(settings, load_schedule(conn, settings.tolerance), calendar, settings.tz)

    def local(self, now: datetime) -> datetime:
        """`now` (aware) in the school's time zone."""
        return now.astimezone(self.tz)

    def is_school_day(self, day: date, class_id: str | None = None) -> bool:
        return self.calendar.is_school_day(day, class_id)

    def price(self, conn: Connection, day: date, meal: Meal, age_group: str = ALL_AGES) -> int | None:
        """Today's menu price of `meal` for the age group (`pos.domain.age_group`), else the price for
        every age; None when the menu has neither."""
        if day not in self._prices:
            self._prices[day] = {(m, g): p for m, g, p in conn.execute(
                select(MenuPrice.meal, MenuPrice.age_group, MenuPrice.price_kopecks).where(MenuPrice.day == day))}
        return menu_price(self._prices[day], meal.value, age_group)
