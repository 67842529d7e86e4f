"""`pos.decide` itself, without a store: one row per rule of the shipped policies (the seeds' tables)
and one per `Reason` code, each a `Situation` in and a `Verdict` out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pos.cards import CardStatus
from pos.decide import (
    Outcome,
    Reason,
    Situation,
    Verdict,
    bad_card_read,
    clock_back,
    decide,
    nothing_to_undo,
    override,
    served_by_hand,
    store_error,
    undo,
    undo_preview,
)
from pos.domain import Meal
from pos.facts import BookedServe, StudentView
from pos.ledger import Flag
from pos.policy import Policy, load_policy, shipped_policies
from pos.schedule import Schedule, Slot, Tolerance, Window

TZ = ZoneInfo("Asia/Krasnoyarsk")
DAY = date(2026, 11, 23)  # a Monday
NOW = datetime.combine(DAY, time(8, 45), TZ)
POLICIES: dict[str, Policy] = {name: load_policy(path) for name, path in shipped_policies().items()}
REG, PRIM = "0110075660", "01100L3040"


def student(grade: int = 2, shift: int = 1, age: int | None = 8, balance: int = 0,
            limit: int | None = None) -> StudentView:
    birth = date(DAY.year - age, 1, 15) if age is not None else None
    return StudentView("s1", "Иванов Иван", f"{grade}а", grade, shift, birth, "", limit, balance)


def situation(policy: str = "nazarovo-2021", meal: Meal | None = Meal.BREAKFAST, **facts: Any) -> Situation:
    values: dict[str, Any] = {"student": student(), "ordered": True, "menu_price_kopecks": 7500}
    values.update(facts)
    return Situation(now=NOW, policy=POLICIES[policy], meal=meal, **values)


# One row per rule of each shipped policy: who the rule is for, and what it gives free that day
# {meal: (kopecks, budget line)} — the numbers of seed 002 (Назарово), 003 (Рязань), 004 (Кировск).
RULE_ROWS = [
    pytest.param("nazarovo-2021", 2, 1, (), 8, {Meal.BREAKFAST: (4858, PRIM)}, id="nazarovo/1-4/all-but-OVZ/shift-1"),
    pytest.param("nazarovo-2021", 2, 2, (), 8, {Meal.LUNCH: (7288, PRIM)}, id="nazarovo/1-4/all-but-OVZ/shift-2"),
    pytest.param("nazarovo-2021", 3, 1, ("ovz",), 9, {Meal.BREAKFAST: (4858, REG), Meal.LUNCH: (7288, REG)},
                 id="nazarovo/1-4/OVZ/shift-1"),
    pytest.param("nazarovo-2021", 4, 2, ("ovz",), 12, {Meal.LUNCH: (8472, REG), Meal.SNACK: (4236, REG)},
                 id="nazarovo/1-4/OVZ/shift-2"),
    pytest.param("nazarovo-2021", 1, 1, ("transported",), 7, {Meal.BREAKFAST: (4858, PRIM), Meal.LUNCH: (7288, REG)},
                 id="nazarovo/1-4/transported/shift-1"),
    pytest.param("nazarovo-2021", 1, 2, ("transported",), 7, {Meal.LUNCH: (7288, PRIM), Meal.SNACK: (3644, REG)},
                 id="nazarovo/1-4/transported/shift-2"),
    pytest.param("nazarovo-2021", 5, 1, ("large_family",), 10, {Meal.BREAKFAST: (4858, REG)},
                 id="nazarovo/5-11/benefit/shift-1"),
    pytest.param("nazarovo-2021", 9, 2, ("social_danger",), 15, {Meal.LUNCH: (8472, REG)},
                 id="nazarovo/5-11/benefit/shift-2"),
    pytest.param("nazarovo-2021", 11, 1, ("ovz",), 17, {Meal.BREAKFAST: (5649, REG), Meal.LUNCH: (8472, REG)},
                 id="nazarovo/5-11/OVZ/shift-1"),
    pytest.param("nazarovo-2021", 11, 2, ("ovz",), 17, {Meal.LUNCH: (8472, REG), Meal.SNACK: (4236, REG)},
                 id="nazarovo/5-11/OVZ/shift-2"),
    pytest.param("nazarovo-2021", 7, 1, ("transported",), 13, {Meal.BREAKFAST: (5649, REG), Meal.LUNCH: (8472, REG)},
                 id="nazarovo/5-11/transported/shift-1"),
    pytest.param("nazarovo-2021", 7, 2, ("transported",), 13, {Meal.LUNCH: (8472, REG), Meal.SNACK: (4236, REG)},
                 id="nazarovo/5-11/transported/shift-2"),
    pytest.param("ryazan-2024", 2, 1, (), None, {Meal.BREAKFAST: (5700, "federal")}, id="ryazan/1-4/shift-1"),
    pytest.param("ryazan-2024", 2, 2, (), None, {Meal.LUNCH: (8522, "federal")}, id="ryazan/1-4/shift-2"),
    pytest.param("ryazan-2024", 6, 1, ("svo_mobilized",), None,
                 {Meal.BREAKFAST: (5700, "city"), Meal.LUNCH: (8522, "city")}, id="ryazan/benefit-1-11"),
    pytest.param("kirovsk-2020", 3, 1, (), None,
                 {Meal.BREAKFAST: (4320, "free_meals"), Meal.LUNCH: (6480, "free_meals")}, id="kirovsk/1-4"),
    pytest.param("kirovsk-2020", 3, 1, (), None, {Meal.MILK: (1350, "milk")}, id="kirovsk/1-4/milk"),
    pytest.param("kirovsk-2020", 7, 1, ("low_income",), None,
                 {Meal.BREAKFAST: (4320, "free_meals"), Meal.LUNCH: (6480, "free_meals")}, id="kirovsk/5-11/benefit"),
]


@pytest.mark.parametrize(("policy", "grade", "shift", "categories", "age", "free"), RULE_ROWS)
def test_each_rule_of_the_shipped_policies_serves_its_meals_free_from_its_budget_line(
    policy: str, grade: int, shift: int, categories: tuple[str, ...], age: int | None,
    free: dict[Meal, tuple[int, str]],
) -> None:
    for meal, (kopecks, line) in free.items():
        v = decide(situation(policy, meal, student=student(grade, shift, age), categories=frozenset(categories)))
        assert (v.outcome, v.reason, v.message) == (Outcome.SERVE_FREE, Reason.OK, f"Бесплатно: {meal.ru}")
        assert (v.free_kopecks, v.budget_line, v.paid_kopecks) == (kopecks, line, 0)


@pytest.mark.parametrize(("policy", "grade", "shift", "categories", "age", "meal"), [
    pytest.param("nazarovo-2021", 8, 1, (), 14, Meal.BREAKFAST, id="nazarovo/5-11-without-category"),
    pytest.param("nazarovo-2021", 5, 1, ("large_family",), 10, Meal.LUNCH, id="nazarovo/benefit-shift-1-lunch"),
    pytest.param("ryazan-2024", 2, 1, (), None, Meal.LUNCH, id="ryazan/1-4-shift-1-lunch"),
    pytest.param("kirovsk-2020", 7, 1, (), None, Meal.BREAKFAST, id="kirovsk/5-11-without-category"),
])
def test_a_meal_no_rule_gives_is_sold_at_the_menu_price(
    policy: str, grade: int, shift: int, categories: tuple[str, ...], age: int | None, meal: Meal,
) -> None:
    v = decide(situation(policy, meal, student=student(grade, shift, age, balance=10_000),
                         categories=frozenset(categories)))
    assert (v.outcome, v.paid_kopecks, v.free_kopecks, v.balance_after_kopecks) == (Outcome.SERVE_PAID, 7500, 0, 2500)
    assert v.message == f"Платно: {meal.ru} 75,00 ₽"


def test_ryazan_daily_cap_turns_the_rest_of_a_free_meal_into_a_copay_from_the_account() -> None:
    v = decide(situation("ryazan-2024", Meal.LUNCH, student=student(9, 1, None, balance=10_000),
                         categories=frozenset({"ovz"}), free_used_kopecks=10_000))
    assert (v.outcome, v.free_kopecks, v.paid_kopecks, v.flags) == (Outcome.SERVE_FREE, 4222, 4300, ())
    assert v.warnings == ("Сверх дневного лимита льготы 142,22 ₽: доплата 43,00 ₽ со счёта",)


def test_ryazan_copay_the_account_cannot_pay_is_served_and_flagged_for_the_office() -> None:
    v = decide(situation("ryazan-2024", Meal.LUNCH, student=student(9, 1, None, balance=0),
                         categories=frozenset({"ovz"}), free_used_kopecks=10_000))
    assert (v.outcome, v.free_kopecks, v.paid_kopecks, v.flags) == (Outcome.SERVE_FREE, 4222, 0, (Flag.COPAY_UNPAID,))


SLOT = Slot("c1", "2а", Meal.BREAKFAST, 1, 2, "09:40", "10:00",
            Window.around(time(9, 40), time(10, 0), Tolerance(10, 10)))
SERVED = {Meal.BREAKFAST: datetime.combine(DAY, time(8, 41), TZ)}
LAST = BookedServe("e1", "s1", Meal.BREAKFAST, datetime.combine(DAY, time(8, 41), TZ).astimezone(UTC), 7500, 0,
                   None, "EM:55007EE424")
PAID = {"student": student(7, 1, 13, balance=10_000), "categories": frozenset()}

# One row per `Reason` that `decide` gives: the situation's facts, then the verdict expected.
DECIDE_ROWS = [
    pytest.param({"meal": None, "card_status": CardStatus.UNKNOWN, "student": None}, Reason.UNKNOWN_CARD,
                 "Карта не зарегистрирована", id="unknown-card"),
    pytest.param({"meal": None, "card_status": CardStatus.AMBIGUOUS, "student": None}, Reason.AMBIGUOUS_CARD,
                 "Номер карты совпадает у нескольких учеников — найдите ученика по имени", id="ambiguous-card"),
    pytest.param({"meal": None, "card_status": CardStatus.BLOCKED, "card_note": "утеряна"}, Reason.BLOCKED_CARD,
                 "Карта заблокирована: утеряна", id="blocked-card"),
    pytest.param({"student": None}, Reason.NOT_ON_ROSTER, "Ученика нет в списках школы", id="not-on-roster"),
    pytest.param({"day_off": "23.11.2026 — у класса нет занятий: экскурсия"}, Reason.NOT_SCHOOL_DAY,
                 "23.11.2026 — у класса нет занятий: экскурсия", id="not-school-day"),
    pytest.param({"served": SERVED}, Reason.ALREADY_SERVED, "Завтрак уже выдан в 08:41", id="already-served"),
    pytest.param({"meal": Meal.MILK, "served": {Meal.MILK: SERVED[Meal.BREAKFAST]}}, Reason.ALREADY_SERVED,
                 "Молоко уже выдано в 08:41", id="already-served-milk"),
    pytest.param({"ordered": False}, Reason.NOT_ORDERED, "Нет заявки на завтрак",
                 id="not-ordered"),
    pytest.param({"slot": SLOT, "refuse_outside_window": True}, Reason.OUTSIDE_WINDOW,
                 "Не время класса 2а: завтрак на 2-й перемене I смены 09:40–10:00", id="outside-window"),
    pytest.param({"student": student(7, 1, 13, balance=5000)}, Reason.LOW_BALANCE,
                 "Недостаточно средств: на счёте 50,00 ₽, нужно 75,00 ₽", id="low-balance"),
    pytest.param({"student": student(7, 1, 13, balance=100_000, limit=10_000), "paid_today_kopecks": 5000},
                 Reason.DAILY_LIMIT, "Превышен дневной лимит родителей 100,00 ₽ (сегодня уже 50,00 ₽)",
                 id="daily-limit"),
    pytest.param({"student": student(7, 1, 13), "lapsed": ("expired", date(2026, 11, 1))},
                 Reason.ENTITLEMENT_EXPIRED, "Недостаточно средств: на счёте 0,00 ₽, нужно 75,00 ₽",
                 id="entitlement-expired"),
    pytest.param({"student": student(7, 1, 13), "lapsed": ("not_started", date(2026, 12, 1))},
                 Reason.ENTITLEMENT_NOT_STARTED, "Недостаточно средств: на счёте 0,00 ₽, нужно 75,00 ₽",
                 id="entitlement-not-started"),
    pytest.param({**PAID, "menu_price_kopecks": None}, Reason.NO_PRICE,
                 "Нет цены на завтрак сегодня — обратитесь к ответственному за питание", id="no-price"),
    pytest.param({"student": student(age=None)}, Reason.NO_BIRTH_DATE,
                 "Нельзя определить цену: нет даты рождения: цена зависит от возраста. "
                 "Обратитесь к ответственному за питание", id="no-birth-date"),
    pytest.param({}, Reason.OK, "Бесплатно: завтрак", id="ok-free"),
    pytest.param(PAID, Reason.OK, "Платно: завтрак 75,00 ₽", id="ok-paid"),
]


@pytest.mark.parametrize(("facts", "reason", "message"), DECIDE_ROWS)
def test_decide_gives_each_reason_for_its_situation(facts: dict[str, Any], reason: Reason, message: str) -> None:
    facts = dict(facts)  # the row stays as written
    v = decide(situation(meal=facts.pop("meal", Meal.BREAKFAST), **facts))
    assert (v.reason, v.message) == (reason, message)
    assert v.served == (reason is Reason.OK)
    if not v.served:
        assert (v.paid_kopecks, v.free_kopecks) == (0, 0)


def test_a_refused_card_names_no_meal_it_was_never_asked_for() -> None:
    v = decide(situation(meal=None, card_status=CardStatus.BLOCKED, card_note="утеряна"))
    assert v.meal is None and v.student is not None


def test_a_lapsed_entitlement_is_named_when_the_meal_is_sold_instead() -> None:
    v = decide(situation(student=student(7, 1, 13, balance=10_000), lapsed=("expired", date(2026, 11, 1))))
    assert v.outcome is Outcome.SERVE_PAID and v.warnings == ("Льгота закончилась 01.11.2026",)


def test_outside_the_window_a_school_that_does_not_refuse_serves_with_a_warning() -> None:
    v = decide(situation(slot=SLOT))
    assert v.served and v.warnings == ("Не время класса 2а: завтрак на 2-й перемене I смены 09:40–10:00",)
    assert decide(situation(slot=replace(SLOT, window=Window(time(8, 30), time(9, 10))))).warnings == ()


# -- the window's other actions ------------------------------------------------------------------------


def test_bad_card_read_and_store_error_are_refusals_that_name_the_problem() -> None:
    bad = bad_card_read("  Em-Mar\x00ine[55 ")
    assert (bad.reason, bad.served) == (Reason.BAD_CARD_READ, False)
    assert bad.message == "Номер карты не распознан: «Em-Mar\x00ine[55» — приложите ещё раз"
    error = store_error("диск заполнен")
    assert (error.reason, error.message) == (
        Reason.STORE_ERROR, "Не записано: диск заполнен. Повторите; если не проходит — вызовите администратора")


def test_a_serve_by_hand_says_it_was_without_a_card_and_a_refusal_stays_as_it_is() -> None:
    served = served_by_hand(decide(situation()), "карта дома")
    assert served.warnings == ("Выдано без карты: карта дома",)
    refused = decide(situation(ordered=False))
    assert served_by_hand(refused, "карта дома") == refused


def test_an_event_earlier_than_the_journal_is_flagged_as_the_clock_going_back() -> None:
    v = decide(situation())
    now = NOW.astimezone(UTC)
    back = clock_back(v, now, now + timedelta(minutes=5))
    assert back.flags == (Flag.CLOCK_BACK,)
    assert back.warnings[-1] == "Часы терминала ушли назад: проверьте время (запись сохранена)"
    assert clock_back(v, now, now + timedelta(seconds=30)) == v  # within the tolerance
    assert clock_back(v, now, None) == v


def test_override_serves_a_refused_child_free_with_the_reason_and_claims_nothing() -> None:
    refused = decide(situation(ordered=False))
    v = override(refused, "заявку не подали по ошибке")
    assert (v.outcome, v.reason, v.paid_kopecks, v.free_kopecks, v.budget_line) == (
        Outcome.SERVE_FREE, Reason.OVERRIDE, 0, 0, None)
    assert v.message == "Выдано по решению сотрудника: завтрак"
    assert v.warnings == ("Вопреки отказу «Нет заявки на завтрак». Причина: заявку не подали по ошибке",)


@pytest.mark.parametrize(("refused", "reason", "already", "message"), [
    pytest.param(decide(situation()), "ошибка", False, "Отменять нечего: выберите отказ с учеником", id="served"),
    pytest.param(decide(situation(student=None)), "ошибка", False, "Отменять нечего: выберите отказ с учеником",
                 id="no-student"),
    pytest.param(undo(LAST, student(), TZ), "ошибка", False, "Отменять нечего: выберите отказ с учеником",
                 id="a-reversal"),
    pytest.param(decide(situation(ordered=False)), "  ", False, "Укажите причину выдачи вопреки отказу",
                 id="no-reason"),
    pytest.param(decide(situation(ordered=False)), "ошибка", True, "Этот отказ уже отменён решением сотрудника",
                 id="already-overridden"),
])
def test_an_override_that_cannot_be_done_is_a_staff_action_refused(
    refused: Verdict, reason: str, already: bool, message: str,
) -> None:
    v = override(refused, reason, already_overridden=already)
    assert (v.served, v.reason, v.message, v.action_refused) == (False, Reason.OVERRIDE, message, True)


def test_undo_reverses_the_amounts_and_pays_the_account_back() -> None:
    v = undo(LAST, student(balance=2500), TZ)
    assert (v.reason, v.outcome, v.paid_kopecks, v.free_kopecks) == (Reason.REVERSAL, Outcome.REFUSE, -7500, 0)
    assert (v.message, v.balance_after_kopecks, v.card_uid) == ("Отменена выдача: завтрак в 08:41", 10_000,
                                                                "EM:55007EE424")
    assert not v.action_refused and not v.overridable
    assert undo_preview(LAST, student(), TZ).message == "завтрак в 08:41"


def test_nothing_to_undo_names_the_undo_window() -> None:
    v = undo(None, None, TZ)
    assert v == nothing_to_undo()
    assert (v.reason, v.message, v.action_refused) == (
        Reason.NOTHING_TO_UNDO, "Нечего отменять: за последние 15 минут выдач не было", True)


def test_every_reason_code_has_a_row_here() -> None:
    covered = {p.values[1] for p in DECIDE_ROWS} | {
        Reason.BAD_CARD_READ, Reason.STORE_ERROR, Reason.OVERRIDE, Reason.REVERSAL, Reason.NOTHING_TO_UNDO}
    assert covered == set(Reason)


def test_the_schedule_says_which_meal_a_class_is_here_for() -> None:
    lunch = Slot("c1", "2а", Meal.LUNCH, 1, 5, "12:35", "12:55", Window.around(time(12, 35), time(12, 55), Tolerance()))
    schedule = Schedule((SLOT, lunch))
    assert schedule.meal_at("c1", time(9, 35)) is Meal.BREAKFAST  # inside breakfast's window
    assert schedule.meal_at("c1", time(12, 0)) is Meal.LUNCH  # nearest: lunch starts at 12:25
    assert schedule.meal_at("c2", time(9, 35)) is None
    assert schedule.slot("c1", Meal.LUNCH) == lunch
