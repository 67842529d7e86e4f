"""The class teacher's order (заявка): a class's meals for a school day, by the deadline.

The sheet of a class for a day has a row per active student: the benefit categories in force that day,
what the policy gives free (`Policy.free_meals`), the price of each paid meal, the balance, the
parents' daily limit, the diet note and the «не придёт» mark. A class not yet submitted starts from
the defaults: free meals ticked from the entitlements in force, paid meals from the standing weekly
choice (`StandingOrder`); «как в прошлый раз» copies the class's last submitted day.

Submitting writes the `Order` rows terminals pull (a rev; removed rows leave tombstones), `Absence`
rows (an absent student has no orders), the `ClassOrder` (who answered for the day) and one
`OrderChange` per difference. Before the deadline (`server.calendar.deadline_of`: the school's time on
the school day before) the class teacher edits; after it the order is locked for the teacher, and
the coordinator (or an administrator) amends it with a reason: such changes are marked late, and
after_sent when the kitchen's order for the day had already gone (`KitchenSending`).

Past days and days that are not school days for the class (`pos.calendar.Calendar.why_not`) are
refused here, by the API and by the file import (`day_refusal`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from pos.calendar import NOT_SUBMITTED_LEAD, Calendar, parse_deadline
from pos.domain import Meal, age_group, ru_date
from pos.ledger import MONEY_KINDS, cancelled, counts_as_served
from pos.money import format_rub
from pos.policy import EligibilityError, Policy, parse_policy
from server.calendar import load_calendar, school_clock
from server.models import (
    Absence,
    ClassOrder,
    Dish,
    Entitlement,
    Event,
    KitchenSending,
    MealSlot,
    Order,
    OrderChange,
    School,
    SchoolClass,
    StandingOrder,
    Student,
    Tombstone,
)
from server.office import menu
from server.office.audit import record_change
from server.office.changes import NotFound, OfficeError, change

DAYS_AHEAD = 5  # school days a teacher may order ahead
REASON_MAX = 500
ACTIONS_RU = {"add": "заказано", "remove": "снято", "absent": "не придёт", "present": "придёт"}
MEALS = tuple(m.value for m in Meal)


class Locked(OfficeError):
    """The deadline has passed: only the coordinator may amend the order, with a reason."""


@dataclass(frozen=True)
class Choice:
    """What a form or a JSON body says of one student for the day."""

    meals: frozenset[str]
    absent: bool = False


@dataclass
class Row:
    student_id: str
    full_name: str
    categories: list[str]
    category_titles: list[str]
    free: dict[str, int]  # meal -> the policy's price of it, covered by the budget
    free_total_kopecks: int  # what the policy pays that day (its daily cap applied)
    prices: dict[str, int]  # meal -> the menu price a paid meal costs
    balance_kopecks: int
    daily_limit_kopecks: int | None
    diet_note: str
    absent: bool
    meals: list[str]  # ticked
    standing: list[str]  # the standing weekly paid choice of the day's week day
    problem: str = ""  # why the policy cannot price the student (no birth date where it needs the age)
    warnings: list[str] = field(default_factory=list)

    @property
    def paid_kopecks(self) -> int:
        return sum(self.prices.get(m, 0) for m in self.meals if m not in self.free)


@dataclass
class Sheet:
    school_id: str
    class_id: str
    class_name: str
    day: date
    meals: list[str]  # the columns
    rows: list[Row]
    source: str  # submitted | saved (orders without a submission, e.g. imported) | defaults | last
    submitted_by: str | None
    submitted_at: datetime | None  # naive UTC
    deadline: datetime  # aware, school time
    locked: bool  # the deadline has passed: the teacher may no longer change it
    sent: bool  # the kitchen's order for the day has gone
    last_day: date | None  # the class's last submitted day before this one («как в прошлый раз»)
    timezone: str

    @property
    def totals(self) -> dict[str, int]:
        present = [r for r in self.rows if not r.absent]
        return {"free": sum(1 for r in present for m in r.meals if m in r.free),
                "paid": sum(1 for r in present for m in r.meals if m not in r.free),
                "paid_kopecks": sum(r.paid_kopecks for r in present),
                "absent": sum(1 for r in self.rows if r.absent)}


# -- the rules of a day ------------------------------------------------------------------------------------


def day_refusal(calendar: Calendar, day: date, today: date, class_id: str | None = None) -> str | None:
    """Why no order may be made for `day` (Russian), None when it may: a past day, or not a school day."""
    if day < today:
        return f"{ru_date(day)} — прошедший день: заявка на него не принимается"
    return calendar.why_not(day, class_id)


def lock_message(day: date, deadline: datetime) -> str:
    return (f"Приём заявок на {ru_date(day)} закрыт в {deadline:%H:%M} {ru_date(deadline.date())} (время школы)")


def school_day_of(tz: ZoneInfo, now: datetime) -> date:
    return now.astimezone(tz).date()


def order_days(calendar: Calendar, today: date, class_id: str, count: int = DAYS_AHEAD) -> list[date]:
    """The days a class's order page offers: today (if a school day) and the next `count` school days."""
    days = [today] if calendar.is_school_day(today, class_id) else []
    day = today
    for _ in range(count):
        found = calendar.next_school_day(day, class_id)
        if found is None:
            break
        days.append(found)
        day = found
    return days


def class_context(conn: Connection, school_id: str, class_id: str, day: date
                  ) -> tuple[Any, Calendar, ZoneInfo, datetime]:
    """The class (NotFound if none), the school's calendar around `day`, its time zone and the day's deadline."""
    cls = conn.execute(select(SchoolClass).where(SchoolClass.school_id == school_id,
                                                 SchoolClass.id == class_id)).first()
    if cls is None:
        raise NotFound(f"класса {class_id} нет в школе")
    calendar = load_calendar(conn, school_id, day - timedelta(days=1), day + timedelta(days=31))
    tz, deadline_text = school_clock(conn, school_id)
    return cls, calendar, tz, calendar.deadline(day, parse_deadline(deadline_text), tz)


def next_order_day(conn: Connection, school_id: str, class_id: str, now: datetime) -> date:
    """The class's next school day after the school's today."""
    tz, _deadline = school_clock(conn, school_id)
    today = school_day_of(tz, now)
    _cls, calendar, _tz, _d = class_context(conn, school_id, class_id, today)
    day = calendar.next_school_day(today, class_id)
    if day is None:
        raise OfficeError("в ближайший год у класса нет учебных дней")
    return day


def check_day(conn: Connection, school_id: str, class_id: str, day: date, now: datetime) -> None:
    """OfficeError (Russian) when no order may be made for the class on `day`."""
    _cls, calendar, tz, _deadline = class_context(conn, school_id, class_id, day)
    refusal = day_refusal(calendar, day, school_day_of(tz, now), class_id)
    if refusal:
        raise OfficeError(refusal)


# -- prices, dishes and warnings -----------------------------------------------------------------------------


def paid_prices(conn: Connection, school_id: str, day: date, students: Iterable[tuple[str, int, date | None]]
                ) -> dict[str, dict[str, int]]:
    """The menu price of each paid meal on `day`, per student (id, grade, birth date), by the student's age
    group (`server.office.menu.paid_prices`, the kitchen's order prices by the same)."""
    price = menu.paid_prices(conn, school_id, day)
    out: dict[str, dict[str, int]] = {}
    for student_id, grade, born in students:
        group = age_group(born, grade, day)
        out[student_id] = {m: p for m in MEALS if (p := price(m, group)) is not None}
    return out


def load_dishes(conn: Connection, school_id: str, day: date) -> dict[str, list[tuple[str, str]]]:
    """The day's dishes per meal as (name, allergens text), for the diet warnings (both age groups: the
    dishes are the same, the portions differ)."""
    dishes: dict[str, list[tuple[str, str]]] = {}
    for meal, name, allergens in conn.execute(
            select(Dish.meal, Dish.name, Dish.allergens).where(Dish.school_id == school_id, Dish.day == day)
            .order_by(Dish.meal, Dish.age_group, Dish.position)).tuples():
        if (name, allergens) not in dishes.setdefault(meal, []):
            dishes[meal].append((name, allergens))
    return dishes


_WORD = re.compile(r"[a-zа-я]+")


def _stem(word: str) -> str:
    return word[:4] if len(word) >= 5 else word[:max(3, len(word) - 1)]


def diet_clashes(diet_note: str, meals: Iterable[str], dishes: Mapping[str, list[tuple[str, str]]]) -> list[str]:
    """Warnings where a dish of an ordered meal names (in its allergens or its name) what the diet note
    names: «аллергия на молоко» and a dish with «молоко» among its allergens."""
    note_words = _WORD.findall(diet_note.casefold().replace("ё", "е"))
    if not note_words:
        return []
    found = []
    for meal in meals:
        for name, allergens in dishes.get(meal, []):
            words = _WORD.findall(f"{allergens} {name}".casefold().replace("ё", "е"))
            hits = sorted({w for w in words if len(w) >= 3 and any(n.startswith(_stem(w)) for n in note_words)})
            if hits:
                title = Meal(meal).ru if meal in MEALS else meal
                found.append(f"Особенности питания «{diet_note.strip()[:80]}»: в блюде «{name}» ({title}) — "
                             f"{', '.join(hits)}")
    return found


def warnings_for(row: Row, other_paid_kopecks: int, dishes: Mapping[str, list[tuple[str, str]]]) -> list[str]:
    """What the teacher should see before submitting a row: money and diet."""
    if row.absent:
        return []
    found = []
    paid = row.paid_kopecks
    unpriced = [m for m in row.meals if m not in row.free and m not in row.prices]
    for meal in unpriced:
        found.append(f"Нет цены на {Meal(meal).ru if meal in MEALS else meal}: платная заявка без цены в меню")
    if paid and other_paid_kopecks + paid > row.balance_kopecks:
        other = f" (и на другие дни {format_rub(other_paid_kopecks)})" if other_paid_kopecks else ""
        found.append(f"Не хватает денег на счёте: на счёте {format_rub(row.balance_kopecks)}, "
                     f"платно {format_rub(paid)}{other}")
    if paid and row.daily_limit_kopecks is not None and paid > row.daily_limit_kopecks:
        limit = format_rub(row.daily_limit_kopecks)
        found.append(f"Сверх дневного лимита родителей {limit}: платно {format_rub(paid)}")
    found += diet_clashes(row.diet_note, row.meals, dishes)
    return found


# -- the sheet -----------------------------------------------------------------------------------------------


def _policy(conn: Connection, school_id: str) -> Policy:
    text = conn.execute(select(School.policy_text).where(School.id == school_id)).scalar()
    if text is None:
        raise NotFound(f"школа {school_id} не найдена")
    return parse_policy(text, f"policy:{school_id}")


def _entitlements(conn: Connection, school_id: str, student_ids: list[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    if not student_ids:
        return found
    ids = set(student_ids)
    for e in conn.execute(select(Entitlement.student_id, Entitlement.category, Entitlement.starts, Entitlement.ends)
                          .where(Entitlement.school_id == school_id).order_by(Entitlement.category)):
        if e.student_id in ids:
            found.setdefault(e.student_id, []).append(e)
    return found


def _in_force(ents: list[Any], day: date) -> list[str]:
    return list(dict.fromkeys(e.category for e in ents if e.starts <= day and (e.ends is None or e.ends >= day)))


def _free(policy: Policy, cls: Any, categories: list[str], birth: date | None, day: date
          ) -> tuple[dict[str, int], int, str]:
    try:
        explained = policy.explain(day=day, grade=cls.grade, shift=cls.shift, categories=categories,
                                   birth_date=birth)
    except EligibilityError as exc:
        return {}, 0, str(exc)
    return {m["meal"]: m["price_kopecks"] for m in explained["meals"]}, explained["total_kopecks"], ""


def class_students(conn: Connection, school_id: str, class_id: str) -> list[Any]:
    return list(conn.execute(select(Student.id, Student.full_name, Student.birth_date, Student.balance_kopecks,
                                    Student.daily_limit_kopecks, Student.diet_note).where(
        Student.school_id == school_id, Student.class_id == class_id, Student.active.is_(True))
        .order_by(Student.full_name, Student.id)).all())


def _ordered(conn: Connection, school_id: str, student_ids: list[str], day: date) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    ids = set(student_ids)
    for sid, meal in conn.execute(select(Order.student_id, Order.meal).where(Order.school_id == school_id,
                                                                             Order.day == day)):
        if sid in ids:
            found.setdefault(sid, set()).add(meal)
    return found


def _absent(conn: Connection, school_id: str, student_ids: list[str], day: date) -> set[str]:
    ids = set(student_ids)
    return {sid for sid in conn.execute(select(Absence.student_id).where(Absence.school_id == school_id,
                                                                         Absence.day == day)).scalars()
            if sid in ids}


def standing_of(conn: Connection, school_id: str, student_ids: Iterable[str]) -> dict[str, set[tuple[int, str]]]:
    """Each student's standing weekly paid choice: {(ISO week day, meal)}."""
    ids = set(student_ids)
    found: dict[str, set[tuple[int, str]]] = {sid: set() for sid in ids}
    for sid, weekday, meal in conn.execute(select(StandingOrder.student_id, StandingOrder.weekday,
                                                  StandingOrder.meal).where(StandingOrder.school_id == school_id)):
        if sid in ids:
            found[sid].add((weekday, meal))
    return found


def _pending_paid(conn: Connection, school_id: str, policy: Policy, cls: Any, students: list[Any], day: date,
                  today: date) -> dict[str, int]:
    """Per student, the paid orders of other days from today on that are not served yet (kopecks)."""
    ids = {s.id for s in students}
    orders = [(sid, d, m) for sid, d, m in conn.execute(select(Order.student_id, Order.day, Order.meal).where(
        Order.school_id == school_id, Order.day >= today, Order.day != day)) if sid in ids]
    if not orders:
        return {}
    rows = conn.execute(select(Event.id, Event.kind, Event.ref_event_id, Event.student_id, Event.meal).where(
        Event.school_id == school_id, Event.local_date == today, Event.kind.in_(MONEY_KINDS))).all()
    gone = cancelled((r.id, r.kind, r.ref_event_id) for r in rows)
    served = {(r.student_id, r.meal) for r in rows if counts_as_served(r.kind) and r.id not in gone}
    ents = _entitlements(conn, school_id, list(ids))
    births = {s.id: s.birth_date for s in students}
    prices = {d: paid_prices(conn, school_id, d, [(s.id, cls.grade, s.birth_date) for s in students])
              for d in {d for _, d, _ in orders}}
    pending: dict[str, int] = {}
    for sid, d, meal in orders:
        if d == today and (sid, meal) in served:
            continue
        free, _total, _problem = _free(policy, cls, _in_force(ents.get(sid, []), d), births[sid], d)
        if meal not in free:
            pending[sid] = pending.get(sid, 0) + prices[d].get(sid, {}).get(meal, 0)
    return pending


def _last_submitted(conn: Connection, school_id: str, class_id: str, day: date) -> date | None:
    found: date | None = conn.execute(select(func.max(ClassOrder.day)).where(
        ClassOrder.school_id == school_id, ClassOrder.class_id == class_id, ClassOrder.day < day)).scalar()
    return found


def sheet(conn: Connection, school_id: str, class_id: str, day: date, *, now: datetime, like_last: bool = False,
          choices: Mapping[str, Choice] | None = None) -> Sheet:
    """The order sheet of a class for a day (OfficeError for a past day or a day without lessons).

    `choices` (a form sent back with a refusal) replace what is stored, so nothing typed is lost.
    """
    cls, calendar, tz, deadline = class_context(conn, school_id, class_id, day)
    today = school_day_of(tz, now)
    refusal = day_refusal(calendar, day, today, class_id)
    if refusal:
        raise OfficeError(refusal)
    policy = _policy(conn, school_id)
    students = class_students(conn, school_id, class_id)
    ids = [s.id for s in students]
    ents = _entitlements(conn, school_id, ids)
    prices = paid_prices(conn, school_id, day, [(s.id, cls.grade, s.birth_date) for s in students])
    ordered = _ordered(conn, school_id, ids, day)
    absent = _absent(conn, school_id, ids, day)
    standing = standing_of(conn, school_id, ids)
    submitted = conn.execute(select(ClassOrder.submitted_by, ClassOrder.submitted_at).where(
        ClassOrder.school_id == school_id, ClassOrder.class_id == class_id, ClassOrder.day == day)).first()
    last_day = _last_submitted(conn, school_id, class_id, day)
    if like_last and last_day is not None:
        source = "last"
        last = _ordered(conn, school_id, ids, last_day)
        last_absent = _absent(conn, school_id, ids, last_day)
    elif submitted is not None or ordered or absent:
        source = "submitted" if submitted is not None else "saved"
    else:
        source = "defaults"
    rows = []
    for s in students:
        categories = _in_force(ents.get(s.id, []), day)
        free, free_total, problem = _free(policy, cls, categories, s.birth_date, day)
        own_standing = sorted((m for w, m in standing.get(s.id, set()) if w == day.isoweekday()), key=MEALS.index)
        defaults = set(free) | set(own_standing)
        if choices is not None and s.id in choices:
            meals, is_absent = set(choices[s.id].meals), choices[s.id].absent
        elif source == "submitted" or (source == "saved" and (s.id in ordered or s.id in absent)):
            # Before the class's own order, what is stored (a parent's paid order, an import) is one
            # student's; the others start from the defaults.
            meals, is_absent = ordered.get(s.id, set()), s.id in absent
        elif source == "last" and s.id not in last_absent:
            meals, is_absent = last.get(s.id, set()), False
        else:
            meals, is_absent = defaults, False
        rows.append(Row(
            student_id=s.id, full_name=s.full_name, categories=categories,
            category_titles=[policy.categories.get(c, c) for c in categories], free=free,
            free_total_kopecks=free_total, prices={m: p for m, p in prices.get(s.id, {}).items() if m not in free},
            balance_kopecks=int(s.balance_kopecks), daily_limit_kopecks=s.daily_limit_kopecks,
            diet_note=s.diet_note or "", absent=is_absent,
            meals=[] if is_absent else sorted(meals, key=lambda m: MEALS.index(m) if m in MEALS else 99),
            standing=own_standing, problem=problem))
    pending = _pending_paid(conn, school_id, policy, cls, students, day, today)
    dishes = load_dishes(conn, school_id, day)
    for row in rows:
        row.warnings = warnings_for(row, pending.get(row.student_id, 0), dishes)
    slots = set(conn.execute(select(MealSlot.meal).where(MealSlot.school_id == school_id,
                                                         MealSlot.class_id == class_id)).scalars())
    used = slots | {m for r in rows for m in (*r.meals, *r.free, *r.standing)}
    columns = [m for m in MEALS if m in used] or [Meal.BREAKFAST.value, Meal.LUNCH.value]
    sent = conn.execute(select(KitchenSending.day).where(KitchenSending.school_id == school_id,
                                                          KitchenSending.day == day)).first() is not None
    return Sheet(school_id=school_id, class_id=class_id, class_name=cls.name, day=day, meals=columns, rows=rows,
                 source=source, submitted_by=submitted.submitted_by if submitted else None,
                 submitted_at=submitted.submitted_at if submitted else None, deadline=deadline,
                 locked=now >= deadline, sent=sent, last_day=last_day, timezone=str(tz))


# -- submitting ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    added: int
    removed: int
    absent: int  # marks set or cleared
    late: bool
    after_sent: bool


def submit(conn: Connection, actor: str, school_id: str, class_id: str, day: date, choices: Mapping[str, Choice],
           *, now: datetime, may_amend: bool, reason: str = "", answers_for_class: bool = True) -> Submitted:
    """Write the class's order for the day as `choices` say (students not named keep what they have).

    `may_amend`: the actor is the coordinator or an administrator, who may change it after the deadline
    with a reason; a class teacher may not (`Locked`, with the deadline in the message).
    `answers_for_class` False (a parent's order of their child): the class's `ClassOrder` is left as it is.
    """
    cls, calendar, tz, deadline = class_context(conn, school_id, class_id, day)
    refusal = day_refusal(calendar, day, school_day_of(tz, now), class_id)
    if refusal:
        raise OfficeError(refusal)
    late = now >= deadline
    reason = reason.strip()
    if late and not may_amend:
        raise Locked(f"{lock_message(day, deadline)}; изменить заявку может ответственный за питание")
    if late and not reason:
        raise OfficeError(f"{lock_message(day, deadline)}: укажите причину изменения")
    if len(reason) > REASON_MAX:
        raise OfficeError(f"причина: не длиннее {REASON_MAX} символов")
    students = {s.id for s in class_students(conn, school_id, class_id)}
    for sid, choice in choices.items():
        if sid not in students:
            raise OfficeError(f"ученика с кодом {sid[:64]} нет в классе {cls.name}")
        bad = [m for m in choice.meals if m not in MEALS]
        if bad:
            allowed = ", ".join(Meal(m).ru for m in MEALS)
            raise OfficeError(f"неизвестный приём пищи «{bad[0][:20]}»; допустимо: {allowed}")
    ids = sorted(choices)
    ordered = _ordered(conn, school_id, ids, day)
    absent = _absent(conn, school_id, ids, day)
    sent = conn.execute(select(KitchenSending.day).where(KitchenSending.school_id == school_id,
                                                          KitchenSending.day == day)).first() is not None
    at = now.astimezone(UTC).replace(tzinfo=None)
    adds: list[tuple[str, str]] = []
    removes: list[tuple[str, str]] = []
    marks: list[tuple[str, str]] = []  # (student, absent|present)
    for sid in ids:
        choice = choices[sid]
        wanted = set() if choice.absent else set(choice.meals)
        have = ordered.get(sid, set())
        adds += [(sid, m) for m in sorted(wanted - have, key=MEALS.index)]
        removes += [(sid, m) for m in sorted(have - wanted, key=lambda m: MEALS.index(m) if m in MEALS else 99)]
        if choice.absent != (sid in absent):
            marks.append((sid, "absent" if choice.absent else "present"))
    summary = {"added": [f"{s}:{m}" for s, m in adds], "removed": [f"{s}:{m}" for s, m in removes],
               "marks": [f"{s}:{a}" for s, a in marks], "late": late, "reason": reason}
    rev = change(conn, actor, school_id, "class_order", f"{class_id}:{day.isoformat()}",
                 "amend" if late else "submit", None, summary)
    for sid, meal in removes:
        conn.execute(delete(Order).where(Order.school_id == school_id, Order.student_id == sid, Order.day == day,
                                         Order.meal == meal))
    if removes:
        conn.execute(insert(Tombstone), [{"school_id": school_id, "rev": rev, "table": "orders",
                                          "key": json.dumps([sid, day.isoformat(), meal])} for sid, meal in removes])
    if adds:
        conn.execute(insert(Order), [{"school_id": school_id, "student_id": sid, "day": day, "meal": meal, "rev": rev}
                                     for sid, meal in adds])
    for sid, mark in marks:
        if mark == "absent":
            conn.execute(insert(Absence).values(school_id=school_id, student_id=sid, day=day, reason=""))
        else:
            conn.execute(delete(Absence).where(Absence.school_id == school_id, Absence.student_id == sid,
                                               Absence.day == day))
    changes = ([(sid, m, "add") for sid, m in adds] + [(sid, m, "remove") for sid, m in removes]
               + [(sid, "", mark) for sid, mark in marks])
    if changes:
        conn.execute(insert(OrderChange), [
            {"school_id": school_id, "day": day, "class_id": class_id, "student_id": sid, "meal": meal,
             "action": action, "actor": actor[:64], "at": at, "reason": reason, "late": late, "after_sent": sent}
            for sid, meal, action in changes])
    if not answers_for_class:
        return Submitted(len(adds), len(removes), len(marks), late, sent and bool(changes))
    exists = conn.execute(select(ClassOrder.day).where(ClassOrder.school_id == school_id,
                                                       ClassOrder.class_id == class_id, ClassOrder.day == day)).first()
    if exists is None:
        conn.execute(insert(ClassOrder).values(school_id=school_id, class_id=class_id, day=day,
                                               submitted_by=actor[:64], submitted_at=at))
    elif not late:
        conn.execute(update(ClassOrder).where(ClassOrder.school_id == school_id, ClassOrder.class_id == class_id,
                                              ClassOrder.day == day).values(submitted_by=actor[:64], submitted_at=at))
    return Submitted(len(adds), len(removes), len(marks), late, sent and bool(changes))


# -- the coordinator's view ------------------------------------------------------------------------------------


def overview(conn: Connection, school_id: str, day: date, *, now: datetime) -> dict[str, Any]:
    """Every class on `day`: submitted (who, when), not submitted (overdue from 30 minutes before the
    deadline), no lessons, with its ordered meals and late amendments."""
    calendar = load_calendar(conn, school_id, day - timedelta(days=1), day + timedelta(days=31))
    tz, deadline_text = school_clock(conn, school_id)
    deadline = calendar.deadline(day, parse_deadline(deadline_text), tz)
    classes = conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade).where(
        SchoolClass.school_id == school_id).order_by(SchoolClass.grade, SchoolClass.name)).all()
    submitted = {r.class_id: r for r in conn.execute(select(ClassOrder).where(ClassOrder.school_id == school_id,
                                                                              ClassOrder.day == day))}
    counts: dict[str, dict[str, int]] = {}
    for class_id, meal, n in conn.execute(
            select(Student.class_id, Order.meal, func.count()).join(
                Student, and_(Student.school_id == Order.school_id, Student.id == Order.student_id))
            .where(Order.school_id == school_id, Order.day == day).group_by(Student.class_id, Order.meal)):
        counts.setdefault(class_id, {})[meal] = int(n)
    late: dict[str, int] = {}
    for class_id, n in conn.execute(select(OrderChange.class_id, func.count()).where(
            OrderChange.school_id == school_id, OrderChange.day == day, OrderChange.late.is_(True))
            .group_by(OrderChange.class_id)):
        late[class_id] = int(n)
    overdue_from = deadline - NOT_SUBMITTED_LEAD
    result = []
    for c in classes:
        off = calendar.why_not(day, c.id)
        sub = submitted.get(c.id)
        result.append({"id": c.id, "name": c.name, "day_off": off, "submitted_by": sub.submitted_by if sub else None,
                       "submitted_at": sub.submitted_at if sub else None, "meals": counts.get(c.id, {}),
                       "late_changes": late.get(c.id, 0),
                       "overdue": off is None and sub is None and now >= overdue_from})
    return {"day": day, "deadline": deadline, "locked": now >= deadline, "why_not": calendar.why_not(day),
            "classes": result, "missing": sum(1 for c in result if c["overdue"]),
            "sent": conn.execute(select(KitchenSending.sent_at).where(
                KitchenSending.school_id == school_id, KitchenSending.day == day)).scalar(), "timezone": str(tz)}


def history(conn: Connection, school_id: str, day: date, class_id: str | None = None) -> list[dict[str, Any]]:
    """The changes of the day's orders, newest first: who, when, what, why, late, after the kitchen's order."""
    query = select(OrderChange).where(OrderChange.school_id == school_id, OrderChange.day == day)
    if class_id is not None:
        query = query.where(OrderChange.class_id == class_id)
    rows = conn.execute(query.order_by(OrderChange.id.desc())).all()
    names = dict(conn.execute(select(Student.id, Student.full_name).where(
        Student.school_id == school_id, Student.id.in_({r.student_id for r in rows} or {""}))).tuples().all())
    classes = dict(conn.execute(select(SchoolClass.id, SchoolClass.name).where(
        SchoolClass.school_id == school_id)).tuples().all())
    return [{"at": r.at, "actor": r.actor, "class_id": r.class_id, "class_name": classes.get(r.class_id, r.class_id),
             "student_id": r.student_id, "full_name": names.get(r.student_id, r.student_id), "meal": r.meal,
             "action": r.action, "what": _what(r.action, r.meal), "reason": r.reason, "late": r.late,
             "after_sent": r.after_sent} for r in rows]


def _what(action: str, meal: str) -> str:
    title = Meal(meal).ru if meal in MEALS else meal
    return f"{title}: {ACTIONS_RU.get(action, action)}" if meal else ACTIONS_RU.get(action, action)


# -- the standing weekly choice ------------------------------------------------------------------------------


def set_standing(conn: Connection, actor: str, school_id: str, class_id: str,
                 wanted: Mapping[str, set[tuple[int, str]]]) -> int:
    """Replace the standing weekly paid choice of the class's students named in `wanted`; returns how many
    students changed. Week days are ISO (1 = Monday) of the school's week."""
    cls = conn.execute(select(SchoolClass.name).where(SchoolClass.school_id == school_id,
                                                      SchoolClass.id == class_id)).first()
    if cls is None:
        raise NotFound(f"класса {class_id} нет в школе")
    students = {s.id for s in class_students(conn, school_id, class_id)}
    for sid, items in wanted.items():
        if sid not in students:
            raise OfficeError(f"ученика с кодом {sid[:64]} нет в классе {cls.name}")
        for weekday, meal in items:
            if not 1 <= weekday <= 7 or meal not in MEALS:
                raise OfficeError(f"день недели 1–7 и приём пищи из {', '.join(MEALS)}")
    have = standing_of(conn, school_id, wanted)
    changed = 0
    for sid, items in wanted.items():
        if items == have.get(sid, set()):
            continue
        changed += 1
        record_change(conn, actor, school_id, "standing_order", sid, "set",
                      sorted(f"{w}:{m}" for w, m in have.get(sid, set())), sorted(f"{w}:{m}" for w, m in items))
        conn.execute(delete(StandingOrder).where(StandingOrder.school_id == school_id,
                                                 StandingOrder.student_id == sid))
        if items:
            conn.execute(insert(StandingOrder), [{"school_id": school_id, "student_id": sid, "weekday": w, "meal": m}
                                                 for w, m in sorted(items)])
    return changed

