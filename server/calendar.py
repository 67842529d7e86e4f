"""A school's `pos.calendar.Calendar` read from the server's tables: the one loader that pull, orders,
the kitchen's order and the registers use (the rules themselves are `pos.calendar`'s)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from pos.calendar import Calendar, parse_deadline
from pos.settings import parse_week_days, zone
from server.models import ClassDayOff, Holiday, School

_MARGIN = timedelta(days=31)  # a deadline looks back over holidays before the first asked day


def load_calendar(conn: Connection, school_id: str, start: date | None = None, end: date | None = None) -> Calendar:
    """The school's calendar, with holidays and class days off between `start` and `end` (all when None).

    Raises LookupError when there is no such school.
    """
    school = conn.execute(select(School.week_days, School.year_starts, School.year_ends)
                          .where(School.id == school_id)).first()
    if school is None:
        raise LookupError(school_id)
    holidays = select(Holiday.day, Holiday.reason).where(Holiday.school_id == school_id)
    days_off = select(ClassDayOff.class_id, ClassDayOff.day, ClassDayOff.reason).where(
        ClassDayOff.school_id == school_id)
    if start is not None:
        holidays = holidays.where(Holiday.day >= start - _MARGIN)
        days_off = days_off.where(ClassDayOff.day >= start)
    if end is not None:
        holidays = holidays.where(Holiday.day <= end + _MARGIN)
        days_off = days_off.where(ClassDayOff.day <= end)
    return Calendar(
        week_days=parse_week_days(school.week_days), year_starts=school.year_starts, year_ends=school.year_ends,
        holidays=dict(conn.execute(holidays).tuples().all()),
        days_off={(c, d): r for c, d, r in conn.execute(days_off).tuples()})


def school_clock(conn: Connection, school_id: str) -> tuple[ZoneInfo, str]:
    """The school's time zone and its order deadline ("10:00")."""
    row = conn.execute(select(School.timezone, School.order_deadline).where(School.id == school_id)).first()
    if row is None:
        raise LookupError(school_id)
    return zone(row.timezone), row.order_deadline


def deadline_of(conn: Connection, school_id: str, day: date, calendar: Calendar | None = None) -> datetime:
    """When the order for `day` locks (aware, school time)."""
    tz, deadline = school_clock(conn, school_id)
    calendar = calendar or load_calendar(conn, school_id, day - timedelta(days=1), day)
    return calendar.deadline(day, parse_deadline(deadline), tz)
