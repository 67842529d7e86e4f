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

Each extra meal of a day is counted once: a staff override (of an "already served" refusal, say)
is an `override`, not also `served_twice`, which is left for duplicates nobody decided on.

Limitation: the server keeps no history of a student's class or of the school's policy, so a past
day is judged with the class and policy of today (benefits are dated and are judged as of the day;
served amounts are the events' own). A report over a class change (1 September) or a policy change
can misjudge `without_entitlement` and the price of `ordered_not_served` for the days before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from pos.domain import Meal, age_on, in_force
from pos.ledger import SERVED_KINDS, EventKind, Flag, split_flags
from pos.money import format_rub
from pos.policy import EligibilityError, Policy, parse_policy
from server.models import Entitlement, Event, MenuPrice, Order, School, SchoolClass, Student
from server.tabular import csv_text

KINDS = {
    "ordered_not_served": "заказано, но не выдано",
    "served_not_ordered": "выдано без заказа",
    "served_twice": "выдано повторно",
    "override": "выдано по решению сотрудника",
    "without_entitlement": "бесплатно без права на льготу",
    "unknown_student": "выдано неизвестному ученику",
    "clone": "терминал-двойник: один токен на двух устройствах",
}


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


@dataclass
class _Books:
    policy: Policy
    students: dict[str, Any]
    classes: dict[str, Any]
    benefits: dict[str, list[Any]]
    prices: dict[tuple[date, str], int]

    def free(self, student_id: str, day: date, meal: str) -> int | None:
        """The policy price if the meal is free for the student that day, else None."""
        student = self.students.get(student_id)
        cls = self.classes.get(student.class_id) if student else None
        if student is None or cls is None:
            return None
        categories = {b.category for b in self.benefits.get(student_id, []) if in_force(b.starts, b.ends, day)}
        age = age_on(student.birth_date, day) if student.birth_date else None
        try:
            for grant in self.policy.free_meals(grade=cls.grade, shift=cls.shift, categories=categories, age=age):
                if grant.meal.value == meal:
                    return grant.price_kopecks
        except EligibilityError:
            return None
        return None

    def price(self, student_id: str, day: date, meal: str) -> int:
        free = self.free(student_id, day, meal)
        if free is not None:
            return free
        if (day, meal) in self.prices:
            return self.prices[(day, meal)]
        student = self.students.get(student_id)
        cls = self.classes.get(student.class_id) if student else None
        if student is None or cls is None:
            return 0
        try:
            age = age_on(student.birth_date, day) if student.birth_date else None
            return self.policy.price(cls.grade, age, Meal(meal))
        except (EligibilityError, ValueError):
            return 0


def report(conn: Connection, school_id: str, start: date, end: date) -> dict[str, Any]:
    school = conn.execute(select(School).where(School.id == school_id)).one()
    books = _Books(
        policy=parse_policy(school.policy_text, f"policy:{school_id}"),
        students={s.id: s for s in conn.execute(select(Student.id, Student.full_name, Student.class_id,
                                                       Student.birth_date).where(Student.school_id == school_id))},
        classes={c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade,
                                                      SchoolClass.shift).where(SchoolClass.school_id == school_id))},
        benefits=defaultdict(list),
        prices={(p.day, p.meal): p.price_kopecks for p in conn.execute(
            select(MenuPrice.day, MenuPrice.meal, MenuPrice.price_kopecks).where(
                MenuPrice.school_id == school_id, MenuPrice.day >= start, MenuPrice.day <= end))},
    )
    for b in conn.execute(select(Entitlement.student_id, Entitlement.category, Entitlement.starts, Entitlement.ends)
                          .where(Entitlement.school_id == school_id)):
        books.benefits[b.student_id].append(b)
    events = conn.execute(
        select(Event.id, Event.kind, Event.student_id, Event.local_date, Event.meal, Event.at_utc, Event.paid_kopecks,
               Event.free_kopecks, Event.ref_event_id, Event.terminal_id, Event.server_flags)
        .where(Event.school_id == school_id, Event.local_date >= start, Event.local_date <= end,
               Event.kind.in_(SERVED_KINDS))).all()
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
    items: list[Item] = []
    for key in sorted(ordered | set(served)):
        items.extend(_judge(books, key, key in ordered, sorted(served.get(key, []), key=lambda e: (e.at_utc, e.id))))
    items.extend(_clones(events))
    return _summary(school_id, start, end, items)


def _clones(events: Sequence[Any]) -> list[Item]:
    """One item per day and terminal whose token served from two devices, with those devices' events."""
    found: dict[tuple[date, str], list[Any]] = defaultdict(list)
    for e in events:
        if Flag.CLONE in split_flags(e.server_flags):
            found[(e.local_date, e.terminal_id)].append(e)
    return [Item(day.isoformat(), "", "", "", f"терминал {terminal_id}", "", "clone", len(group),
                 sum(int(e.free_kopecks + e.paid_kopecks) for e in group),
                 [e.id for e in sorted(group, key=lambda e: (e.at_utc, e.id))])
            for (day, terminal_id), group in sorted(found.items())]


def _amount(books: _Books, e: Any) -> int:
    amount = int(e.free_kopecks + e.paid_kopecks)
    return amount or books.price(e.student_id, e.local_date, e.meal)  # an override records no money


def _judge(books: _Books, key: tuple[str, date, str], ordered: bool, serves: list[Any]) -> list[Item]:
    student_id, day, meal = key
    student = books.students.get(student_id)
    cls = books.classes.get(student.class_id) if student else None

    def item(kind: str, count: int, kopecks: int, events: list[Any]) -> Item:
        return Item(day.isoformat(), cls.id if cls else "", cls.name if cls else "", student_id,
                    student.full_name if student else "", meal, kind, count, kopecks, [e.id for e in events])

    if student is None:
        return [item("unknown_student", len(serves), sum(int(e.free_kopecks + e.paid_kopecks) for e in serves),
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
