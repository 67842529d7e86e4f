"""`gather`: the one function that builds the `Situation` a verdict is decided on.

It reads the store (`pos.lookup`, fixed SQL on the tap's own transaction) and the cached reference
data (`pos.reference`), and decides nothing: every rule is `pos.decide`'s.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from pos import lookup
from pos.cards import CardMatch, CardStatus
from pos.decide import Situation
from pos.domain import ALL_AGES, Meal, age_group
from pos.facts import Day
from pos.reference import Reference


def meal_for(ref: Reference, class_id: str | None, local: datetime, day: Day) -> Meal:
    """The meal a student is here for: the class's slot now, else its nearest one, else the next meal
    ordered and not had yet, else breakfast."""
    by_schedule = ref.schedule.meal_at(class_id, local.time())
    if by_schedule is not None:
        return by_schedule
    return next((m for m in Meal if m in day.ordered and m not in day.served), Meal.BREAKFAST)


def gather(conn: Connection, ref: Reference, local: datetime, card: CardMatch, meal: Meal | None) -> Situation:
    """Everything `decide` may look at for this student (or this unrecognised card) at `local`.

    `meal` is the one staff chose by hand; None lets the schedule say. A card that matched no one,
    or is blocked, gets no meal: there is nothing to serve, so nothing is guessed.
    """
    policy = ref.settings.policy
    if card.status is not CardStatus.OK or card.student_id is None:
        known = lookup.student(conn, card.student_id)[0] if card.student_id else None
        return Situation(now=local, policy=policy, meal=None, card_status=card.status, card_note=card.note,
                         student=known)
    today = local.date()
    student, class_id = lookup.student(conn, card.student_id)
    day = lookup.student_day(conn, card.student_id, today)
    meal = meal or meal_for(ref, class_id, local, day)
    categories, lapsed = lookup.entitlements(conn, card.student_id, today)
    group = age_group(student.birth_date, student.grade, today) if student else ALL_AGES
    return Situation(
        now=local, policy=policy, meal=meal, student=student,
        day_off=ref.calendar.why_not(today, class_id), ordered=meal in day.ordered, categories=categories,
        lapsed=lapsed, served={m: at.astimezone(ref.tz) for m, at in day.served.items()},
        free_used_kopecks=day.free_used_kopecks, paid_today_kopecks=day.paid_kopecks,
        slot=ref.schedule.slot(class_id, meal), refuse_outside_window=ref.settings.refuse_outside_window,
        menu_price_kopecks=ref.price(conn, today, meal, group),
    )
