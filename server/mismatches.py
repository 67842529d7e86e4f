"""Served vs ordered: for each day, class and student, what was ordered and not served, served and
not ordered, served twice, served by staff override, or served free without an entitlement on the
server's books — with the counts per class and the money at stake.

Served means serve/override events that no reversal cancelled, whenever the reversal happened
(one arriving days later still cancels the serve in a report of the serve's day). "Without
entitlement" is the server's own check: the region's policy, applied to the student's class and the
benefits valid on that day, does not give this meal free, yet the terminal did (it served on stale
data, or the benefit was withdrawn). Money at stake is the meals times their price: the event's own
amount where it has one, else the policy price (free meals) or the day's menu price.

A reversal the server refused is not stored, so it cancels nothing. Events the server flagged
`clone` (one terminal token on two devices) are listed per day and terminal as a `clone` item.

The flags recorded on events become items too, so the review queue (`server.office.reviews`) has
one source: per day, student and meal a meal served or refused on a card the server does not know
(`unknown_card`: a card to register; per terminal when the event has no student), a meal whose
copay over the benefit's daily cap went unpaid (`copay_unpaid`, money at stake: the unpaid part), a
reversal made at another window (`foreign_reversal`, the refund); per day and terminal the events
after its clock went back (`clock_back`) and the meals served on stale data (`stale_data`). A meal
a reversal cancelled puts nothing at stake and leaves no flag item.

Each extra meal of a day is counted once: a staff override (of an "already served" refusal, say)
is an `override`, not also `served_twice`, which is left for duplicates nobody decided on.

A past day is judged by the history (`server.history`): the policy of the day's school year and the
student's class on that day (benefits are dated and judged as of the day; served amounts are the events'
own). A day of a school year without a policy is not judged by any policy: no `without_entitlement`, no
policy price; the report says so in `not_judged` (Russian lines), and the other items still stand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import aliased

from pos.domain import ALL_AGES, Meal, age_group, age_on, menu_price, ru_date
from pos.ledger import SERVED_KINDS, EventKind, Flag, split_flags
from pos.money import format_rub
from pos.policy import EligibilityError
from server.free_meals import FreeMeals
from server.history import ClassBook, NoPolicy, Policies, class_book, policies, school_year_label, school_year_of
from server.models import Entitlement, Event, MenuPrice, Order, School, SchoolClass, Student
from server.tabular import csv_text

KINDS: dict[str, str] = {
    "ordered_not_served": "заказано, но не выдано",
    "served_not_ordered": "выдано без заказа",
    "served_twice": "выдано повторно",
    "override": "выдано по решению сотрудника",
    "without_entitlement": "бесплатно без права на льготу",
    Flag.UNKNOWN_STUDENT: "выдано неизвестному ученику",
    Flag.UNKNOWN_CARD: "карта, неизвестная серверу",
    Flag.COPAY_UNPAID: "доплата сверх лимита льготы не списана",
    Flag.FOREIGN_REVERSAL: "выдача отменена в другом окне",
    Flag.CLONE: "терминал-двойник: один токен на двух устройствах",
    Flag.CLOCK_BACK: "часы терминала переведены назад",
    Flag.STALE_DATA: "выдано по устаревшим данным терминала",
}
# Kinds whose subject is a terminal (per day), not a student (per day and meal).
TERMINAL_KINDS = frozenset({Flag.CLONE, Flag.CLOCK_BACK, Flag.STALE_DATA})


@dataclass
class Item:
    day: str
    class_id: str
    class_name: str
    student_id: str
    student_name: str
    meal: str
    kind: str
    count: int
    kopecks: int
    event_ids: list[str] = field(default_factory=list)
    terminal_id: str = ""  # the subject of a terminal's item (TERMINAL_KINDS)

    @property
    def subject(self) -> str:
        """Whom the item is about: the student, else the terminal."""
        return self.student_id or self.terminal_id


@dataclass
class _Books:
    policies: Policies  # the school's policy of each school year
    book: ClassBook  # the students' classes over time
    students: dict[str, Any]
    classes: dict[str, Any]
    benefits: dict[str, list[Any]]
    prices: dict[date, dict[tuple[str, str], int]]  # day -> (meal, age group) -> price

    # per school year: the policy's answer per kind of student, asked once per kind (None: no policy)
    _grants: dict[str, FreeMeals | None] = field(default_factory=dict)

    def grants(self, day: date) -> FreeMeals | None:
        year = school_year_of(day)
        if year not in self._grants:
            try:
                self._grants[year] = FreeMeals(self.policies.for_day(day))
            except NoPolicy:
                self._grants[year] = None
        return self._grants[year]

    def class_of(self, student_id: str, day: date) -> Any:
        """The student's class on `day` from the history (today's for a student the history lacks)."""
        student = self.students.get(student_id)
        if student is None:
            return None
        class_id = self.book.class_on(student_id, day) if student_id in self.book.spans else student.class_id
        return self.classes.get(class_id) if class_id else None

    def free(self, student_id: str, day: date, meal: str) -> int | None:
        """The policy price if the meal is free for the student that day, else None (also for a day of a
        school year without a policy: it is not judged)."""
        student = self.students.get(student_id)
        cls = self.class_of(student_id, day)
        grants = self.grants(day)
        if student is None or cls is None or grants is None:
            return None
        free = grants.on(day, grade=cls.grade, shift=cls.shift, birth_date=student.birth_date,
                         benefits=self.benefits.get(student_id, []))
        return None if free is None or meal not in free else free[meal].price_kopecks

    def price(self, student_id: str, day: date, meal: str) -> int:
        free = self.free(student_id, day, meal)
        if free is not None:
            return free
        student = self.students.get(student_id)
        cls = self.class_of(student_id, day)
        group = age_group(student.birth_date, cls.grade, day) if student and cls else ALL_AGES
        found = menu_price(self.prices.get(day, {}), meal, group)  # as the terminal prices it
        if found is not None:
            return found
        grants = self.grants(day)
        if student is None or cls is None or grants is None:
            return 0
        try:
            age = age_on(student.birth_date, day) if student.birth_date else None
            return grants.policy.price(cls.grade, age, Meal(meal))
        except (EligibilityError, ValueError):
            return 0


def report(conn: Connection, school_id: str, start: date, end: date) -> dict[str, Any]:
    found = items(conn, school_id, start, end)
    return {**_summary(school_id, start, end, found), "not_judged": not_judged(policies(conn, school_id), start, end)}


def not_judged(known: Policies, start: date, end: date) -> list[str]:
    """A Russian line per school year of the period that has no policy: its days are not judged."""
    out = []
    first = start
    while first <= end:
        year = school_year_of(first)
        last = min(end, date(int(year[5:]), 8, 31))
        if year not in known.texts:
            have = ", ".join(school_year_label(y) for y in sorted(known.texts)) or "ни одной"
            out.append(f"{ru_date(first)}–{ru_date(last)}: нет политики питания на {school_year_label(year)} "
                       f"учебный год (в школе есть: {have}); дни не оцениваются — право на бесплатное питание "
                       "не проверено, цены политики не применены")
        first = last + timedelta(days=1)
    return out


def items(conn: Connection, school_id: str, start: date, end: date) -> list[Item]:
    """Every item of the period, in order of day and student (raises NoResultFound for no such school)."""
    conn.execute(select(School.id).where(School.id == school_id)).one()  # NoResultFound for no such school
    books = _Books(
        policies=policies(conn, school_id),
        book=class_book(conn, school_id),
        students={s.id: s for s in conn.execute(select(Student.id, Student.full_name, Student.class_id,
                                                       Student.birth_date).where(Student.school_id == school_id))},
        classes={c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade,
                                                      SchoolClass.shift).where(SchoolClass.school_id == school_id))},
        benefits=defaultdict(list),
        prices=defaultdict(dict),
    )
    for p in conn.execute(select(MenuPrice.day, MenuPrice.meal, MenuPrice.age_group, MenuPrice.price_kopecks).where(
            MenuPrice.school_id == school_id, MenuPrice.day >= start, MenuPrice.day <= end)):
        books.prices[p.day][p.meal, p.age_group] = p.price_kopecks
    for b in conn.execute(select(Entitlement.student_id, Entitlement.category, Entitlement.starts, Entitlement.ends)
                          .where(Entitlement.school_id == school_id)):
        books.benefits[b.student_id].append(b)
    # The served meals, and whatever else carries a flag (a refusal after the clock went back, a reversal).
    found = conn.execute(
        select(Event.id, Event.kind, Event.student_id, Event.local_date, Event.meal, Event.at_utc, Event.paid_kopecks,
               Event.free_kopecks, Event.ref_event_id, Event.terminal_id, Event.server_flags, Event.flags)
        .where(Event.school_id == school_id, Event.local_date >= start, Event.local_date <= end,
               or_(Event.kind.in_(SERVED_KINDS), Event.server_flags != "", Event.flags != ""))).all()
    events = [e for e in found if e.kind in SERVED_KINDS]
    # A reversal cancels its serve whatever day it was made or arrived on, so look them up by the
    # serves' ids, not by the period (a late reversal would leave the serve counted otherwise).
    serve = aliased(Event)  # an alias, or the subquery would be correlated with the outer events
    serve_ids = select(serve.id).where(serve.school_id == school_id, serve.local_date >= start,
                                       serve.local_date <= end, serve.kind.in_(SERVED_KINDS))
    reversed_ids = set(conn.execute(
        select(Event.ref_event_id).where(Event.school_id == school_id, Event.kind == EventKind.REVERSAL,
                                         Event.ref_event_id.in_(serve_ids))).scalars())
    served: dict[tuple[str, date, str], list[Any]] = defaultdict(list)
    for e in events:
        if e.id not in reversed_ids and e.student_id and e.meal:
            served[(e.student_id, e.local_date, e.meal)].append(e)
    ordered = {(o.student_id, o.day, o.meal) for o in conn.execute(
        select(Order.student_id, Order.day, Order.meal).where(
            Order.school_id == school_id, Order.day >= start, Order.day <= end))}
    out: list[Item] = []
    for key in sorted(ordered | set(served)):
        out.extend(_judge(books, key, key in ordered, sorted(served.get(key, []), key=lambda e: (e.at_utc, e.id))))
    out.extend(_flagged(books, found, reversed_ids))
    out.extend(_clones(events))
    return out


def _flagged(books: _Books, events: Sequence[Any], reversed_ids: set[str | None]) -> list[Item]:
    """The items of the flags recorded on events; a meal a reversal cancelled puts no money at stake,
    so only its terminal's clock going back is still an item."""
    groups: dict[tuple[date, str, str, str, str], list[Any]] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e.at_utc, e.id)):
        flags = split_flags(e.server_flags) | split_flags(e.flags)
        if not flags:
            continue
        served = e.kind in SERVED_KINDS and e.id not in reversed_ids
        # A student's item; an event without a student is the terminal's.
        mine = (e.student_id or "", e.meal or "", "" if e.student_id else e.terminal_id)
        if Flag.COPAY_UNPAID in flags and served:
            groups[(e.local_date, mine[0], mine[1], Flag.COPAY_UNPAID, mine[2])].append(e)
        if Flag.UNKNOWN_CARD in flags and (served or e.kind == EventKind.REFUSE):  # a card to register
            groups[(e.local_date, mine[0], mine[1], Flag.UNKNOWN_CARD, mine[2])].append(e)
        if e.kind == EventKind.REVERSAL and Flag.FOREIGN_REVERSAL in flags:
            groups[(e.local_date, mine[0], mine[1], Flag.FOREIGN_REVERSAL, mine[2])].append(e)
        if Flag.CLOCK_BACK in flags:
            groups[(e.local_date, "", "", Flag.CLOCK_BACK, e.terminal_id)].append(e)
        if served and Flag.STALE_DATA in flags:
            groups[(e.local_date, "", "", Flag.STALE_DATA, e.terminal_id)].append(e)
    out = []
    for (day, student_id, meal, kind, terminal_id), group in sorted(groups.items()):
        if kind == Flag.COPAY_UNPAID:  # the part of the price the account should have paid
            price = books.free(student_id, day, meal)
            kopecks = sum(max(0, price - e.free_kopecks - e.paid_kopecks) for e in group) if price else 0
        elif kind == Flag.CLOCK_BACK:  # the meals still served; a refusal or a reversed meal costs nothing
            kopecks = sum(int(e.free_kopecks + e.paid_kopecks) for e in group
                          if e.kind in SERVED_KINDS and e.id not in reversed_ids)
        else:
            kopecks = sum(abs(int(e.free_kopecks + e.paid_kopecks)) for e in group)
        if student_id:
            student = books.students.get(student_id)
            cls = books.class_of(student_id, day)
            out.append(Item(day.isoformat(), cls.id if cls else "", cls.name if cls else "", student_id,
                            student.full_name if student else "", meal, kind, len(group), kopecks,
                            [e.id for e in group]))
        else:
            out.append(Item(day.isoformat(), "", "", "", f"терминал {terminal_id}", meal, kind, len(group), kopecks,
                            [e.id for e in group], terminal_id))
    return out


def _clones(events: Sequence[Any]) -> list[Item]:
    """One item per day and terminal whose token served from two devices, with those devices' events."""
    found: dict[tuple[date, str], list[Any]] = defaultdict(list)
    for e in events:
        if Flag.CLONE in split_flags(e.server_flags):
            found[(e.local_date, e.terminal_id)].append(e)
    return [Item(day.isoformat(), "", "", "", f"терминал {terminal_id}", "", Flag.CLONE, len(group),
                 sum(int(e.free_kopecks + e.paid_kopecks) for e in group),
                 [e.id for e in sorted(group, key=lambda e: (e.at_utc, e.id))], terminal_id)
            for (day, terminal_id), group in sorted(found.items())]


def _amount(books: _Books, e: Any) -> int:
    amount = int(e.free_kopecks + e.paid_kopecks)
    return amount or books.price(e.student_id, e.local_date, e.meal)  # an override records no money


def _judge(books: _Books, key: tuple[str, date, str], ordered: bool, serves: list[Any]) -> list[Item]:
    student_id, day, meal = key
    student = books.students.get(student_id)
    cls = books.class_of(student_id, day)

    def item(kind: str, count: int, kopecks: int, events: list[Any]) -> Item:
        return Item(day.isoformat(), cls.id if cls else "", cls.name if cls else "", student_id,
                    student.full_name if student else "", meal, kind, count, kopecks, [e.id for e in events])

    if student is None:
        return [item(Flag.UNKNOWN_STUDENT, len(serves), sum(int(e.free_kopecks + e.paid_kopecks) for e in serves),
                     serves)]
    out = []
    if ordered and not serves:
        out.append(item("ordered_not_served", 1, books.price(student_id, day, meal), []))
    if serves and not ordered:
        out.append(item("served_not_ordered", 1, _amount(books, serves[0]), serves[:1]))
    # The first meal is the student's; every other one is either a staff override (counted below,
    # with its reason on the terminal) or a duplicate nobody decided on — never both, or the money
    # at stake would be counted twice.
    extra = [e for e in serves[1:] if e.kind != EventKind.OVERRIDE]
    if extra:
        out.append(item("served_twice", len(extra), sum(_amount(books, e) for e in extra), extra))
    overrides = [e for e in serves if e.kind == EventKind.OVERRIDE]
    if overrides:
        out.append(item("override", len(overrides), sum(_amount(books, e) for e in overrides), overrides))
    unentitled = [e for e in serves if e.kind == EventKind.SERVE and e.free_kopecks > 0
                  and books.free(student_id, day, meal) is None]
    if unentitled:
        out.append(item("without_entitlement", len(unentitled), sum(e.free_kopecks for e in unentitled), unentitled))
    return out


def _summary(school_id: str, start: date, end: date, items: list[Item]) -> dict[str, Any]:
    classes: dict[tuple[str, str], dict[str, Any]] = {}
    totals: dict[str, Any] = {k: {"count": 0, "kopecks": 0} for k in KINDS}
    for it in items:
        row = classes.setdefault((it.day, it.class_id), {
            "day": it.day, "class_id": it.class_id, "class_name": it.class_name,
            "counts": {k: 0 for k in KINDS}, "kopecks": {k: 0 for k in KINDS}})
        row["counts"][it.kind] += it.count
        row["kopecks"][it.kind] += it.kopecks
        totals[it.kind]["count"] += it.count
        totals[it.kind]["kopecks"] += it.kopecks
    return {"school_id": school_id, "from": start.isoformat(), "to": end.isoformat(), "kinds": KINDS,
            "items": [asdict(i) for i in items], "classes": list(classes.values()), "totals": totals}


def to_csv(data: dict[str, Any]) -> str:
    """The report's rows as CSV for Excel (semicolon, Russian headers, formula-like text escaped)."""
    def meal(value: str) -> str:
        return Meal(value).ru if value in Meal._value2member_map_ else value

    return csv_text(["Дата", "Класс", "Код ученика", "ФИО", "Приём пищи", "Расхождение", "Количество",
                     "Сумма, коп.", "Сумма", "События"],
                    ([it["day"], it["class_name"], it["student_id"], it["student_name"], meal(it["meal"]),
                      KINDS[it["kind"]], it["count"], it["kopecks"], format_rub(it["kopecks"]),
                      " ".join(it["event_ids"])] for it in data["items"]))
