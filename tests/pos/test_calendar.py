"""The school calendar (`pos.calendar`): school days for the school and for a class, and the order deadline
in the school's own time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from pos.calendar import Calendar, parse_deadline

KRSK = ZoneInfo("Asia/Krasnoyarsk")
FIVE = frozenset({1, 2, 3, 4, 5})
SIX = frozenset({1, 2, 3, 4, 5, 6})
YEAR = {"year_starts": date(2026, 9, 1), "year_ends": date(2027, 5, 31)}


def test_weekend_holiday_vacation_and_outside_the_year_are_not_school_days() -> None:
    cal = Calendar(FIVE, holidays={date(2026, 12, 31): "новогодние каникулы"}, **YEAR)
    assert cal.is_school_day(date(2026, 12, 4))  # a Friday
    assert cal.why_not(date(2026, 12, 6)) == "06.12.2026 — выходной день (воскресенье)"
    assert cal.why_not(date(2026, 12, 5)) == "05.12.2026 — выходной день (суббота)"
    assert cal.why_not(date(2026, 12, 31)) == "31.12.2026 — не учебный день: новогодние каникулы"
    assert cal.why_not(date(2027, 6, 1)) == "01.06.2027 — вне учебного года (01.09.2026–31.05.2027)"
    assert not cal.is_school_day(date(2026, 8, 31))
    assert Calendar(SIX, **YEAR).is_school_day(date(2026, 12, 5))  # Saturday in a six-day week


def test_a_class_day_off_is_that_class_only() -> None:
    cal = Calendar(FIVE, days_off={("5а", date(2026, 12, 4)): "экскурсия в музей"})
    assert cal.why_not(date(2026, 12, 4), "5а") == "04.12.2026 — у класса нет занятий: экскурсия в музей"
    assert cal.is_school_day(date(2026, 12, 4), "5б") and cal.is_school_day(date(2026, 12, 4))
    assert cal.school_days(date(2026, 11, 30), date(2026, 12, 6), "5а") == [
        date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]
    assert cal.next_school_day(date(2026, 12, 3), "5а") == date(2026, 12, 7)


@pytest.mark.parametrize(("week", "day", "due_on"), [
    (FIVE, date(2026, 12, 7), date(2026, 12, 4)),  # Monday's order: Friday, five-day week
    (SIX, date(2026, 12, 7), date(2026, 12, 5)),  # ... Saturday in a six-day week
    (SIX, date(2026, 12, 5), date(2026, 12, 4)),  # Saturday's order: Friday
    (FIVE, date(2026, 12, 2), date(2026, 12, 1)),  # an ordinary Wednesday: Tuesday
])
def test_the_order_is_due_on_the_school_day_before(week: frozenset[int], day: date, due_on: date) -> None:
    assert Calendar(week).deadline(day, time(10), KRSK) == datetime(due_on.year, due_on.month, due_on.day, 10,
                                                                    tzinfo=KRSK)


def test_the_day_after_a_holiday_is_ordered_before_the_holiday() -> None:
    cal = Calendar(FIVE, holidays={date(2026, 11, 4): "День народного единства"})
    assert cal.order_day_before(date(2026, 11, 5)) == date(2026, 11, 3)
    vacation = {date(2026, 12, 31) + (date(2027, 1, 2) - date(2027, 1, 1)) * i: "каникулы" for i in range(11)}
    cal = Calendar(FIVE, holidays=vacation)  # 31.12–10.01
    assert cal.order_day_before(date(2027, 1, 11)) == date(2026, 12, 30)


def test_09_59_is_before_and_10_01_after_the_deadline_in_the_school_time_zone() -> None:
    deadline = Calendar(FIVE).deadline(date(2026, 12, 7), time(10), KRSK)  # Friday 04.12 10:00 Krasnoyarsk
    assert datetime(2026, 12, 4, 9, 59, tzinfo=KRSK) < deadline < datetime(2026, 12, 4, 10, 1, tzinfo=KRSK)
    # 10:01 in Krasnoyarsk is 06:01 in Moscow: a server in Moscow must not think it is still early
    moscow = datetime(2026, 12, 4, 6, 1, tzinfo=ZoneInfo("Europe/Moscow"))
    assert moscow > deadline and moscow - deadline == datetime(2026, 12, 4, 10, 1, tzinfo=KRSK) - deadline


@pytest.mark.parametrize("text", ["", "25:00", "10", "10:0", "aa:bb", "10:00:00", "-1:30"])
def test_a_bad_deadline_is_refused_in_russian(text: str) -> None:
    with pytest.raises(ValueError, match="срок заявки"):
        parse_deadline(text)


def test_a_good_deadline_parses() -> None:
    assert parse_deadline(" 9:30 ") == time(9, 30) and parse_deadline("10:00") == time(10)
