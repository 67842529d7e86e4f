"""Read models for the serving window's screens: plain SQLAlchemy Core selects over the local store.

Nothing here decides or writes anything: which break is on now (from the `Schedule` value the
counter serves by, so the board and the verdicts agree on the window), how many
students of each class ordered / got / have still to come for a meal, who is still missing, a
name-or-class search for a forgotten card, and the demo's queue. (The status line's numbers are
`sync.status.read_status`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, and_, func, select

from pos.domain import Meal
from pos.models import Card, Event, MealSlot, MenuPrice, Order, Rejected, SchoolClass, Served, Student
from pos.schedule import Schedule, Slot


@dataclass(frozen=True)
class ExpectedClass:
    """A class expected at a break, and the meal it eats there."""

    class_id: str
    name: str
    meal: Meal


@dataclass(frozen=True)
class BreakNow:
    """The break being served (or the nearest one), with the classes expected at it."""

    shift: int
    number: int
    starts: str  # local "08:40"
    ends: str
    in_window: bool  # the clock is inside the break's serving window (with the school's tolerance)
    classes: tuple[ExpectedClass, ...]

    @property
    def meals(self) -> tuple[Meal, ...]:
        """The meals of this break, most classes first (a break may serve lunch and a snack)."""
        counts: dict[Meal, int] = {}
        for c in self.classes:
            counts[c.meal] = counts.get(c.meal, 0) + 1
        return tuple(sorted(counts, key=lambda m: -counts[m]))


def current_break(schedule: Schedule, local: datetime, *, meal: Meal | None = None) -> BreakNow | None:
    """The break whose serving window holds `local`, else the next one today, else the last one.

    With `meal`, only breaks where some class eats that meal count (staff switched the meal by hand).
    """
    by_break: dict[tuple[int, int], list[Slot]] = {}
    for slot in schedule.slots:  # in break start order
        if meal is None or slot.meal is meal:
            by_break.setdefault((slot.shift, slot.number), []).append(slot)
    if not by_break:
        return None
    now = local.time()

    def make(slots: list[Slot], inside: bool) -> BreakNow:
        first = slots[0]
        return BreakNow(first.shift, first.number, first.starts, first.ends, inside,
                        tuple(ExpectedClass(s.class_id, s.class_name, s.meal) for s in slots))

    breaks = list(by_break.values())
    for slots in breaks:
        if slots[0].window.holds(now):
            return make(slots, True)
    upcoming = [slots for slots in breaks if time.fromisoformat(slots[0].starts) > now]
    return make(upcoming[0] if upcoming else breaks[-1], False)


@dataclass(frozen=True)
class ClassCount:
    """Ordered / served / still to come for one class and meal on one day; ordered = served + to_come.

    Meals given without an order (a staff override, a hand serve) are counted apart, in `extra`, so the
    three columns staff add up in their heads always add up.
    """

    class_id: str
    name: str
    meal: Meal
    ordered: int
    served: int  # ordered and served
    to_come: int  # ordered and not served yet
    extra: int = 0  # served without an order


def class_counts(conn: Connection, day: date, expected: Iterable[tuple[str, Meal]]) -> list[ClassCount]:
    """Counts for each (class id, meal), in the order given."""
    pairs = list(expected)
    if not pairs:
        return []
    class_ids = sorted({c for c, _ in pairs})
    names = dict(conn.execute(
        select(SchoolClass.id, SchoolClass.name).where(SchoolClass.id.in_(class_ids))).tuples().all())
    ordered = {(c, m): n for c, m, n in conn.execute(
        select(Student.class_id, Order.meal, func.count())
        .join(Student, Student.id == Order.student_id)
        .where(Order.day == day, Student.class_id.in_(class_ids), Student.active.is_(True))
        .group_by(Student.class_id, Order.meal)).tuples()}
    served = {(c, m): n for c, m, n in conn.execute(
        select(Student.class_id, Served.meal, func.count())
        .join(Student, Student.id == Served.student_id)
        .where(Served.local_date == day, Student.class_id.in_(class_ids))
        .group_by(Student.class_id, Served.meal)).tuples()}
    served_ordered = {(c, m): n for c, m, n in conn.execute(
        select(Student.class_id, Served.meal, func.count())
        .join(Student, Student.id == Served.student_id)
        .join(Order, and_(Order.student_id == Served.student_id, Order.day == Served.local_date,
                          Order.meal == Served.meal))
        .where(Served.local_date == day, Student.class_id.in_(class_ids))
        .group_by(Student.class_id, Served.meal)).tuples()}
    result = []
    for class_id, meal in pairs:
        key = (class_id, meal.value)
        n_ordered, n_served = ordered.get(key, 0), served_ordered.get(key, 0)
        result.append(ClassCount(class_id, names.get(class_id, class_id), meal, n_ordered, n_served,
                                 n_ordered - n_served, served.get(key, 0) - n_served))
    return result


def day_summary(conn: Connection, day: date) -> list[ClassCount]:
    """Every class and meal of the schedule, shift and break order, for the day's summary."""
    pairs = conn.execute(
        select(MealSlot.class_id, MealSlot.meal).order_by(MealSlot.shift, MealSlot.break_no, MealSlot.class_id)
    ).tuples().all()
    return class_counts(conn, day, [(c, Meal(m)) for c, m in pairs])


@dataclass(frozen=True)
class StudentHit:
    id: str
    full_name: str
    class_id: str
    class_name: str


def missing_students(conn: Connection, day: date, class_id: str, meal: Meal) -> list[StudentHit]:
    """Students of a class who ordered the meal for the day and have not had it yet."""
    served = select(Served.student_id).where(Served.local_date == day, Served.meal == meal.value)
    rows = conn.execute(
        select(Student.id, Student.full_name, Student.class_id, SchoolClass.name)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .join(Order, Order.student_id == Student.id)
        .where(Student.class_id == class_id, Student.active.is_(True), Order.day == day, Order.meal == meal.value,
               Student.id.not_in(served))
        .order_by(Student.full_name)).all()
    return [StudentHit(*r) for r in rows]


def search_students(conn: Connection, text: str, *, limit: int = 30) -> list[StudentHit]:
    """Active students whose every search word starts a word of the name or is the class name.

    Matching is done in Python: SQLite's LIKE folds case for ASCII only, and names are Cyrillic.
    A school has at most a few thousand students, so one scan is a few milliseconds.
    """
    words = [w.casefold().replace("ё", "е") for w in text.split()]
    if not words:
        return []
    rows = conn.execute(
        select(Student.id, Student.full_name, Student.class_id, SchoolClass.name)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Student.active.is_(True))
        .order_by(SchoolClass.grade, SchoolClass.name, Student.full_name)).all()
    hits = []
    for row in rows:
        name_words = row.full_name.casefold().replace("ё", "е").split()
        class_name = row.name.casefold().replace(" ", "")
        if all(class_name == w or any(n.startswith(w) for n in name_words) for w in words):
            hits.append(StudentHit(*row))
            if len(hits) >= limit:
                break
    return hits


@dataclass(frozen=True)
class ExpectedCard:
    uid: str
    student_id: str
    meal: Meal
    served: bool


def expected_cards(conn: Connection, day: date, shift: int, break_no: int) -> list[ExpectedCard]:
    """The unblocked cards of the students expected at a break, class by class (the demo's queue)."""
    served = {(s, m) for s, m in conn.execute(
        select(Served.student_id, Served.meal).where(Served.local_date == day)).tuples()}
    rows = conn.execute(
        select(Card.uid, Student.id, MealSlot.meal)
        .join(Student, Student.id == Card.student_id)
        .join(MealSlot, MealSlot.class_id == Student.class_id)
        .where(MealSlot.shift == shift, MealSlot.break_no == break_no, Card.blocked.is_(False),
               Student.active.is_(True))
        .order_by(Student.class_id, Student.id)).tuples().all()
    return [ExpectedCard(uid, sid, Meal(meal), (sid, meal) in served) for uid, sid, meal in rows]


def last_event_at(conn: Connection) -> datetime | None:
    """When the journal's latest event happened (aware UTC), or None for an empty journal."""
    value = conn.execute(select(func.max(Event.at_utc))).scalar()
    return value.replace(tzinfo=UTC) if value is not None else None


def priced_days(conn: Connection, since: date, days: int = 1) -> set[date]:
    """Days from `since` on (for `days` days) that have menu prices: the store has data for them."""
    until = since + timedelta(days=days)
    return set(conn.execute(
        select(MenuPrice.day).where(MenuPrice.day >= since, MenuPrice.day < until).distinct()).scalars())


@dataclass(frozen=True)
class RejectedRow:
    """An event the server refused, as staff see it: when, who, what, and the server's reason."""

    at_utc: datetime
    student_name: str
    meal: Meal | None
    kind: str
    message: str


def rejected_events(conn: Connection, *, limit: int = 200) -> list[RejectedRow]:
    """The events waiting in the rejected list, newest first (they stay in the journal too)."""
    rows = conn.execute(
        select(Event.at_utc, Student.full_name, Event.student_id, Event.meal, Event.kind, Rejected.message)
        .join(Event, Event.id == Rejected.event_id)
        .outerjoin(Student, Student.id == Event.student_id)
        .order_by(Rejected.seq.desc()).limit(limit)).all()
    return [RejectedRow(r.at_utc, r.full_name or r.student_id or "—", Meal(r.meal) if r.meal else None, r.kind,
                        r.message) for r in rows]
