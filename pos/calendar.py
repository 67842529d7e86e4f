"""The school calendar: the one place that answers "is this a school day, for this class" and "when is
the order for a day due".

A day is a school day when it lies in the school year, falls on one of the school's week days (five- or
six-day week), is not a holiday, vacation or quarantine day of the school, and, for a class, is not a day
off of that class (an excursion). The terminal (`pos.reference`), the office's orders, the kitchen's
order and the registers all ask a `Calendar`; nobody re-derives it.

The order for a school day is due at the school's deadline (default 10:00 school time) on the school day
before it, by the school's calendar: Friday's order covers Monday in a five-day week, Saturday's in a
six-day week covers Monday, and an order for the day after a holiday is due on the day before the holiday.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pos.domain import ru_date

DEFAULT_DEADLINE = time(10, 0)
NOT_SUBMITTED_LEAD = timedelta(minutes=30)  # the coordinator sees missing class orders from 09:30
_SEARCH_DAYS = 400  # how far the next/previous school day is looked for (a summer is shorter)
WEEKDAY_RU = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


def parse_deadline(text: str) -> time:
    """``"10:00"`` -> 10:00; raises ValueError (Russian) on anything else."""
    try:
        hours, minutes = text.strip().split(":")
        if len(hours) not in (1, 2) or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"срок заявки: время ЧЧ:ММ, например 10:00 (получено «{text.strip()[:20]}»)") from None


@dataclass(frozen=True)
class Calendar:
    """A school's calendar. `holidays` maps a day to its reason (праздник, каникулы, карантин);
    `days_off` maps (class id, day) to the reason the class has no lessons (экскурсия)."""

    week_days: frozenset[int]  # ISO weekdays: 1 = Monday
    year_starts: date | None = None
    year_ends: date | None = None
    holidays: Mapping[date, str] = field(default_factory=dict)
    days_off: Mapping[tuple[str, date], str] = field(default_factory=dict)

    def why_not(self, day: date, class_id: str | None = None) -> str | None:
        """Why `day` is not a school day (for `class_id`), in Russian; None when it is one."""
        if (self.year_starts is not None and day < self.year_starts) or (
                self.year_ends is not None and day > self.year_ends):
            return f"{ru_date(day)} — вне учебного года ({self.year_label})"
        if day.isoweekday() not in self.week_days:
            return f"{ru_date(day)} — выходной день ({WEEKDAY_RU[day.weekday()]})"
        if day in self.holidays:
            return f"{ru_date(day)} — не учебный день: {self.holidays[day] or 'праздник'}"
        if class_id is not None and (class_id, day) in self.days_off:
            return f"{ru_date(day)} — у класса нет занятий: {self.days_off[class_id, day] or 'день без занятий'}"
        return None

    def is_school_day(self, day: date, class_id: str | None = None) -> bool:
        return self.why_not(day, class_id) is None

    @property
    def year_label(self) -> str:
        starts = ru_date(self.year_starts) if self.year_starts else "…"
        ends = ru_date(self.year_ends) if self.year_ends else "…"
        return f"{starts}–{ends}"

    def _serves(self, day: date) -> bool:
        """The school serves on `day` by its week and holidays, whatever the school year's bounds."""
        return day.isoweekday() in self.week_days and day not in self.holidays

    def next_school_day(self, after: date, class_id: str | None = None) -> date | None:
        """The first school day (of `class_id`) after `after`; None when there is none within a year."""
        return next((d for d in _days(after + timedelta(days=1), 1) if self.is_school_day(d, class_id)), None)

    def school_days(self, start: date, end: date, class_id: str | None = None) -> list[date]:
        """The school days (of `class_id`) from `start` to `end`, both included."""
        return [start + timedelta(days=i) for i in range((end - start).days + 1)
                if self.is_school_day(start + timedelta(days=i), class_id)]

    def order_day_before(self, day: date) -> date:
        """The school day on which the order for `day` is due: the one before it by the school's week and
        holidays (the school year's first day is ordered on the last working day before it)."""
        return next((d for d in _days(day - timedelta(days=1), -1) if self._serves(d)), day - timedelta(days=1))

    def deadline(self, day: date, at: time, tz: ZoneInfo) -> datetime:
        """The moment (aware, school time) after which the order for `day` is locked for the teacher."""
        return datetime.combine(self.order_day_before(day), at, tzinfo=tz)


def _days(start: date, step: int) -> Iterator[date]:
    for i in range(_SEARCH_DAYS):
        yield start + timedelta(days=i * step)
