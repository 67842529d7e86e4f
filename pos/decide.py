"""The serving decision: does this student get this meal now? The one place that says so.

`decide(situation)` is a pure function of what the terminal knows at the moment of a tap (the
`Situation`, gathered from the local store by `pos.gather`). It returns a `Verdict`: serve free,
serve paid (debit), or refuse, with a reason code and the Russian text staff read on screen.

Every other verdict the window shows is made here too, by pure functions: a garbled read
(`bad_card_read`), a serve by hand (`served_by_hand`), a staff override (`override`), an undo
(`undo`, `undo_preview`), a store error (`store_error`) and the clock-back mark (`clock_back`).
The use cases (`pos.serving`) only gather facts, call these and write the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from pos.cards import CardStatus
from pos.domain import Meal, age_on, ru_date, ru_minutes
from pos.facts import BookedServe, StudentView
from pos.ledger import Flag
from pos.money import format_rub
from pos.policy import EligibilityError, Policy
from pos.schedule import Slot

# Undo is for the mistake just made at the counter; older corrections are the coordinator's, on the server.
UNDO_WINDOW = timedelta(minutes=15)
# A clock that goes back less than this (NTP steps, a second reader's clock) is not worth a flag.
CLOCK_BACK_TOLERANCE = timedelta(minutes=1)


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


@dataclass(frozen=True)
class Situation:
    """Everything the decision may look at, gathered in one transaction at the tap."""

    now: datetime  # in the school's time zone
    policy: Policy
    meal: Meal | None  # None only when the card was not recognised: no meal is guessed for it
    card_status: CardStatus = CardStatus.OK
    card_note: str = ""
    student: StudentView | None = None
    day_off: str | None = None  # why today is not a school day for the student's class (`pos.calendar`)
    ordered: bool = False
    categories: frozenset[str] = frozenset()
    lapsed: tuple[str, date] | None = None  # ("expired" | "not_started", the date) of an entitlement
    served: Mapping[Meal, datetime] = field(default_factory=dict)
    free_used_kopecks: int = 0
    paid_today_kopecks: int = 0
    slot: Slot | None = None  # the class's slot for this meal: its serving window
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
    free_category: str = ""  # what made it free (`pos.policy.FreeMeal`), journaled for the registers
    free_rule: str = ""
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

    @property
    def overridable(self) -> bool:
        """A refusal of a known student's meal, which staff may serve all the same (`override`)."""
        return (not self.served and self.reason is not Reason.REVERSAL and self.student is not None
                and self.meal is not None)

    @property
    def action_refused(self) -> bool:
        """A staff action (override, undo) that could not be done: not a child's verdict, nothing journaled."""
        return self.reason is Reason.NOTHING_TO_UNDO or (self.reason is Reason.OVERRIDE and not self.served)

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
    if student is None or s.meal is None:
        return refuse(Reason.NOT_ON_ROSTER, "Ученика нет в списках школы")
    meal = s.meal.ru
    if s.day_off is not None:
        return refuse(Reason.NOT_SCHOOL_DAY, s.day_off, s)
    if s.meal in s.served:
        at = s.served[s.meal].strftime("%H:%M")
        return refuse(Reason.ALREADY_SERVED, f"{meal.capitalize()} уже {s.meal.participle('выдан')} в {at}", s)
    if not s.ordered:
        return refuse(Reason.NOT_ORDERED, f"Нет заявки на {meal}", s)

    warnings: list[str] = []
    if s.slot and not s.slot.window.holds(s.now.time()):
        text = f"Не время класса {student.class_name}: {meal} {s.slot.label}"
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
            budget_line=grant.budget_line, free_category=grant.category, free_rule=grant.rule,
            balance_after_kopecks=student.balance_kopecks - copay,
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


# -- the verdicts of the window's other actions --------------------------------------------------------


def bad_card_read(text: str) -> Verdict:
    """A card number that is in no known format (a garbled read, a typo): refused, not journaled."""
    return refuse(Reason.BAD_CARD_READ, f"Номер карты не распознан: «{text.strip()[:40]}» — приложите ещё раз")


def store_error(detail: str) -> Verdict:
    """The store could not write: nothing was recorded, the same tap must be retried."""
    return refuse(Reason.STORE_ERROR, f"Не записано: {detail}. Повторите; если не проходит — вызовите администратора")


def served_by_hand(verdict: Verdict, note: str) -> Verdict:
    """A serve found by name (a forgotten card) says so, with the staff member's reason."""
    if not verdict.served:
        return verdict
    return replace(verdict, warnings=(*verdict.warnings, f"Выдано без карты: {note}"))


def clock_back(verdict: Verdict, now_utc: datetime, last_event_utc: datetime | None) -> Verdict:
    """An event earlier than the journal's last one: the clock went back. Kept, marked, and staff told."""
    if last_event_utc is None or now_utc >= last_event_utc - CLOCK_BACK_TOLERANCE:
        return verdict
    return replace(verdict, flags=(*verdict.flags, Flag.CLOCK_BACK),
                   warnings=(*verdict.warnings, "Часы терминала ушли назад: проверьте время (запись сохранена)"))


def override(refused: Verdict, reason: str, *, already_overridden: bool = False) -> Verdict:
    """Serve in spite of a refusal, for the staff member's reason: free, no debit, no budget claim."""
    if not refused.overridable or refused.student is None or refused.meal is None:
        return refuse(Reason.OVERRIDE, "Отменять нечего: выберите отказ с учеником")
    if not reason.strip():
        return refuse(Reason.OVERRIDE, "Укажите причину выдачи вопреки отказу")
    if already_overridden:
        return refuse(Reason.OVERRIDE, "Этот отказ уже отменён решением сотрудника")
    student = refused.student
    return Verdict(
        Outcome.SERVE_FREE, Reason.OVERRIDE, f"Выдано по решению сотрудника: {refused.meal.ru}",
        meal=refused.meal, student=student, balance_after_kopecks=student.balance_kopecks,
        warnings=(f"Вопреки отказу «{refused.message}». Причина: {reason}",), card_uid=refused.card_uid,
    )


def undo_since(local: datetime) -> datetime:
    """The earliest serve `undo` may still reverse at `local`."""
    return local - UNDO_WINDOW


def nothing_to_undo() -> Verdict:
    return refuse(Reason.NOTHING_TO_UNDO,
                  f"Нечего отменять: за последние {ru_minutes(UNDO_WINDOW // timedelta(minutes=1))} выдач не было")


def _served_at(last: BookedServe, tz: tzinfo) -> str:
    meal = last.meal.ru if last.meal else ""
    return f"{meal} в {last.at_utc.astimezone(tz):%H:%M}"


def undo(last: BookedServe | None, student: StudentView | None, tz: tzinfo, *, expected: str | None = None
         ) -> Verdict:
    """Reverse `last` (found by `undo_since`): the opposite amounts, the account paid back.

    `expected` is the serve the staff confirmed (the dialog named it): if another serve became the last
    one meanwhile (a child tapped while the dialog was open), nothing is reversed.
    """
    if last is None:
        return nothing_to_undo()
    if expected is not None and last.id != expected:
        return refuse(Reason.NOTHING_TO_UNDO, "Отмена не выполнена: пока открывалось окно, была новая выдача. "
                      "Нажмите F4 ещё раз и проверьте, чья выдача отменяется")
    return Verdict(
        Outcome.REFUSE, Reason.REVERSAL, f"Отменена выдача: {_served_at(last, tz)}",
        meal=last.meal, student=student, paid_kopecks=-last.paid_kopecks, free_kopecks=-last.free_kopecks,
        budget_line=last.budget_line, free_category=last.free_category, free_rule=last.free_rule,
        card_uid=last.card_uid,
        balance_after_kopecks=student.balance_kopecks + last.paid_kopecks if student else None,
    )


def undo_preview(last: BookedServe, student: StudentView | None, tz: tzinfo) -> Verdict:
    """What `undo` would reverse (student, meal, time), for the confirmation dialog."""
    return Verdict(Outcome.SERVE_FREE, Reason.OK, _served_at(last, tz), meal=last.meal, student=student,
                   event_id=last.id, card_uid=last.card_uid)
