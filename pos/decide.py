"""The serving decision: does this student get this meal now? The one place that says so.

`decide(situation)` is a pure function of what the terminal knows at the moment of a tap (the
`Situation`, gathered from the local store by `pos.counter`). It returns a `Verdict`: serve free,
serve paid (debit), or refuse, with a reason code and the Russian text staff read on screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import StrEnum

from pos.domain import Meal, age_on, ru_date
from pos.ledger import Flag
from pos.money import format_rub
from pos.policy import EligibilityError, Policy


class Outcome(StrEnum):
    SERVE_FREE = "serve_free"
    SERVE_PAID = "serve_paid"
    REFUSE = "refuse"


class Reason(StrEnum):
    OK = "ok"
    BAD_CARD_READ = "bad_card_read"
    UNKNOWN_CARD = "unknown_card"
    AMBIGUOUS_CARD = "ambiguous_card"
    BLOCKED_CARD = "blocked_card"
    NOT_ON_ROSTER = "not_on_roster"
    NOT_SCHOOL_DAY = "not_school_day"
    NOT_ORDERED = "not_ordered"
    ALREADY_SERVED = "already_served"
    OUTSIDE_WINDOW = "outside_window"
    LOW_BALANCE = "low_balance"
    DAILY_LIMIT = "daily_limit"
    ENTITLEMENT_EXPIRED = "entitlement_expired"
    ENTITLEMENT_NOT_STARTED = "entitlement_not_started"
    NO_PRICE = "no_price"
    NO_BIRTH_DATE = "no_birth_date"
    STORE_ERROR = "store_error"
    OVERRIDE = "override"
    REVERSAL = "reversal"
    NOTHING_TO_UNDO = "nothing_to_undo"


class CardStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class StudentView:
    """What serving needs to know of a student: nothing more."""

    id: str
    full_name: str
    class_name: str
    grade: int
    shift: int
    birth_date: date | None
    diet_note: str
    daily_limit_kopecks: int | None
    balance_kopecks: int


@dataclass(frozen=True)
class Situation:
    """Everything the decision may look at, gathered in one transaction at the tap."""

    now: datetime  # in the school's time zone
    policy: Policy
    meal: Meal
    card_status: CardStatus = CardStatus.OK
    card_note: str = ""
    student: StudentView | None = None
    school_day: bool = True
    ordered: bool = False
    categories: frozenset[str] = frozenset()
    lapsed: tuple[str, date] | None = None  # ("expired" | "not_started", the date) of an entitlement
    served: Mapping[Meal, datetime] = field(default_factory=dict)
    free_used_kopecks: int = 0
    paid_today_kopecks: int = 0
    window: tuple[time, time] | None = None
    window_label: str = ""
    refuse_outside_window: bool = False
    menu_price_kopecks: int | None = None


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: Reason
    message: str
    meal: Meal | None = None
    student: StudentView | None = None
    paid_kopecks: int = 0
    free_kopecks: int = 0
    budget_line: str | None = None
    balance_after_kopecks: int | None = None
    warnings: tuple[str, ...] = ()
    event_id: str | None = None
    card_uid: str | None = None
    flags: tuple[str, ...] = ()  # recorded on the journal event for review, e.g. "copay_unpaid"

    @property
    def served(self) -> bool:
        return self.outcome is not Outcome.REFUSE

    @property
    def headline(self) -> str:
        """The one word staff read from a metre away."""
        if self.outcome is Outcome.REFUSE:
            return "ОТКАЗ"
        return "ВЫДАТЬ"

    def with_event(self, event_id: str) -> Verdict:
        return replace(self, event_id=event_id)


def refuse(reason: Reason, message: str, s: Situation | None = None, *warnings: str) -> Verdict:
    return Verdict(
        Outcome.REFUSE, reason, message,
        meal=s.meal if s else None, student=s.student if s else None, warnings=tuple(warnings),
    )


def decide(s: Situation) -> Verdict:
    """The verdict for one tap. Checks run in the order staff would ask the questions."""
    if s.card_status is CardStatus.UNKNOWN:
        return refuse(Reason.UNKNOWN_CARD, "Карта не зарегистрирована")
    if s.card_status is CardStatus.AMBIGUOUS:
        return refuse(Reason.AMBIGUOUS_CARD, "Номер карты совпадает у нескольких учеников — найдите ученика по имени")
    if s.card_status is CardStatus.BLOCKED:
        note = f": {s.card_note}" if s.card_note else ""
        return refuse(Reason.BLOCKED_CARD, f"Карта заблокирована{note}", s)
    student = s.student
    if student is None:
        return refuse(Reason.NOT_ON_ROSTER, "Ученика нет в списках школы")
    meal = s.meal.ru
    if not s.school_day:
        return refuse(Reason.NOT_SCHOOL_DAY, f"{ru_date(s.now.date())} — не учебный день", s)
    if s.meal in s.served:
        at = s.served[s.meal].strftime("%H:%M")
        return refuse(Reason.ALREADY_SERVED, f"Уже получил {meal} сегодня в {at}", s)
    if not s.ordered:
        return refuse(Reason.NOT_ORDERED, f"{meal.capitalize()} на сегодня не заказан", s)

    warnings: list[str] = []
    if s.window and not (s.window[0] <= s.now.time() <= s.window[1]):
        text = f"Не время класса {student.class_name}: {meal} {s.window_label}"
        if s.refuse_outside_window:
            return refuse(Reason.OUTSIDE_WINDOW, text, s)
        warnings.append(text)

    age = age_on(student.birth_date, s.now.date()) if student.birth_date else None
    try:
        free = {m.meal: m for m in s.policy.free_meals(
            grade=student.grade, shift=student.shift, categories=s.categories, age=age)}
    except EligibilityError as exc:
        return refuse(Reason.NO_BIRTH_DATE, f"Нельзя определить цену: {exc}. Обратитесь к ответственному за питание", s)

    if s.meal in free:
        grant = free[s.meal]
        free_part = grant.price_kopecks
        if s.policy.daily_cap is not None:
            free_part = max(0, min(free_part, s.policy.daily_cap - s.free_used_kopecks))
        copay = grant.price_kopecks - free_part
        flags: tuple[str, ...] = ()
        if copay:
            cap = format_rub(s.policy.daily_cap or 0)
            if _cannot_pay(s, student, copay):
                # The child is entitled to this meal; the unpaid top-up is for the office, not the queue.
                warnings.append(f"Сверх дневного лимита льготы {cap}: доплата {format_rub(copay)} не списана "
                                "(на счёте недостаточно средств)")
                copay, flags = 0, (Flag.COPAY_UNPAID,)
            else:
                warnings.append(f"Сверх дневного лимита льготы {cap}: доплата {format_rub(copay)} со счёта")
        return Verdict(
            Outcome.SERVE_FREE, Reason.OK, f"Бесплатно: {meal}",
            meal=s.meal, student=student, paid_kopecks=copay, free_kopecks=free_part,
            budget_line=grant.budget_line, balance_after_kopecks=student.balance_kopecks - copay,
            warnings=tuple(warnings), flags=flags,
        )

    if s.lapsed:
        kind, when = s.lapsed
        warnings.append(
            f"Льгота закончилась {ru_date(when)}" if kind == "expired" else f"Льгота начнётся с {ru_date(when)}")
    if s.menu_price_kopecks is None:
        return refuse(Reason.NO_PRICE, f"Нет цены на {meal} сегодня — обратитесь к ответственному за питание", s)
    problem = _cannot_pay(s, student, s.menu_price_kopecks, *warnings)
    if problem:
        return problem
    return Verdict(
        Outcome.SERVE_PAID, Reason.OK, f"Платно: {meal} {format_rub(s.menu_price_kopecks)}",
        meal=s.meal, student=student, paid_kopecks=s.menu_price_kopecks,
        balance_after_kopecks=student.balance_kopecks - s.menu_price_kopecks, warnings=tuple(warnings),
    )


def _cannot_pay(s: Situation, student: StudentView, amount: int, *warnings: str) -> Verdict | None:
    if student.balance_kopecks < amount:
        reason = Reason.LOW_BALANCE
        if s.lapsed:
            reason = Reason.ENTITLEMENT_EXPIRED if s.lapsed[0] == "expired" else Reason.ENTITLEMENT_NOT_STARTED
        return refuse(
            reason,
            f"Недостаточно средств: на счёте {format_rub(student.balance_kopecks)}, нужно {format_rub(amount)}",
            s, *warnings,
        )
    limit = student.daily_limit_kopecks
    if limit is not None and s.paid_today_kopecks + amount > limit:
        return refuse(
            Reason.DAILY_LIMIT,
            f"Превышен дневной лимит родителей {format_rub(limit)} (сегодня уже {format_rub(s.paid_today_kopecks)})",
            s, *warnings,
        )
    return None
