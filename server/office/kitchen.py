"""The kitchen's order (заявка на пищеблок, КШП) of a school for a day: per meal and break, per class, the
meals ordered split by budget line (free by the region's policy) and paid, with sums; totals per
break, per meal and for the day.

Frozen at the deadline: the order the kitchen gets is the one that stood when the classes' orders
locked (`server.calendar.deadline_of`): the `Order` rows of now with every `OrderChange` made after
the deadline undone. The later amendments (the coordinator's, with a reason) are listed under it —
who, when, what, why, and «после отправки» when made after the coordinator sent the order to the
kitchen (`KitchenSending`) — and the counts of now are given too when they differ.

Pricing: a free meal is priced by the policy (`pos.policy.Policy.free_meals`, the student's benefits in
force that day) on its budget line; where the policy has a daily cap, the part of a student's free
meals above it (in meal order, as the terminal charges it) is a copay from the account. A paid meal
is priced by the day's menu (`server.office.menu.paid_prices`, as the class order and the window), and
without a menu price is counted with no sum and a warning. Students are counted in their current class;
a class's meal without a slot in the canteen's schedule goes under «вне расписания». Students marked
absent have no `Order` rows.

Undoing a change: add and present (with a meal) are taken away, remove and absent (with a meal) are
put back; an absent/present mark without a meal changes no count (its meals are removed by their own
remove rows) but is listed as an amendment.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from pos.calendar import WEEKDAY_RU, Calendar, parse_deadline
from pos.domain import Meal, age_on, group_of, ru_date
from pos.money import format_rub
from pos.policy import FreeMeal, Policy, parse_policy
from pos.settings import zone
from server import pull
from server.calendar import load_calendar
from server.free_meals import FreeMeals
from server.models import (
    Break,
    Entitlement,
    KitchenSending,
    MealSlot,
    Order,
    OrderChange,
    School,
    SchoolClass,
    Student,
)
from server.office import menu
from server.office.audit import record_change
from server.office.changes import NotFound, OfficeError
from server.tabular import csv_text, excel_safe

OFF_SCHEDULE = "вне расписания"
ACTIONS = {"add": "добавлено", "remove": "снято", "absent": "отмечено «не придёт»",
           "present": "снята отметка «не придёт»"}
_ADDS = {"add", "present"}
_REMOVES = {"remove", "absent"}
FORMATS = ("json", "csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def meal_title(meal: str) -> str:
    return Meal(meal).ru if meal in Meal._value2member_map_ else meal


def _meal_rank(meal: str) -> int:
    order = list(Meal._value2member_map_)
    return order.index(meal) if meal in order else len(order)


# --- counts ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    count: int = 0
    kopecks: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.kopecks + other.kopecks)


@dataclass(frozen=True)
class Sums:
    """Meals and money of a class, a break, a meal or the day: per budget line (free), paid, and the
    copay of free meals above the policy's daily cap (money only)."""

    lines: tuple[tuple[str, Tally], ...]  # every budget line of the policy, in its order
    paid: Tally = Tally()
    copay_kopecks: int = 0

    @property
    def free(self) -> Tally:
        total = Tally()
        for _code, t in self.lines:
            total += t
        return total

    @property
    def total(self) -> Tally:
        free = self.free
        return Tally(free.count + self.paid.count, free.kopecks + self.paid.kopecks + self.copay_kopecks)

    def line(self, code: str) -> Tally:
        return dict(self.lines).get(code, Tally())


def _sum(parts: Iterable[Sums], codes: tuple[str, ...]) -> Sums:
    lines = dict.fromkeys(codes, Tally())
    paid, copay = Tally(), 0
    for s in parts:
        for code, t in s.lines:
            lines[code] = lines.get(code, Tally()) + t
        paid += s.paid
        copay += s.copay_kopecks
    return Sums(tuple(lines.items()), paid, copay)


@dataclass(frozen=True)
class ClassRow:
    class_id: str
    name: str
    sums: Sums


@dataclass(frozen=True)
class BreakRows:
    """The classes that eat a meal at one break (shift None: classes without a slot, «вне расписания»)."""

    meal: str
    shift: int | None
    number: int | None
    starts: str
    ends: str
    classes: tuple[ClassRow, ...]
    sums: Sums

    @property
    def title(self) -> str:
        if self.shift is None:
            return OFF_SCHEDULE
        times = f", {self.starts}–{self.ends}" if self.starts else ""
        return f"{self.shift} смена, {self.number} перемена{times}"


@dataclass(frozen=True)
class MealPart:
    meal: str
    breaks: tuple[BreakRows, ...]
    sums: Sums

    @property
    def title(self) -> str:
        return meal_title(self.meal).capitalize()


@dataclass(frozen=True)
class Counts:
    meals: tuple[MealPart, ...]
    sums: Sums


@dataclass(frozen=True)
class Amendment:
    at: datetime  # school time, aware
    actor: str
    class_id: str
    class_name: str
    student_id: str
    student_name: str
    meal: str
    action: str
    reason: str
    after_sent: bool

    @property
    def what(self) -> str:
        meal = f": {meal_title(self.meal)}" if self.meal else ""
        return f"{ACTIONS.get(self.action, self.action)}{meal}"


@dataclass(frozen=True)
class Sending:
    sent_by: str
    sent_at: datetime  # school time, aware


@dataclass(frozen=True)
class KitchenOrder:
    school_id: str
    school_name: str
    day: date
    deadline: datetime  # school time, aware
    now: datetime
    why_not: str | None  # not a school day: why (the order is shown anyway)
    days_off: tuple[tuple[str, str], ...]  # (class name, reason) of classes without lessons that day
    budget_lines: tuple[tuple[str, str], ...]  # (code, title) of the policy
    at_deadline: Counts
    current: Counts
    amendments: tuple[Amendment, ...]
    sending: Sending | None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def locked(self) -> bool:
        """The deadline has passed: the order above is the frozen one."""
        return self.now >= self.deadline

    @property
    def changed(self) -> bool:
        return self.current != self.at_deadline

    @property
    def weekday(self) -> str:
        return WEEKDAY_RU[self.day.weekday()]


# --- the one place paid meals are priced -------------------------------------------------------------------

PaidPrice = Callable[[int, int | None, str], int | None]


def paid_prices(conn: Connection, school_id: str, day: date) -> PaidPrice:
    """The day's menu price of a paid meal for a student of (grade, age); None when the menu has none —
    `server.office.menu.paid_prices`, by the student's age group, as the class order and the window."""
    price = menu.paid_prices(conn, school_id, day)

    def for_student(grade: int, age: int | None, meal: str) -> int | None:
        return price(meal, group_of(age, grade))

    return for_student


# --- building the order ------------------------------------------------------------------------------------

@dataclass
class _Books:
    policy: Policy
    codes: tuple[str, ...]
    students: dict[str, Any]
    classes: dict[str, Any]
    benefits: dict[str, list[Any]]
    slots: dict[tuple[str, str], tuple[int, int]]
    breaks: dict[tuple[int, int], tuple[str, str]]
    paid_price: PaidPrice
    day: date
    grants: FreeMeals = field(init=False)
    warnings: dict[str, None] = field(default_factory=dict)
    _paid: dict[tuple[int, int | None, str], int] = field(default_factory=dict)
    _kinds: dict[str, tuple[Any, Any, int | None, dict[str, FreeMeal] | None] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.grants = FreeMeals(self.policy)

    def warn(self, text: str) -> None:
        self.warnings[text] = None

    def price_paid(self, grade: int, age: int | None, meal: str) -> int:
        key = (grade, age, meal)
        if key not in self._paid:
            self._paid[key] = self._price_paid(grade, age, meal)
        return self._paid[key]

    def _price_paid(self, grade: int, age: int | None, meal: str) -> int:
        found = self.paid_price(grade, age, meal)
        if found is not None:
            return found
        # As the class order warns and the window refuses («Нет цены»): no price is made up here.
        self.warn(f"В меню на {ru_date(self.day)} нет цены «{meal_title(meal)}»: платные посчитаны без суммы "
                  f"(0,00 ₽), пока меню не заполнено.")
        return 0

    def student(self, student_id: str) -> tuple[Any, Any, int | None, dict[str, FreeMeal] | None] | None:
        """(student, class, age, free meals) of a student of the roster; None for one not on it."""
        if student_id not in self._kinds:
            student = self.students.get(student_id)
            cls = self.classes.get(student.class_id) if student else None
            if student is None or cls is None:
                self._kinds[student_id] = None
            else:
                age = age_on(student.birth_date, self.day) if student.birth_date else None
                free = self.grants.on(self.day, grade=cls.grade, shift=cls.shift, birth_date=student.birth_date,
                                      benefits=self.benefits.get(student_id, []))
                self._kinds[student_id] = (student, cls, age, free)
        return self._kinds[student_id]


def _books(conn: Connection, school: Any, day: date) -> _Books:
    policy = parse_policy(school.policy_text, f"policy:{school.id}")
    benefits: dict[str, list[Any]] = defaultdict(list)
    for b in conn.execute(select(Entitlement.student_id, Entitlement.category, Entitlement.starts, Entitlement.ends)
                          .where(Entitlement.school_id == school.id, Entitlement.starts <= day,
                                 (Entitlement.ends.is_(None)) | (Entitlement.ends >= day))):
        benefits[b.student_id].append(b)
    return _Books(
        policy=policy, codes=tuple(policy.budget_lines),
        students={s.id: s for s in conn.execute(select(Student.id, Student.full_name, Student.class_id,
                                                       Student.birth_date).where(
            Student.school_id == school.id, Student.active.is_(True)))},
        classes={c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade,
                                                      SchoolClass.shift).where(SchoolClass.school_id == school.id))},
        benefits=benefits,
        slots={(s.class_id, s.meal): (s.shift, s.break_no) for s in conn.execute(
            select(MealSlot.class_id, MealSlot.meal, MealSlot.shift, MealSlot.break_no).where(
                MealSlot.school_id == school.id))},
        breaks={(b.shift, b.number): (b.starts, b.ends) for b in conn.execute(
            select(Break.shift, Break.number, Break.starts, Break.ends).where(Break.school_id == school.id))},
        paid_price=paid_prices(conn, school.id, day), day=day)


class _Acc:
    """A class's meal being counted."""

    __slots__ = ("copay", "lines", "paid")

    def __init__(self) -> None:
        self.lines: dict[str, Tally] = {}
        self.paid = Tally()
        self.copay = 0


def _count(books: _Books, ordered: Iterable[tuple[str, str]]) -> Counts:
    """The order's counts and sums from (student, meal) pairs."""
    by_student: dict[str, list[str]] = defaultdict(list)
    for student_id, meal in ordered:
        by_student[student_id].append(meal)
    acc: dict[tuple[str, str], _Acc] = {}
    unpriced: list[str] = []
    for student_id, meals in by_student.items():
        known = books.student(student_id)
        if known is None:
            continue  # left the school, or a class not on the roster: not the kitchen's to cook for
        student, cls, age, free = known
        if free is None:
            unpriced.append(student.full_name)
            free = {}
        used = 0
        for meal in sorted(meals, key=_meal_rank):
            row = acc.setdefault((cls.id, meal), _Acc())
            grant = free.get(meal)
            if grant is None:
                row.paid += Tally(1, books.price_paid(cls.grade, age, meal))
                continue
            part = grant.price_kopecks
            if books.policy.daily_cap is not None:
                part = max(0, min(part, books.policy.daily_cap - used))
                used += part
                row.copay += grant.price_kopecks - part
            row.lines[grant.budget_line] = row.lines.get(grant.budget_line, Tally()) + Tally(1, part)
    if unpriced:
        names = ", ".join(sorted(unpriced)[:5]) + (" …" if len(unpriced) > 5 else "")
        books.warn(f"Политику не применить без даты рождения ({len(unpriced)}: {names}): их питание "
                   f"посчитано как платное.")
    return _group(books, acc)


def _group(books: _Books, acc: dict[tuple[str, str], _Acc]) -> Counts:
    codes = books.codes

    def sums(a: _Acc | None) -> Sums:
        if a is None:
            return _sum((), codes)
        return _sum([Sums(tuple(a.lines.items()), a.paid, a.copay)], codes)

    # Every slot of the schedule (a class that ordered nothing shows 0), then the meals without a slot.
    keys: set[tuple[str, str]] = {k for k in books.slots if k[0] in books.classes} | set(acc)
    groups: dict[tuple[str, int | None, int | None], list[ClassRow]] = defaultdict(list)
    for class_id, meal in keys:
        cls = books.classes[class_id]
        slot = books.slots.get((class_id, meal))
        key: tuple[str, int | None, int | None] = (meal, slot[0], slot[1]) if slot else (meal, None, None)
        groups[key].append(ClassRow(class_id, cls.name, sums(acc.get((class_id, meal)))))

    def when(key: tuple[str, int | None, int | None]) -> tuple[int, str, int, int]:
        meal, shift, number = key
        if shift is None or number is None:
            return _meal_rank(meal), "99:99", 99, 99
        return _meal_rank(meal), books.breaks.get((shift, number), ("99:98", ""))[0], shift, number

    parts: dict[str, list[BreakRows]] = defaultdict(list)
    for key in sorted(groups, key=when):
        meal, shift, number = key
        rows = tuple(sorted(groups[key], key=lambda r: (books.classes[r.class_id].grade, r.name)))
        starts, ends = books.breaks.get((shift, number), ("", "")) if shift is not None and number is not None \
            else ("", "")
        parts[meal].append(BreakRows(meal, shift, number, starts, ends, rows, _sum((r.sums for r in rows), codes)))
    meals = tuple(MealPart(meal, tuple(b), _sum((x.sums for x in b), codes)) for meal, b in parts.items())
    return Counts(meals, _sum((m.sums for m in meals), codes))


def _school(conn: Connection, school_id: str) -> Any:
    school = conn.execute(select(School.id, School.name, School.timezone, School.order_deadline, School.policy_text)
                          .where(School.id == school_id)).first()
    if school is None:
        raise NotFound(f"школа {school_id} не найдена")
    return school


def _utc(moment: datetime) -> datetime:
    """Aware -> naive UTC, as the tables keep moments."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _local(naive_utc: datetime, tz: ZoneInfo) -> datetime:
    return naive_utc.replace(tzinfo=UTC).astimezone(tz)


def _calendar(conn: Connection, school_id: str, day: date) -> Calendar:
    return load_calendar(conn, school_id, day - timedelta(days=1), day)


def kitchen_order(conn: Connection, school_id: str, day: date, now: datetime) -> KitchenOrder:
    """The kitchen's order for `day` as of `now` (aware). Raises NotFound for no such school."""
    school = _school(conn, school_id)
    tz = zone(school.timezone)
    calendar = _calendar(conn, school_id, day)
    deadline = calendar.deadline(day, parse_deadline(school.order_deadline), tz)
    books = _books(conn, school, day)
    current = set(conn.execute(select(Order.student_id, Order.meal).where(
        Order.school_id == school_id, Order.day == day)).tuples())
    sent = conn.execute(select(KitchenSending.sent_by, KitchenSending.sent_at).where(
        KitchenSending.school_id == school_id, KitchenSending.day == day)).first()
    late = conn.execute(select(OrderChange).where(
        OrderChange.school_id == school_id, OrderChange.day == day, OrderChange.at > _utc(deadline))
        .order_by(OrderChange.at, OrderChange.id)).all()
    frozen = set(current)
    for c in reversed(late):
        if c.meal and c.action in _ADDS:
            frozen.discard((c.student_id, c.meal))
        elif c.meal and c.action in _REMOVES:
            frozen.add((c.student_id, c.meal))

    def amendment(c: Any) -> Amendment:
        student = books.students.get(c.student_id)
        cls = books.classes.get(c.class_id)
        return Amendment(_local(c.at, tz), c.actor, c.class_id, cls.name if cls else c.class_id, c.student_id,
                         student.full_name if student else c.student_id, c.meal, c.action, c.reason,
                         sent is not None and c.at > sent.sent_at)

    at_deadline = _count(books, frozen)
    now_counts = at_deadline if frozen == current else _count(books, current)
    days_off = tuple(sorted((books.classes[c].name if c in books.classes else c, reason or "нет занятий")
                            for (c, d), reason in calendar.days_off.items() if d == day))
    return KitchenOrder(
        school_id=school.id, school_name=school.name, day=day, deadline=deadline, now=now.astimezone(tz),
        why_not=calendar.why_not(day), days_off=days_off,
        budget_lines=tuple(books.policy.budget_lines.items()), at_deadline=at_deadline, current=now_counts,
        amendments=tuple(amendment(c) for c in late),
        sending=Sending(sent.sent_by, _local(sent.sent_at, tz)) if sent else None,
        warnings=tuple(books.warnings))


def next_school_day(conn: Connection, school_id: str, now: datetime) -> date:
    """The day whose order the page opens on: the school's next school day after today (school time)."""
    school = _school(conn, school_id)
    return pull.next_school_day(conn, school, now.astimezone(zone(school.timezone)).date())  # the pull's horizon


def send(conn: Connection, actor: str, school_id: str, day: date, now: datetime) -> tuple[Sending, bool]:
    """Record that the coordinator sent the day's order to the kitchen; (the sending, whether it is this
    one — False: it had been sent before, and that first time stays).

    Only a school day, not a past one, and only after the deadline (before it the classes may still
    change the order). Raises NotFound / OfficeError (Russian).
    """
    school = _school(conn, school_id)
    tz = zone(school.timezone)
    earlier = conn.execute(select(KitchenSending.sent_by, KitchenSending.sent_at).where(
        KitchenSending.school_id == school_id, KitchenSending.day == day)).first()
    if earlier is not None:
        return Sending(earlier.sent_by, _local(earlier.sent_at, tz)), False
    calendar = _calendar(conn, school_id, day)
    why = calendar.why_not(day)
    if why is not None:
        raise OfficeError(f"на пищеблок отправляют заявку учебного дня: {why}")
    if day < now.astimezone(tz).date():
        raise OfficeError(f"{ru_date(day)} уже прошёл: заявку за прошедший день не отправляют")
    deadline = calendar.deadline(day, parse_deadline(school.order_deadline), tz)
    if now < deadline:
        raise OfficeError(f"заявки классов на {ru_date(day)} принимаются до {deadline:%d.%m.%Y %H:%M}: "
                          f"отправить на пищеблок можно после этого срока")
    at = _utc(now)
    try:
        with conn.begin_nested():
            conn.execute(insert(KitchenSending).values(school_id=school_id, day=day, sent_by=actor[:64], sent_at=at))
    except IntegrityError:  # sent at the same moment by someone else: theirs is the first
        first = conn.execute(select(KitchenSending.sent_by, KitchenSending.sent_at).where(
            KitchenSending.school_id == school_id, KitchenSending.day == day)).one()
        return Sending(first.sent_by, _local(first.sent_at, tz)), False
    record_change(conn, actor, school_id, "kitchen_order", day.isoformat(), "send", None,
                  {"day": day.isoformat(), "sent_at": at.isoformat()})
    return Sending(actor[:64], _local(at, tz)), True


def sent_message(day: date, sending: Sending, new: bool) -> str:
    """What the coordinator is told after pressing «Отправить на пищеблок»."""
    when = f"{sending.sent_at:%d.%m.%Y %H:%M}, {sending.sent_by}"
    if new:
        return f"Заявка на {ru_date(day)} отправлена на пищеблок: {when}."
    return f"Заявка на {ru_date(day)} уже была отправлена на пищеблок: {when}; время первой отправки сохранено."


# --- formats -----------------------------------------------------------------------------------------------

def _tally(t: Tally) -> dict[str, int]:
    return {"count": t.count, "kopecks": t.kopecks}


def _sums_json(s: Sums) -> dict[str, Any]:
    return {"lines": {code: _tally(t) for code, t in s.lines}, "paid": _tally(s.paid),
            "copay_kopecks": s.copay_kopecks, "total": _tally(s.total)}


def _counts_json(c: Counts) -> dict[str, Any]:
    return {"meals": [{"meal": m.meal, "meal_title": m.title, "breaks": [
        {"shift": b.shift, "number": b.number, "starts": b.starts, "ends": b.ends, "title": b.title,
         "classes": [{"class_id": r.class_id, "class_name": r.name, **_sums_json(r.sums)} for r in b.classes],
         **_sums_json(b.sums)} for b in m.breaks], **_sums_json(m.sums)} for m in c.meals],
        **_sums_json(c.sums)}


def to_json(o: KitchenOrder) -> dict[str, Any]:
    """The order as JSON-ready data: dates ISO, money in kopecks."""
    return {
        "school_id": o.school_id, "school_name": o.school_name, "date": o.day.isoformat(),
        "school_day": o.why_not is None, "not_school_day": o.why_not,
        "deadline": o.deadline.isoformat(), "locked": o.locked,
        "sent": {"at": o.sending.sent_at.isoformat(), "by": o.sending.sent_by} if o.sending else None,
        "budget_lines": [{"code": code, "title": title} for code, title in o.budget_lines],
        "days_off": [{"class_name": name, "reason": reason} for name, reason in o.days_off],
        "at_deadline": _counts_json(o.at_deadline),
        "amendments": [{"at": a.at.isoformat(), "actor": a.actor, "class_id": a.class_id, "class_name": a.class_name,
                        "student_id": a.student_id, "student_name": a.student_name, "meal": a.meal,
                        "action": a.action, "what": a.what, "reason": a.reason, "after_sent": a.after_sent}
                       for a in o.amendments],
        "current": _counts_json(o.current) if o.changed else None,
        "warnings": list(o.warnings),
    }


def file_name(o: KitchenOrder, form: str) -> str:
    """kitchen-order-<school>-<date>.<format>, the school's code made safe for a file name."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in o.school_id)
    return f"kitchen-order-{safe}-{o.day.isoformat()}.{form}"


def _rub(kopecks: int) -> str:
    """48,58 — money in a CSV cell for a Russian Excel (the ₽ is in the column's name)."""
    return format_rub(kopecks).removesuffix(" ₽").replace("\u00a0", " ")


def _csv_header(o: KitchenOrder) -> list[str]:
    lines = [h for code, _t in o.budget_lines for h in (f"Бесплатно {code}: кол-во", f"Бесплатно {code}: сумма, ₽")]
    return ["Состояние", "Строка", "Приём пищи", "Смена", "Перемена", "Время", "Класс", *lines,
            "Платно: кол-во", "Платно: сумма, ₽", "Доплата сверх лимита, ₽", "Всего: кол-во", "Всего: сумма, ₽"]


def _csv_sums(o: KitchenOrder, s: Sums) -> list[Any]:
    cells: list[Any] = []
    for code, _title in o.budget_lines:
        t = s.line(code)
        cells += [t.count, _rub(t.kopecks)]
    return [*cells, s.paid.count, _rub(s.paid.kopecks), _rub(s.copay_kopecks), s.total.count, _rub(s.total.kopecks)]


def _csv_rows(o: KitchenOrder, state: str, c: Counts) -> Iterable[list[Any]]:
    for m in c.meals:
        for b in m.breaks:
            place = [m.title, b.shift or "", b.number or "", f"{b.starts}–{b.ends}" if b.starts else ""]
            if b.shift is None:
                place[1] = OFF_SCHEDULE
            for r in b.classes:
                yield [state, "класс", *place, r.name, *_csv_sums(o, r.sums)]
            yield [state, "итого перемена", *place, "", *_csv_sums(o, b.sums)]
        yield [state, "итого приём пищи", m.title, "", "", "", "", *_csv_sums(o, m.sums)]
    yield [state, "итого за день", "", "", "", "", "", *_csv_sums(o, c.sums)]


def to_csv(o: KitchenOrder) -> str:
    """The order as CSV for a Russian Excel (BOM, semicolons): the counts at the deadline, the counts of
    now when they differ, then the amendments after the deadline as a second table."""
    rows = list(_csv_rows(o, "на срок заявки", o.at_deadline))
    if o.changed:
        rows += list(_csv_rows(o, "сейчас, с изменениями", o.current))
    text = csv_text(_csv_header(o), rows)
    if o.amendments:
        text += "\r\n" + csv_text(
            ["Изменения после срока", "Когда", "Кто", "Класс", "Ученик", "Приём пищи", "Изменение", "Причина",
             "После отправки"],
            ([ru_date(o.day), a.at.strftime("%d.%m.%Y %H:%M"), a.actor, a.class_name, a.student_name,
              meal_title(a.meal).capitalize(), ACTIONS.get(a.action, a.action), a.reason,
              "после отправки" if a.after_sent else ""] for a in o.amendments))
    return "\ufeff" + text


def header_lines(o: KitchenOrder) -> list[str]:
    """The lines above the table, shared by the printed page and the XLSX."""
    lines = [o.school_name, f"на {ru_date(o.day)} ({o.weekday})",
             f"Срок подачи заявок классов: {o.deadline:%d.%m.%Y %H:%M}"
             + ("" if o.locked else " — заявки ещё принимаются, цифры могут измениться")]
    if o.why_not:
        lines.append(f"Внимание: {o.why_not}.")
    if o.sending:
        lines.append(f"Отправлено на пищеблок: {o.sending.sent_at:%d.%m.%Y %H:%M}, {o.sending.sent_by}")
    return lines


MONEY_FORMAT = '#,##0.00\\ "₽"'  # shown «1 234,56 ₽» by a Russian Excel


def to_xlsx(o: KitchenOrder) -> bytes:
    """The order as one printable A4 sheet: the header, the counts at the deadline (the header rows of
    the table repeat on every page), the amendments, the counts of now when they differ, the signature."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    def text(value: str) -> str:
        return str(excel_safe(ILLEGAL_CHARACTERS_RE.sub("", value)))

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Заявка"
    width = 1 + 2 * len(o.budget_lines) + 2 + 2 + (1 if _has_copay(o) else 0)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)

    def put(row: int, values: list[Any], *, strong: bool = False, money: Iterable[int] = (), border: bool = True
            ) -> None:
        for col, value in enumerate(values, 1):
            cell = sheet.cell(row, col, text(value) if isinstance(value, str) else value)
            if strong:
                cell.font = bold
            if border:
                cell.border = box
            if col in money:
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, int):
                cell.number_format = "0"

    row = 1
    sheet.cell(row, 1, "Заявка на питание обучающихся (пищеблок)").font = Font(bold=True, size=13)
    for line in header_lines(o):
        row += 1
        sheet.cell(row, 1, text(line))
    row += 2
    head_top = row

    def table_head(at: int) -> int:
        top = ["Класс"]
        sub = [""]
        for code, _title in o.budget_lines:
            top += [f"Бесплатно, {code}", ""]
            sub += ["кол-во", "сумма"]
        top += ["Платно", ""]
        sub += ["кол-во", "сумма"]
        if _has_copay(o):
            top += ["Доплата сверх лимита"]
            sub += ["сумма"]
        top += ["Всего", ""]
        sub += ["кол-во", "сумма"]
        put(at, top, strong=True)
        put(at + 1, sub, strong=True)
        for col in range(2, len(top)):  # a title over its two columns (кол-во, сумма)
            if top[col - 1] and not top[col]:
                sheet.merge_cells(start_row=at, start_column=col, end_row=at, end_column=col + 1)
        sheet.merge_cells(start_row=at, start_column=1, end_row=at + 1, end_column=1)
        for col in range(1, len(top) + 1):
            sheet.cell(at, col).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        return at + 2

    money_cols = _money_columns(o)

    def counts(at: int, c: Counts) -> int:
        for m in c.meals:
            for b in m.breaks:
                put(at, [f"{m.title}: {b.title}", *[""] * (width - 1)], strong=True)
                sheet.merge_cells(start_row=at, start_column=1, end_row=at, end_column=width)
                at += 1
                for r in b.classes:
                    put(at, [r.name, *_xlsx_sums(o, r.sums)], money=money_cols)
                    at += 1
                put(at, ["Итого по перемене", *_xlsx_sums(o, b.sums)], money=money_cols, strong=True)
                at += 1
            put(at, [f"Итого: {m.title}", *_xlsx_sums(o, m.sums)], money=money_cols, strong=True)
            at += 1
        put(at, ["Итого за день", *_xlsx_sums(o, c.sums)], money=money_cols, strong=True)
        return at + 1

    row = counts(table_head(head_top), o.at_deadline)
    sheet.print_title_rows = f"{head_top}:{head_top + 1}"
    row += 1
    for code, title in o.budget_lines:
        sheet.cell(row, 1, text(f"{code} — {title}")).font = Font(italic=True, size=9)
        row += 1
    if o.amendments:
        row += 1
        sheet.cell(row, 1, "Изменения после срока подачи заявок").font = bold
        row += 1
        put(row, ["Когда", "Кто", "Класс", "Ученик", "Приём пищи", "Изменение", "Причина", "Отметка"], strong=True)
        row += 1
        for a in o.amendments:
            put(row, [a.at.replace(tzinfo=None), a.actor, a.class_name, a.student_name, meal_title(a.meal).capitalize(),
                      ACTIONS.get(a.action, a.action), a.reason, "после отправки" if a.after_sent else ""])
            sheet.cell(row, 1).number_format = "DD.MM.YYYY HH:MM"
            row += 1
    if o.changed:
        row += 1
        sheet.cell(row, 1, "Сейчас, с изменениями после срока").font = bold
        row = counts(table_head(row + 1), o.current)
    row += 2
    sheet.cell(row, 1, "Ответственный за питание ____________________ / ____________________ /")
    row += 2
    sheet.cell(row, 1, "Получено на пищеблоке ____________________ / ____________________ /")
    sheet.column_dimensions["A"].width = 22
    for col in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 9 if (col - 1) % 2 else 12
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if width > 9 else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    assert sheet.sheet_properties.pageSetUpPr is not None
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.oddFooter.center.text = "Страница &P из &N"
    sheet.oddHeader.right.text = text(f"{o.school_name}, заявка на {ru_date(o.day)}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _has_copay(o: KitchenOrder) -> bool:
    return bool(o.at_deadline.sums.copay_kopecks or o.current.sums.copay_kopecks)


def _money_columns(o: KitchenOrder) -> set[int]:
    cols = {2 + 2 * k + 1 for k in range(len(o.budget_lines) + 1)}  # each line's and the paid sum
    last = 2 + 2 * (len(o.budget_lines) + 1)
    if _has_copay(o):
        cols.add(last)
        last += 1
    return cols | {last + 1}


def _xlsx_sums(o: KitchenOrder, s: Sums) -> list[Any]:
    cells: list[Any] = []
    for code, _title in o.budget_lines:
        t = s.line(code)
        cells += [t.count, t.kopecks / 100]
    cells += [s.paid.count, s.paid.kopecks / 100]
    if _has_copay(o):
        cells.append(s.copay_kopecks / 100)
    return [*cells, s.total.count, s.total.kopecks / 100]
