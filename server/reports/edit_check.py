"""The daily check of the claim, like the US edit check (7 CFR 210.8): on each school day, the free meals counted
per benefit category and meal may not exceed the students entitled to that meal free that day (by the day's
policy, their class on the day and the benefits in force) and present — orders serve as attendance: a student
with an `Order` row that day and no `Absence`; a student served at the window that day and not marked absent
counts as present too (the meal proves the attendance; a meal without an order is the mismatch report's
`served_not_ordered` already, not counted twice). A school day (before today) with nothing served and nothing
ordered is flagged as without data (a day with orders and no serves already gives `ordered_not_served`), from
the school's first served or ordered day on (before it the school did not use the system yet). The exceptions
are items of the office's review queue (`server.office.reviews`), kinds `edit_check` and `no_data`, resolved
there with a comment.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import Connection, func, select

from pos.domain import age_on
from server.free_meals import FreeMeals
from server.history import NoPolicy
from server.mismatches import Item
from server.models import Event, Order
from server.reports.common import GRADE_RIGHT, load_month, month_end

EDIT_CHECK, NO_DATA = "edit_check", "no_data"
KINDS: dict[str, str] = {
    EDIT_CHECK: "бесплатных приёмов пищи больше, чем учеников с правом на них и присутствующих",
    NO_DATA: "учебный день без данных о выдаче питания",
}
SCHOOL_SUBJECT = "школа"


def subject_of(category: str) -> str:
    return f"категория:{category or 'по классу'}"


def items(conn: Connection, school_id: str, start: date, end: date, today: date) -> list[Item]:
    """The exceptions of the school days start..end before `today` (today is not over)."""
    end = min(end, today - timedelta(days=1))
    first = min((d for d in (
        conn.execute(select(func.min(Event.local_date)).where(Event.school_id == school_id)).scalar(),
        conn.execute(select(func.min(Order.day)).where(Order.school_id == school_id)).scalar()) if d is not None),
        default=None)
    if first is None:
        return []
    start = max(start, first)
    out: list[Item] = []
    month = start.replace(day=1)
    while month <= end:
        out += _month_items(conn, school_id, month, max(start, month), min(end, month_end(month)))
        month = month_end(month) + timedelta(days=1)
    return out


def _month_items(conn: Connection, school_id: str, month: date, start: date, end: date) -> list[Item]:
    m = load_month(conn, school_id, month)
    served = defaultdict(list)
    any_served: set[date] = set()
    present: dict[date, set[str]] = defaultdict(set)
    for s in m.served:
        if start <= s.day <= end:
            any_served.add(s.day)
            if (s.student_id, s.day) not in m.absences:
                present[s.day].add(s.student_id)
            if s.free and s.category is not None and s.category != "?":
                served[(s.day, s.category, s.meal)].append(s)
    ordered: set[date] = set()
    for student_id, day in conn.execute(select(Order.student_id, Order.day).where(
            Order.school_id == school_id, Order.day >= start, Order.day <= end)).tuples():
        ordered.add(day)
        if (student_id, day) not in m.absences:
            present[day].add(student_id)
    out: list[Item] = []
    grants: dict[str, FreeMeals] = {}
    for day in m.calendar.school_days(start, end):
        if day not in any_served:
            if day in ordered:
                continue  # its orders not served are items of their own
            out.append(Item(day=day.isoformat(), class_id="", class_name="", student_id="",
                            student_name="ни одной выдачи и ни одной заявки за день", meal="", kind=NO_DATA,
                            count=0, kopecks=0, terminal_id=SCHOOL_SUBJECT))
            continue
        try:
            policy = m.policies.for_day(day)
        except NoPolicy:
            continue  # a day of a year without a policy is not judged
        free = grants.setdefault(policy.id, FreeMeals(policy))
        allowed: dict[tuple[str, str], int] = defaultdict(int)
        for student_id in present[day]:
            class_id = m.class_on(student_id, day)
            cls = m.classes.get(class_id) if class_id else None
            student = m.students.get(student_id)
            if cls is None or student is None:
                continue
            meals = free.of(cls.grade, cls.shift, m.categories_in_force(student_id, day),
                            age_on(student.birth_date, day) if student.birth_date else None) or {}
            for meal, grant in meals.items():
                allowed[(grant.category, meal)] += 1
        for (d, category, meal), rows in sorted(served.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])):
            if d != day or len(rows) <= allowed[(category, meal)]:
                continue
            excess = len(rows) - allowed[(category, meal)]
            per_meal = sum(s.free_kopecks for s in rows) // len(rows)
            title = m.category_title(category if category != GRADE_RIGHT else GRADE_RIGHT)
            out.append(Item(day=day.isoformat(), class_id="", class_name="", student_id="",
                            student_name=f"{title}: учтено {len(rows)}, с правом и присутствующих "
                                         f"{allowed[(category, meal)]}",
                            meal=meal, kind=EDIT_CHECK, count=excess, kopecks=excess * per_meal,
                            event_ids=sorted(s.id for s in rows), terminal_id=subject_of(category)))
    return out
