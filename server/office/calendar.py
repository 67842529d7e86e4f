"""The school calendar in the office: read it for display (months of days with their state, ranges of
holidays and of class days off, the shifts), and change it (the school year, the school week, the order
deadline, holidays and vacations, a class's days off), for the pages, the API, the file import and the CLI.

Whether a day is a school day is `pos.calendar`'s rule (loaded by `server.calendar.load_calendar`);
this module only stores what that rule reads. Every change goes through `server.office.changes.change`
(a rev of the school, so terminals pull it, and an audit entry); settings the terminals read (the year,
the week, the deadline) also move `School.settings_rev`, so the next pull carries them; a removed
holiday or class day off leaves a `Tombstone`, so terminals delete it too.
"""

from __future__ import annotations

import calendar as stdcal
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from pos.calendar import Calendar, parse_deadline
from pos.domain import Meal, ru_date
from pos.settings import parse_week_days
from server import rows as r
from server.calendar import load_calendar
from server.db import upsert
from server.importer import class_id_of
from server.models import AuditEntry, Break, ClassDayOff, Holiday, MealSlot, School, SchoolClass, Tombstone, User
from server.office.changes import NotFound, OfficeError, change
from server.tabular import TableError, read_table

REASON_MAX = 200
RANGE_MAX_DAYS = 366
YEAR_MAX_DAYS = 366
WEEKS = {5: "1,2,3,4,5", 6: "1,2,3,4,5,6"}  # a five- or six-day school week (seed 002 §3.3)
MONTHS_RU = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
             "ноябрь", "декабрь")
WEEKDAYS_SHORT = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")

# The state of a day for the whole school, and its Russian name (the grid's legend).
SCHOOL_DAY, WEEKEND, HOLIDAY, VACATION, QUARANTINE, OUTSIDE = (
    "school", "weekend", "holiday", "vacation", "quarantine", "outside")
STATE_RU = {SCHOOL_DAY: "учебный день", WEEKEND: "выходной", HOLIDAY: "праздник", VACATION: "каникулы",
            QUARANTINE: "карантин", OUTSIDE: "вне учебного года"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

HOLIDAY_ENTITY, DAY_OFF_ENTITY, SETTINGS_ENTITY = "holiday", "class_day_off", "calendar"


def kind_of(reason: str) -> str:
    """What a non-school day of the school is, by its reason: vacation, quarantine or holiday."""
    text = reason.lower()
    if "каникул" in text:
        return VACATION
    if "карантин" in text:
        return QUARANTINE
    return HOLIDAY


# ---- reading ----

@dataclass(frozen=True)
class DayState:
    day: date
    state: str  # one of STATE_RU
    reason: str  # the holiday's reason, "" otherwise
    days_off: tuple[tuple[str, str], ...] = ()  # (class id, reason) of classes without lessons that day
    today: bool = False

    @property
    def school_day(self) -> bool:
        return self.state == SCHOOL_DAY

    @property
    def title(self) -> str:
        """What the day is, in words (the grid cell's tooltip)."""
        text = f"{ru_date(self.day)}: {STATE_RU[self.state]}"
        if self.reason and self.reason.lower() != STATE_RU[self.state]:
            text += f" ({self.reason})"
        if self.days_off:
            text += "; без занятий: " + ", ".join(f"{c} ({why})" for c, why in self.days_off)
        return text


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: tuple[tuple[DayState | None, ...], ...]  # rows of the grid; None: a cell of another month

    @property
    def title(self) -> str:
        return f"{MONTHS_RU[self.month - 1].capitalize()} {self.year}"


@dataclass(frozen=True)
class Range:
    """Consecutive days with the same reason: a vacation, a holiday; for a class, its days off."""

    start: date
    end: date
    reason: str
    kind: str = HOLIDAY
    class_id: str = ""
    class_name: str = ""
    added_by: str = ""  # who added a class's days off (from the audit log)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def period(self) -> str:
        return ru_date(self.start) if self.start == self.end else f"{ru_date(self.start)}–{ru_date(self.end)}"


@dataclass(frozen=True)
class BreakTime:
    number: int
    starts: str
    ends: str
    meals: tuple[tuple[str, tuple[str, ...]], ...]  # (meal's Russian name, class names eating it then)


@dataclass(frozen=True)
class Shift:
    number: int
    classes: tuple[str, ...]  # class names
    breaks: tuple[BreakTime, ...]


@dataclass(frozen=True)
class Settings:
    year_starts: date | None
    year_ends: date | None
    week_days: frozenset[int]
    order_deadline: str

    @property
    def days_per_week(self) -> int | None:
        return next((n for n, text in WEEKS.items() if parse_week_days(text) == self.week_days), None)

    @property
    def week_text(self) -> str:
        days = sorted(self.week_days)
        names = ", ".join(WEEKDAYS_SHORT[d - 1] for d in days)
        per_week = self.days_per_week
        return f"{per_week}-дневная ({names})" if per_week else names or "нет учебных дней"


@dataclass(frozen=True)
class CalendarView:
    settings: Settings
    months: tuple[Month, ...]
    columns: tuple[str, ...]  # the grid's weekday headers (Пн–Вс, or Пн–Сб for a six-day week)
    holidays: tuple[Range, ...]
    days_off: tuple[Range, ...]
    shifts: tuple[Shift, ...]
    classes: tuple[tuple[str, str], ...]  # (id, name), for the class choice
    start: date
    end: date


def settings(conn: Connection, school_id: str) -> Settings:
    row = conn.execute(select(School.year_starts, School.year_ends, School.week_days, School.order_deadline)
                       .where(School.id == school_id)).first()
    if row is None:
        raise NotFound(f"школа {school_id} не найдена")
    return Settings(row.year_starts, row.year_ends, parse_week_days(row.week_days), row.order_deadline)


def state_of(cal: Calendar, day: date) -> tuple[str, str]:
    """A day's (state, reason) for the whole school, by the same rule as `pos.calendar`."""
    if cal.is_school_day(day):
        return SCHOOL_DAY, ""
    if (cal.year_starts is not None and day < cal.year_starts) or (cal.year_ends is not None and day > cal.year_ends):
        return OUTSIDE, ""
    if day.isoweekday() not in cal.week_days:
        return WEEKEND, ""
    reason = cal.holidays.get(day, "")
    return kind_of(reason), reason


def days(conn: Connection, school_id: str, start: date, end: date, today: date | None = None) -> list[DayState]:
    """Every day from `start` to `end` with its state and the classes without lessons that day."""
    _check_range(start, end)
    cal = _calendar(conn, school_id, start, end)
    return _days(cal, start, end, today)


def _calendar(conn: Connection, school_id: str, start: date, end: date) -> Calendar:
    try:
        return load_calendar(conn, school_id, start, end)
    except LookupError:
        raise NotFound(f"школа {school_id} не найдена") from None


def _days(cal: Calendar, start: date, end: date, today: date | None) -> list[DayState]:
    off: dict[date, list[tuple[str, str]]] = {}
    for (class_id, day), reason in sorted(cal.days_off.items()):
        off.setdefault(day, []).append((class_id, reason))
    result = []
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        state, reason = state_of(cal, day)
        result.append(DayState(day, state, reason, tuple(off.get(day, ())) if state == SCHOOL_DAY else (),
                               day == today))
    return result


def months_of(start: date, end: date) -> list[tuple[int, int]]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def default_period(conn: Connection, school_id: str, today: date) -> tuple[date, date]:
    """The months a page shows by default: the school year when set (and today is in or near it), else
    this month and the next five."""
    s = settings(conn, school_id)
    if s.year_starts and s.year_ends and s.year_starts - timedelta(days=120) <= today <= s.year_ends:
        return s.year_starts.replace(day=1), _month_end(s.year_ends)
    first = today.replace(day=1)
    last = first
    for _ in range(5):
        last = (last + timedelta(days=32)).replace(day=1)
    return first, _month_end(last)


def _month_end(day: date) -> date:
    return day.replace(day=stdcal.monthrange(day.year, day.month)[1])


def view(conn: Connection, school_id: str, start: date, end: date, today: date | None = None) -> CalendarView:
    """What the «Календарь» page shows for the months from `start`'s to `end`'s."""
    start, end = start.replace(day=1), _month_end(end)
    _check_range(start, end, limit=RANGE_MAX_DAYS + 31)
    s = settings(conn, school_id)
    cal = _calendar(conn, school_id, start, end)
    by_day = {d.day: d for d in _days(cal, start, end, today)}
    six = 7 not in s.week_days and 6 in s.week_days
    width = 6 if six else 7
    months = []
    for y, m in months_of(start, end):
        weeks = []
        for week in stdcal.Calendar().monthdatescalendar(y, m):
            cells = tuple(by_day.get(d) if d.month == m else None for d in week[:width])
            if any(cells):
                weeks.append(cells)
        months.append(Month(y, m, tuple(weeks)))
    classes = tuple(conn.execute(select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == school_id)
                                 .order_by(SchoolClass.grade, SchoolClass.id)).tuples())
    names = dict(classes)
    return CalendarView(s, tuple(months), WEEKDAYS_SHORT[:width], tuple(holiday_ranges(conn, school_id)),
                        tuple(day_off_ranges(conn, school_id, names)), tuple(shifts(conn, school_id)), classes,
                        start, end)


def group(items: Iterable[tuple[date, str]]) -> list[tuple[date, date, str]]:
    """(first, last, reason) of runs of consecutive days with the same reason."""
    runs: list[tuple[date, date, str]] = []
    for day, reason in sorted(items):
        if runs and runs[-1][2] == reason and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day, reason)
        else:
            runs.append((day, day, reason))
    return runs


def holiday_ranges(conn: Connection, school_id: str, start: date | None = None, end: date | None = None
                   ) -> list[Range]:
    query = select(Holiday.day, Holiday.reason).where(Holiday.school_id == school_id)
    if start is not None:
        query = query.where(Holiday.day >= start)
    if end is not None:
        query = query.where(Holiday.day <= end)
    return [Range(a, b, why, kind_of(why)) for a, b, why in group(conn.execute(query).tuples())]


def day_off_ranges(conn: Connection, school_id: str, names: Mapping[str, str] | None = None,
                   start: date | None = None, end: date | None = None) -> list[Range]:
    """Each class's days off as ranges, with who added them (the latest addition by the audit log)."""
    query = select(ClassDayOff.class_id, ClassDayOff.day, ClassDayOff.reason).where(
        ClassDayOff.school_id == school_id)
    if start is not None:
        query = query.where(ClassDayOff.day >= start)
    if end is not None:
        query = query.where(ClassDayOff.day <= end)
    per_class: dict[str, list[tuple[date, str]]] = {}
    for class_id, day, reason in conn.execute(query).tuples():
        per_class.setdefault(class_id, []).append((day, reason))
    if not per_class:
        return []
    if names is None:
        names = dict(conn.execute(select(SchoolClass.id, SchoolClass.name).where(
            SchoolClass.school_id == school_id)).tuples().all())
    who = _added_by(conn, school_id)
    out = []
    for class_id, items in per_class.items():
        for a, b, why in group(items):
            actor = who.get((class_id, a), "")
            out.append(Range(a, b, why, "day_off", class_id, names.get(class_id, class_id), actor))
    return sorted(out, key=lambda x: (x.start, x.class_name))


def _added_by(conn: Connection, school_id: str) -> dict[tuple[str, date], str]:
    """(class, day) -> who added that day off last: «name (login)» of the office user, or the login."""
    found: dict[tuple[str, date], str] = {}
    for actor, action, after in conn.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.after).where(
            AuditEntry.school_id == school_id, AuditEntry.entity == DAY_OFF_ENTITY).order_by(AuditEntry.id)):
        try:
            value = json.loads(after or "null") or {}
            keys = [(value["class_id"], date.fromisoformat(d)) for d in value.get("days", [])]
        except (ValueError, KeyError, TypeError):
            continue
        for key in keys:
            if action == "add":
                found[key] = actor
            else:
                found.pop(key, None)
    logins = set(found.values())
    users = dict(conn.execute(select(User.login, User.name).where(User.login.in_(logins))).tuples().all()) \
        if logins else {}
    return {k: f"{users[a]} ({a})" if users.get(a) else a for k, a in found.items()}


def shifts(conn: Connection, school_id: str) -> list[Shift]:
    """Which classes study in which shift, and the breaks of each shift with the meals served then."""
    classes = conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.shift).where(
        SchoolClass.school_id == school_id).order_by(SchoolClass.grade, SchoolClass.id)).all()
    names = {c.id: c.name for c in classes}
    breaks = conn.execute(select(Break.shift, Break.number, Break.starts, Break.ends).where(
        Break.school_id == school_id).order_by(Break.shift, Break.number)).all()
    eating: dict[tuple[int, int], dict[str, list[str]]] = {}
    for class_id, meal, shift, number in conn.execute(select(
            MealSlot.class_id, MealSlot.meal, MealSlot.shift, MealSlot.break_no).where(
            MealSlot.school_id == school_id).order_by(MealSlot.class_id)).tuples():
        title = Meal(meal).ru if meal in Meal._value2member_map_ else meal
        eating.setdefault((shift, number), {}).setdefault(title, []).append(names.get(class_id, class_id))
    numbers = sorted({c.shift for c in classes} | {b.shift for b in breaks})
    return [Shift(n, tuple(c.name for c in classes if c.shift == n),
                  tuple(BreakTime(b.number, b.starts, b.ends,
                                  tuple((m, tuple(cs)) for m, cs in eating.get((n, b.number), {}).items()))
                        for b in breaks if b.shift == n)) for n in numbers]


# ---- changing ----

def _check_range(start: date, end: date, *, limit: int = RANGE_MAX_DAYS) -> None:
    if end < start:
        raise OfficeError(f"конец периода ({ru_date(end)}) раньше начала ({ru_date(start)})")
    if (end - start).days + 1 > limit:
        raise OfficeError(f"период длиннее {limit} дней: {ru_date(start)}–{ru_date(end)}")


def _check_in_year(s: Settings, start: date, end: date) -> None:
    if (s.year_starts is not None and start < s.year_starts) or (s.year_ends is not None and end > s.year_ends):
        year = f"{ru_date(s.year_starts) if s.year_starts else '…'}–{ru_date(s.year_ends) if s.year_ends else '…'}"
        raise OfficeError(f"период {ru_date(start)}–{ru_date(end)} выходит за учебный год ({year})")


def clean_reason(value: Any, *, required: bool = True) -> str:
    """A reason as stored: one line, no control characters, at most REASON_MAX characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise OfficeError("причина: текст")
    if _CONTROL.search(value.replace("\t", " ")):
        raise OfficeError("причина: недопустимый управляющий символ")
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if required and not text:
        raise OfficeError("укажите причину (например: каникулы, праздник, карантин, экскурсия)")
    if len(text) > REASON_MAX:
        raise OfficeError(f"причина длиннее {REASON_MAX} символов")
    return text


def check_holidays(s: Settings, start: date, end: date, reason: Any) -> str:
    """The rules of a range of school holidays; the clean reason. Raises OfficeError (Russian)."""
    _check_range(start, end)
    _check_in_year(s, start, end)
    return clean_reason(reason)


def _span(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _bump_settings(conn: Connection, school_id: str, rev: int) -> None:
    conn.execute(update(School).where(School.id == school_id).values(settings_rev=rev))


def _tombstones(conn: Connection, school_id: str, rev: int, table: str, keys: Iterable[Sequence[Any]]) -> None:
    rows = [{"school_id": school_id, "rev": rev, "table": table,
             "key": json.dumps([k.isoformat() if isinstance(k, date) else k for k in key])} for key in keys]
    if rows:
        conn.execute(insert(Tombstone), rows)


def set_settings(conn: Connection, actor: str, school_id: str, *, year_starts: date | None = None,
                 year_ends: date | None = None, days_per_week: int | None = None,
                 order_deadline: str | None = None) -> Settings:
    """Change the school year (both days together), the week (5 or 6 days) and/or the order deadline
    ("10:00"); None leaves a value as it is. Returns the new settings."""
    before = settings(conn, school_id)
    values: dict[str, Any] = {}
    if (year_starts is None) != (year_ends is None):
        raise OfficeError("учебный год: укажите и первый, и последний день")
    if year_starts is not None and year_ends is not None:
        if year_ends <= year_starts:
            raise OfficeError(f"учебный год: последний день ({ru_date(year_ends)}) должен быть позже первого "
                              f"({ru_date(year_starts)})")
        if (year_ends - year_starts).days + 1 > YEAR_MAX_DAYS:
            raise OfficeError(f"учебный год длиннее {YEAR_MAX_DAYS} дней: {ru_date(year_starts)}–{ru_date(year_ends)}")
        if not 2000 <= year_starts.year <= 2100 or not 2000 <= year_ends.year <= 2100:
            raise OfficeError("учебный год: неправдоподобная дата")
        values.update(year_starts=year_starts, year_ends=year_ends)
    if days_per_week is not None:
        if days_per_week not in WEEKS:
            raise OfficeError("учебная неделя: 5 или 6 дней")
        values["week_days"] = WEEKS[days_per_week]
    if order_deadline is not None:
        try:
            at = parse_deadline(order_deadline if isinstance(order_deadline, str) else "")
        except ValueError as exc:
            raise OfficeError(str(exc)) from None
        values["order_deadline"] = f"{at:%H:%M}"
    if not values:
        raise OfficeError("нечего менять: укажите учебный год, неделю или срок заявки")
    show = {"year_starts": before.year_starts, "year_ends": before.year_ends,
            "week_days": ",".join(map(str, sorted(before.week_days))), "order_deadline": before.order_deadline}
    after = {**show, **values}
    if after == show:
        return before
    rev = change(conn, actor, school_id, SETTINGS_ENTITY, school_id, "settings",
                 {k: show[k] for k in values}, {k: after[k] for k in values})
    conn.execute(update(School).where(School.id == school_id).values(**values))
    _bump_settings(conn, school_id, rev)
    return settings(conn, school_id)


def add_holidays(conn: Connection, actor: str, school_id: str, start: date, end: date, reason: Any) -> int:
    """Holidays (праздник, каникулы, карантин) from `start` to `end`: one row per day, replacing the
    reason of days already there. Returns the number of days."""
    why = check_holidays(settings(conn, school_id), start, end, reason)
    span = _span(start, end)
    rev = change(conn, actor, school_id, HOLIDAY_ENTITY, period_text(start, end), "add", None,
                 {"from": start, "to": end, "reason": why})
    upsert(conn, Holiday.__table__, [{"school_id": school_id, "day": d, "reason": why, "rev": rev} for d in span],
           ("school_id", "day"))
    return len(span)


def remove_holidays(conn: Connection, actor: str, school_id: str, start: date, end: date) -> int:
    """Remove the holidays from `start` to `end` (terminals delete them on their next pull)."""
    _check_range(start, end)
    settings(conn, school_id)
    found = conn.execute(select(Holiday.day, Holiday.reason).where(
        Holiday.school_id == school_id, Holiday.day >= start, Holiday.day <= end)).tuples().all()
    if not found:
        raise OfficeError(f"в период {period_text(start, end)} нет праздников и каникул")
    rev = change(conn, actor, school_id, HOLIDAY_ENTITY, period_text(start, end), "remove",
                 {"from": start, "to": end, "days": {d.isoformat(): why for d, why in found}}, None)
    conn.execute(delete(Holiday).where(Holiday.school_id == school_id, Holiday.day >= start, Holiday.day <= end))
    _tombstones(conn, school_id, rev, "holidays", [(d,) for d, _ in found])
    return len(found)


def class_of(conn: Connection, school_id: str, name_or_id: Any) -> str:
    """A class's id from its id or its name as people write it («5 А», «5а»); OfficeError if none."""
    if not isinstance(name_or_id, str) or not name_or_id.strip() or len(name_or_id) > 64:
        raise OfficeError("укажите класс")
    classes = dict(conn.execute(select(SchoolClass.id, SchoolClass.name).where(
        SchoolClass.school_id == school_id)).tuples().all())
    if name_or_id in classes:
        return name_or_id
    try:
        wanted = class_id_of(r.clean(name_or_id))
    except r.CellError as exc:
        raise OfficeError(f"класс: {exc}") from None
    if wanted in classes:
        return wanted
    raise OfficeError(f"класса «{name_or_id.strip()[:64]}» нет в школе")


def check_days_off(conn: Connection, school_id: str, cal: Calendar, s: Settings, class_id: str, start: date,
                   end: date, reason: Any) -> tuple[str, list[date]]:
    """The rules of a class's days off: the clean reason and the school days of the range."""
    _check_range(start, end)
    _check_in_year(s, start, end)
    why = clean_reason(reason)
    school_days = [d for d in _span(start, end) if cal.is_school_day(d)]
    if not school_days:
        raise OfficeError(f"в период {period_text(start, end)} у школы нет учебных дней")
    return why, school_days


def add_days_off(conn: Connection, actor: str, school_id: str, class_id: Any, start: date, end: date,
                 reason: Any) -> int:
    """A class's days without lessons (an excursion) on the school days from `start` to `end`."""
    cid = class_of(conn, school_id, class_id)
    _check_range(start, end)
    cal = _calendar(conn, school_id, start, end)
    why, school_days = check_days_off(conn, school_id, cal, settings(conn, school_id), cid, start, end, reason)
    rev = change(conn, actor, school_id, DAY_OFF_ENTITY, f"{cid} {period_text(start, end)}", "add", None,
                 {"class_id": cid, "reason": why, "days": [d.isoformat() for d in school_days]})
    upsert(conn, ClassDayOff.__table__, [{"school_id": school_id, "class_id": cid, "day": d, "reason": why,
                                          "rev": rev} for d in school_days], ("school_id", "class_id", "day"))
    return len(school_days)


def remove_days_off(conn: Connection, actor: str, school_id: str, class_id: Any, start: date, end: date) -> int:
    cid = class_of(conn, school_id, class_id)
    _check_range(start, end)
    found = conn.execute(select(ClassDayOff.day, ClassDayOff.reason).where(
        ClassDayOff.school_id == school_id, ClassDayOff.class_id == cid, ClassDayOff.day >= start,
        ClassDayOff.day <= end)).tuples().all()
    if not found:
        raise OfficeError(f"у класса нет дней без занятий в период {period_text(start, end)}")
    rev = change(conn, actor, school_id, DAY_OFF_ENTITY, f"{cid} {period_text(start, end)}", "remove",
                 {"class_id": cid, "days": {d.isoformat(): why for d, why in found}},
                 {"class_id": cid, "days": [d.isoformat() for d, _ in found]})
    conn.execute(delete(ClassDayOff).where(ClassDayOff.school_id == school_id, ClassDayOff.class_id == cid,
                                           ClassDayOff.day >= start, ClassDayOff.day <= end))
    _tombstones(conn, school_id, rev, "class_days_off", [(cid, d) for d, _ in found])
    return len(found)


def period_text(start: date, end: date) -> str:
    return ru_date(start) if start == end else f"{ru_date(start)}–{ru_date(end)}"


# ---- a file of non-school days ----

COLUMNS = (
    r.Col("start", ("с", "дата с", "начало", "from", "first"), r.day),
    r.Col("end", ("по", "дата по", "окончание", "to", "last"), r.optional(r.day), required=False),
    r.Col("reason", ("причина", "основание", "reason"), r.text(REASON_MAX)),
    r.Col("class", ("класс", "class"), r.text(64), required=False),
)


@dataclass(frozen=True)
class FileRow:
    row: int
    start: date
    end: date
    reason: str
    class_id: str  # "" for the whole school
    class_name: str = ""

    @property
    def period(self) -> str:
        return period_text(self.start, self.end)


@dataclass
class FilePreview:
    filename: str
    rows: list[FileRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors


def preview_file(conn: Connection, school_id: str, data: bytes, filename: str) -> FilePreview:
    """Read a CSV/XLSX file of non-school days (columns «с», «по», «причина», optional «класс»): its rows
    as they would be added, and every row's error; nothing is written."""
    result = FilePreview(filename)
    try:
        headers, body = read_table(data, filename)
        index, problems = r.map_headers(headers, COLUMNS)
        if problems:
            result.errors = problems
            return result
        s = settings(conn, school_id)
        classes = dict(conn.execute(select(SchoolClass.id, SchoolClass.name).where(
            SchoolClass.school_id == school_id)).tuples().all())
        for number, cells in body:
            errors: list[r.RowError] = []
            row = r.parse_row(number, cells, COLUMNS, index, errors, date.today())
            if row is None:
                result.errors += [str(e) for e in errors]
                continue
            end = row["end"] or row["start"]
            cid = ""
            try:
                if row["class"]:
                    cid = class_of(conn, school_id, row["class"])
                    _check_range(row["start"], end)
                    cal = _calendar(conn, school_id, row["start"], end)
                    check_days_off(conn, school_id, cal, s, cid, row["start"], end, row["reason"])
                else:
                    check_holidays(s, row["start"], end, row["reason"])
            except OfficeError as exc:
                result.errors.append(str(r.RowError(number, "", str(exc))))
                continue
            result.rows.append(FileRow(number, row["start"], end, clean_reason(row["reason"]), cid,
                                       classes.get(cid, "")))
    except TableError as exc:
        result.errors = [str(exc)]
    if not result.rows and not result.errors:
        result.errors = ["в файле нет строк с днями"]
    return result


def import_file(conn: Connection, actor: str, school_id: str, data: bytes, filename: str) -> FilePreview:
    """Add every row of the file, all or nothing; raises OfficeError (with the first errors) if any row is bad."""
    seen = preview_file(conn, school_id, data, filename)
    if not seen.ok:
        raise OfficeError("; ".join(seen.errors[:5]) or "в файле нет строк с днями")
    for row in seen.rows:
        if row.class_id:
            add_days_off(conn, actor, school_id, row.class_id, row.start, row.end, row.reason)
        else:
            add_holidays(conn, actor, school_id, row.start, row.end, row.reason)
    return seen
