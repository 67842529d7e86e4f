"""Today in a school's canteen: per meal and break, for each class, how many students ordered, how many
of them got the meal and how many are still to come, plus meals given without an order.

"Served" is a serve or override event for the day that no reversal cancelled (`pos.ledger`); a
student counts once per meal however many times they were served. Students are counted in their
current class. "Today" is the school's local date.

`month` gives the chart of the month: per school day up to today, the meals ordered and the meals
given (every serve or override no reversal cancelled, whenever the reversal came).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import aliased

from pos.domain import Meal
from pos.ledger import SERVED_KINDS, EventKind, cancelled
from server.calendar import load_calendar
from server.models import Break, Event, MealSlot, Order, School, SchoolClass, Student


@dataclass(frozen=True)
class ClassToday:
    class_id: str
    name: str
    ordered: int
    served: int  # ordered and served
    to_come: int  # ordered, not served yet
    extra: int  # served without an order


@dataclass(frozen=True)
class BreakToday:
    meal: Meal
    shift: int
    number: int
    starts: str
    ends: str
    classes: tuple[ClassToday, ...]

    @property
    def ordered(self) -> int:
        return sum(c.ordered for c in self.classes)

    @property
    def served(self) -> int:
        return sum(c.served for c in self.classes)

    @property
    def to_come(self) -> int:
        return sum(c.to_come for c in self.classes)

    @property
    def extra(self) -> int:
        return sum(c.extra for c in self.classes)


def school_now(conn: Connection, school_id: str, now: datetime | None = None) -> datetime:
    """The school's local time now (its date is the school's "today")."""
    tz = conn.execute(select(School.timezone).where(School.id == school_id)).scalar_one()
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz))


def today(conn: Connection, school_id: str, day: date, *, class_ids: Collection[str] | None = None
          ) -> list[BreakToday]:
    """Every meal slot of the school's schedule (or of `class_ids`), grouped by meal and break in time order."""
    slots_q = (select(MealSlot.class_id, MealSlot.meal, MealSlot.shift, MealSlot.break_no, Break.starts, Break.ends,
                      SchoolClass.name)
               .join(SchoolClass, (SchoolClass.school_id == MealSlot.school_id) & (SchoolClass.id == MealSlot.class_id))
               .outerjoin(Break, (Break.school_id == MealSlot.school_id) & (Break.shift == MealSlot.shift)
                          & (Break.number == MealSlot.break_no))
               .where(MealSlot.school_id == school_id))
    if class_ids is not None:
        slots_q = slots_q.where(MealSlot.class_id.in_(list(class_ids)))
    slots = conn.execute(slots_q).all()
    students = dict(conn.execute(select(Student.id, Student.class_id).where(
        Student.school_id == school_id, Student.active.is_(True))).tuples().all())
    ordered = {(s, m) for s, m in conn.execute(select(Order.student_id, Order.meal).where(
        Order.school_id == school_id, Order.day == day)).tuples()}
    events = conn.execute(select(Event.id, Event.kind, Event.student_id, Event.meal, Event.ref_event_id).where(
        Event.school_id == school_id, Event.local_date == day,
        Event.kind.in_([*SERVED_KINDS, EventKind.REVERSAL]))).all()
    reversed_ids = {e.ref_event_id for e in events if e.kind == EventKind.REVERSAL and e.ref_event_id}
    # A reversal made on a later day still cancels: look those up by the serves' ids too (a subquery:
    # a day's thousands of ids as bound parameters cost more to send than the lookup itself).
    serve = aliased(Event)
    serve_ids = select(serve.id).where(serve.school_id == school_id, serve.local_date == day,
                                       serve.kind.in_(list(SERVED_KINDS)))
    reversed_ids |= set(conn.execute(select(Event.ref_event_id).where(
        Event.school_id == school_id, Event.kind == EventKind.REVERSAL, Event.local_date != day,
        Event.ref_event_id.in_(serve_ids))).scalars())
    served = {(e.student_id, e.meal) for e in events
              if e.kind != EventKind.REVERSAL and e.id not in reversed_ids and e.student_id and e.meal}

    ordered_by: dict[tuple[str | None, str], set[str]] = {}
    for student_id, meal in ordered:
        ordered_by.setdefault((students.get(student_id), meal), set()).add(student_id)
    served_by: dict[tuple[str | None, str], set[str]] = {}
    for student_id, meal in served:
        served_by.setdefault((students.get(student_id), meal), set()).add(student_id)

    def counts(class_id: str, meal: str) -> tuple[int, int, int]:
        o, got = ordered_by.get((class_id, meal), set()), served_by.get((class_id, meal), set())
        return len(o), len(o & got), len(got - o)

    groups: dict[tuple[int, int, str], list[ClassToday]] = {}
    times: dict[tuple[int, int, str], tuple[str, str]] = {}
    for s in slots:
        key = (s.shift, s.break_no, s.meal)
        n_ordered, n_served, n_extra = counts(s.class_id, s.meal)
        groups.setdefault(key, []).append(
            ClassToday(s.class_id, s.name, n_ordered, n_served, n_ordered - n_served, n_extra))
        times[key] = (s.starts or "", s.ends or "")
    order = sorted(groups, key=lambda k: (times[k][0] or "99:99", k))
    return [BreakToday(Meal(k[2]), k[0], k[1], times[k][0], times[k][1],
                       tuple(sorted(groups[k], key=lambda c: c.class_id))) for k in order]


@dataclass(frozen=True)
class DayTotals:
    day: date
    ordered: int  # meals ordered
    served: int  # meals given (serves and overrides no reversal cancelled)


def month(conn: Connection, school_id: str, today: date) -> list[DayTotals]:
    """Per school day of `today`'s month up to `today` (by the school's calendar: its year, week and
    holidays): the meals ordered and the meals given. A day off with meals given anyway is listed too."""
    first = today.replace(day=1)
    calendar = load_calendar(conn, school_id, first, today)  # the school's days by `pos.calendar`
    ordered = Counter(dict(conn.execute(select(Order.day, func.count()).where(
        Order.school_id == school_id, Order.day >= first, Order.day <= today).group_by(Order.day)).tuples().all()))
    in_month = (Event.school_id == school_id, Event.local_date >= first, Event.local_date <= today,
                Event.kind.in_(SERVED_KINDS))
    served = Counter(dict(conn.execute(select(Event.local_date, func.count()).where(*in_month)
                                       .group_by(Event.local_date)).tuples().all()))
    # A reversal of any day cancels its serve: look the reversals up by the serves' ids, not by the days.
    serve = aliased(Event)
    serve_ids = select(serve.id).where(serve.school_id == school_id, serve.local_date >= first,
                                       serve.local_date <= today, serve.kind.in_(SERVED_KINDS))
    gone = cancelled(conn.execute(select(Event.id, Event.kind, Event.ref_event_id).where(
        Event.school_id == school_id, Event.kind == EventKind.REVERSAL,
        Event.ref_event_id.in_(serve_ids))).tuples())
    for chunk in (sorted(gone)[i:i + 500] for i in range(0, len(gone), 500)):
        served.subtract(dict(conn.execute(select(Event.local_date, func.count()).where(
            *in_month, Event.id.in_(chunk)).group_by(Event.local_date)).tuples().all()))
    days = (first + timedelta(days=n) for n in range((today - first).days + 1))
    return [DayTotals(d, ordered[d], served[d]) for d in days
            if calendar.is_school_day(d) or served[d]]
