"""Serving at the window on a real SQLite store: every verdict, corrections, and the journal."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from drivers.card import CardRead
from pos.decide import Outcome, Reason
from pos.domain import Meal
from pos.models import Event, Outbox, Served, Student
from pos.policy import shipped_policies
from pos.queries import current_break
from tests.pos.school import DAY, TZ, School, at, make_school

CARD = "EM:55007EE424"


@pytest.fixture
def school(tmp_path: Path) -> School:
    s = make_school(tmp_path)
    s.add_class("c1", "1а", 1, slots={Meal.BREAKFAST: (1, 1)})
    s.add_class("c5", "5а", 5, slots={Meal.BREAKFAST: (1, 2), Meal.LUNCH: (1, 5)})
    return s


def tap(school: School, uid: str = CARD, hh: int = 8, mm: int = 45, meal: Meal | None = None,
        day: date = DAY) -> object:
    return school.counter().tap(CardRead(uid), now=at(hh, mm, day), meal=meal)


def events(school: School) -> list[Event]:
    with school.engine.connect() as conn:
        return list(conn.execute(select(Event).order_by(Event.seq)).all())


def balance(school: School, student_id: str) -> int:
    with school.engine.connect() as conn:
        return int(conn.execute(select(Student.balance_kopecks).where(Student.id == student_id)).scalar_one())


def test_first_grader_gets_free_breakfast_recorded_in_journal_and_outbox(school: School) -> None:
    school.add_student("s1", "c1", card=CARD)
    v = school.counter().tap(CardRead(CARD), now=at(8, 45))
    assert (v.outcome, v.meal, v.free_kopecks) == (Outcome.SERVE_FREE, Meal.BREAKFAST, 4858)
    assert v.budget_line == "01100L3040"
    assert v.headline == "ВЫДАТЬ" and v.student and v.student.class_name == "1а"
    [event] = events(school)
    assert (event.id, event.kind, event.seq) == (v.event_id, "serve", 1)
    assert (event.local_date, event.terminal_id) == (DAY, "T-TEST")
    assert event.at_utc == at(8, 45).replace(tzinfo=None)
    with school.engine.connect() as conn:
        assert conn.execute(select(Outbox.event_id)).scalars().all() == [v.event_id]


def test_second_breakfast_same_day_is_refused_with_the_time_of_the_first(school: School) -> None:
    school.add_student("s1", "c1", card=CARD)
    counter = school.counter()
    counter.tap(CardRead(CARD), now=at(8, 41))
    v = counter.tap(CardRead(CARD), now=at(8, 50))
    assert (v.outcome, v.reason) == (Outcome.REFUSE, Reason.ALREADY_SERVED)
    assert v.message == "Завтрак уже выдан в 08:41"
    assert [e.kind for e in events(school)] == ["serve", "refuse"]


def test_two_taps_within_the_debounce_window_are_one_tap(school: School) -> None:
    school.add_student("s1", "c1", card=CARD)
    counter = school.counter()
    first = counter.tap(CardRead(CARD), now=at(8, 45))
    again = counter.tap(CardRead(CARD), now=at(8, 45) + timedelta(seconds=1.5))
    assert again == first
    assert len(events(school)) == 1


def test_a_tap_after_switching_meal_is_a_new_decision_not_the_debounced_one(school: School) -> None:
    school.add_student("s1", "c1", card=CARD, orders=(Meal.BREAKFAST,))
    counter = school.counter()
    assert counter.tap(CardRead(CARD), now=at(8, 45)).meal is Meal.BREAKFAST
    v = counter.tap(CardRead(CARD), now=at(8, 45) + timedelta(seconds=1), meal=Meal.LUNCH)
    assert (v.meal, v.reason) == (Meal.LUNCH, Reason.NOT_ORDERED)


def test_unknown_card_is_refused_and_journaled_without_student(school: School) -> None:
    v = tap(school, "EM:0000000001")
    assert (v.outcome, v.reason, v.message) == (Outcome.REFUSE, Reason.UNKNOWN_CARD, "Карта не зарегистрирована")
    [event] = events(school)
    assert (event.card_uid, event.student_id, event.reason) == ("EM:0000000001", None, "unknown_card")


def test_garbled_read_is_refused_and_not_journaled(school: School) -> None:
    v = school.counter().tap_text("Em-Mar\x00ine[55", now=at(8, 45))
    assert v.reason is Reason.BAD_CARD_READ and "не распознан" in v.message
    assert events(school) == []


def test_blocked_card_is_refused_with_its_reason(school: School) -> None:
    school.add_student("s1", "c1", card=CARD, blocked=True)
    v = tap(school)
    assert (v.reason, v.message) == (Reason.BLOCKED_CARD, "Карта заблокирована: утеряна")
    [event] = events(school)
    assert (event.student_id, event.meal) == ("s1", None)  # no meal is made up for a card that is not served


def test_card_read_as_w26_or_decimal_matches_the_em_marine_card(school: School) -> None:
    school.add_student("s1", "c1", card=CARD)
    counter = school.counter()
    assert counter.tap_text("126,58404", now=at(8, 45)).student.id == "s1"  # type: ignore[union-attr]
    assert counter.tap_text("0008315940", now=at(8, 50)).reason is Reason.ALREADY_SERVED


def test_weak_card_number_shared_by_two_students_is_ambiguous_not_guessed(school: School) -> None:
    school.add_student("s1", "c1", card="EM:55007EE424")
    school.add_student("s2", "c1", card="EM:17007EE424")  # same low 32 bits
    v = school.counter().tap_text("0008315940", now=at(8, 45))
    assert v.reason is Reason.AMBIGUOUS_CARD and v.student is None


def test_unregistered_em_card_sharing_low_bits_with_another_em_card_is_unknown(school: School) -> None:
    school.add_student("s1", "c1", card="EM:01AABBCCDD", balance=50000)
    counter = school.counter()
    assert counter.tap(CardRead("EM:02AABBCCDD"), now=at(8, 45)).reason is Reason.UNKNOWN_CARD
    assert counter.tap(CardRead("EM:0100BBCCDD"), now=at(8, 46)).reason is Reason.UNKNOWN_CARD


def test_card_registered_by_its_printed_number_matches_a_full_read(school: School) -> None:
    school.add_student("s1", "c1", card="W26:126,58404")
    school.add_student("s2", "c1", card="D10:0000612671")
    counter = school.counter()
    assert counter.tap(CardRead("EM:55007EE424"), now=at(8, 45)).student.id == "s1"  # type: ignore[union-attr]
    assert counter.tap(CardRead("EM:170009593F"), now=at(8, 46)).student.id == "s2"  # type: ignore[union-attr]


def test_student_removed_from_roster_is_refused(school: School) -> None:
    school.add_student("s1", "c1", card=CARD)
    with school.engine.begin() as conn:
        conn.execute(Student.__table__.update().values(active=False))
    assert tap(school).reason is Reason.NOT_ON_ROSTER


def test_meal_not_ordered_today_is_refused(school: School) -> None:
    school.add_student("s1", "c1", card=CARD, orders=())
    v = tap(school)
    assert (v.reason, v.message) == (Reason.NOT_ORDERED, "Нет заявки на завтрак")


def test_order_on_a_holiday_or_sunday_is_not_served(school: School) -> None:
    holiday, sunday = date(2026, 11, 4), date(2026, 11, 22)
    school.add_student("s1", "c1", card=CARD, orders=(Meal.BREAKFAST,), day=holiday)
    school.add_student("s2", "c1", card="EM:0000000002", orders=(Meal.BREAKFAST,), day=sunday)
    v = tap(school, day=holiday)
    assert (v.reason, v.message) == (Reason.NOT_SCHOOL_DAY, "04.11.2026 — не учебный день: День народного единства")
    assert tap(school, "EM:0000000002", day=sunday).reason is Reason.NOT_SCHOOL_DAY


def test_paying_student_is_debited_and_sees_the_new_balance(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=20000)
    v = tap(school, hh=9, mm=45)
    assert (v.outcome, v.paid_kopecks, v.balance_after_kopecks) == (Outcome.SERVE_PAID, 7500, 12500)
    assert v.message == "Платно: завтрак 75,00 ₽"
    assert balance(school, "s5") == 12500


def test_balance_too_low_is_refused_with_both_amounts(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=7000)
    v = tap(school, hh=9, mm=45)
    assert (v.reason, v.message) == (Reason.LOW_BALANCE, "Недостаточно средств: на счёте 70,00 ₽, нужно 75,00 ₽")
    assert balance(school, "s5") == 7000


def test_parents_daily_limit_is_kept(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=100000, limit=15000,
                       orders=(Meal.BREAKFAST, Meal.LUNCH))
    assert tap(school, hh=9, mm=45).outcome is Outcome.SERVE_PAID
    v = tap(school, hh=12, mm=40)
    assert v.reason is Reason.DAILY_LIMIT
    assert v.message == "Превышен дневной лимит родителей 150,00 ₽ (сегодня уже 75,00 ₽)"


def test_outside_the_class_window_is_a_warning_by_default(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), categories=("low_income",))
    v = tap(school, hh=8, mm=45, meal=Meal.BREAKFAST)
    assert v.outcome is Outcome.SERVE_FREE
    assert v.warnings == ("Не время класса 5а: завтрак на 2-й перемене I смены 09:40–10:00",)


def test_outside_the_class_window_is_refused_where_the_school_says_so(tmp_path: Path) -> None:
    school = make_school(tmp_path, refuse_outside_window="1")
    school.add_class("c5", "5а", 5, slots={Meal.BREAKFAST: (1, 2)})
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), categories=("low_income",))
    assert tap(school, hh=8, mm=45).reason is Reason.OUTSIDE_WINDOW
    assert tap(school, hh=9, mm=45).outcome is Outcome.SERVE_FREE  # debounce is by time, this is an hour later


def test_the_board_and_the_verdict_read_one_serving_window(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), categories=("low_income",))
    counter = school.counter()
    for hh, mm in [(9, 29), (9, 30), (10, 10), (10, 11)]:
        board = current_break(counter.schedule, at(hh, mm).astimezone(TZ), meal=Meal.BREAKFAST)
        v = counter.tap(CardRead(CARD), now=at(hh, mm), meal=Meal.BREAKFAST)
        assert board is not None and board.number == 2
        assert board.in_window == (not v.warnings), (hh, mm)
        if v.served:
            counter.undo_last(now=at(hh, mm))


def test_meal_is_taken_from_the_class_schedule(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), categories=("ovz",),
                       orders=(Meal.BREAKFAST, Meal.LUNCH))
    assert tap(school, hh=9, mm=50).meal is Meal.BREAKFAST
    assert tap(school, hh=12, mm=40).meal is Meal.LUNCH


def test_expired_entitlement_pays_from_the_account_with_a_warning(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=10000, categories=("low_income",),
                       ends=date(2026, 11, 15))
    v = tap(school, hh=9, mm=45)
    assert v.outcome is Outcome.SERVE_PAID
    assert v.warnings == ("Льгота закончилась 15.11.2026",)


def test_expired_entitlement_without_money_is_refused_as_expired(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), categories=("low_income",),
                       ends=date(2026, 11, 15))
    v = tap(school, hh=9, mm=45)
    assert v.reason is Reason.ENTITLEMENT_EXPIRED
    assert "Льгота закончилась 15.11.2026" in v.warnings


def test_entitlement_not_started_yet_is_refused_as_such(school: School) -> None:
    # The director's order of 23.11 takes effect the next day.
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), categories=("large_family",),
                       starts=date(2026, 11, 24))
    v = tap(school, hh=9, mm=45)
    assert v.reason is Reason.ENTITLEMENT_NOT_STARTED
    assert v.warnings == ("Льгота начнётся с 24.11.2026",)


def test_student_without_birth_date_is_refused_where_the_price_depends_on_age(school: School) -> None:
    school.add_student("s1", "c1", card=CARD, birth=None)
    v = tap(school)
    assert v.reason is Reason.NO_BIRTH_DATE
    assert "нет даты рождения" in v.message
    assert events(school)[0].reason == "no_birth_date"


def test_no_menu_price_for_a_paying_student_is_refused(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=50000, orders=(Meal.SNACK,))
    assert tap(school, hh=9, mm=45, meal=Meal.SNACK).reason is Reason.NO_PRICE


def test_override_serves_a_refusal_with_the_reason_and_no_debit(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=100, orders=())
    counter = school.counter()
    refused = counter.tap(CardRead(CARD), now=at(9, 45))
    v = counter.override(refused, reason="заявку не подали по ошибке", staff="Петрова", now=at(9, 46))
    assert (v.outcome, v.reason, v.paid_kopecks, v.free_kopecks) == (Outcome.SERVE_FREE, Reason.OVERRIDE, 0, 0)
    kinds = [(e.kind, e.ref_event_id, e.note, e.staff) for e in events(school)]
    assert kinds == [("refuse", None, "", ""), ("override", refused.event_id, "заявку не подали по ошибке", "Петрова")]
    assert counter.tap(CardRead(CARD), now=at(9, 50)).reason is Reason.ALREADY_SERVED
    assert balance(school, "s5") == 100


def test_a_refusal_is_overridden_once(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), orders=())
    counter = school.counter()
    refused = counter.tap(CardRead(CARD), now=at(9, 45))
    assert counter.override(refused, reason="ошибка в заявке", now=at(9, 46)).served
    again = counter.override(refused, reason="ещё раз", now=at(9, 47))
    assert not again.served and again.message == "Этот отказ уже отменён решением сотрудника"
    assert [e.kind for e in events(school)] == ["refuse", "override"]


def test_override_needs_a_reason(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), orders=())
    counter = school.counter()
    refused = counter.tap(CardRead(CARD), now=at(9, 45))
    assert not counter.override(refused, reason="  ", now=at(9, 46)).served
    assert len(events(school)) == 1


def test_undo_reverses_the_last_serve_refunds_and_allows_serving_again(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=20000)
    counter = school.counter()
    served = counter.tap(CardRead(CARD), now=at(9, 45))
    undone = counter.undo_last(staff="Петрова", reason="ошиблась учеником", now=at(9, 46))
    assert undone.reason is Reason.REVERSAL and undone.balance_after_kopecks == 20000
    assert undone.message == "Отменена выдача: завтрак в 09:45"
    assert balance(school, "s5") == 20000
    journal = events(school)
    assert [(e.kind, e.ref_event_id) for e in journal] == [("serve", None), ("reversal", served.event_id)]
    assert counter.tap(CardRead(CARD), now=at(9, 50)).outcome is Outcome.SERVE_PAID
    assert counter.undo_last(now=at(9, 51)).reason is Reason.REVERSAL
    assert counter.undo_last(now=at(9, 52)).reason is Reason.NOTHING_TO_UNDO
    assert len(events(school)) == 4


def test_undo_reverses_only_the_serve_the_staff_confirmed(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=20000)
    school.add_student("s1", "c1", card="EM:0000000001")
    counter = school.counter()
    first = counter.tap(CardRead(CARD), now=at(9, 45))
    preview = counter.undoable(now=at(9, 46))
    assert preview is not None and preview.event_id == first.event_id
    counter.tap(CardRead("EM:0000000001"), now=at(9, 46))  # a child taps while the dialog is open
    late = counter.undo_last(now=at(9, 47), expected=preview.event_id)
    assert late.action_refused and "новая выдача" in late.message
    assert [e.kind for e in events(school)] == ["serve", "serve"]  # nothing reversed in its place
    assert counter.undo_last(now=at(9, 47), expected=counter.undoable(now=at(9, 47)).event_id).served is False  # type: ignore[union-attr]
    assert [e.kind for e in events(school)][-1] == "reversal"


def test_undo_is_only_for_the_last_fifteen_minutes_of_today(school: School) -> None:
    school.add_student("s5", "c5", card=CARD, birth=date(2015, 1, 1), balance=20000)
    counter = school.counter()
    served = counter.tap(CardRead(CARD), now=at(9, 45))
    preview = counter.undoable(now=at(9, 50))
    assert preview and preview.event_id == served.event_id and preview.message == "завтрак в 09:45"
    assert preview.student and preview.student.full_name == "Ученик s5"
    assert counter.undoable(now=at(10, 1)) is None
    late = counter.undo_last(now=at(10, 1))
    assert late.reason is Reason.NOTHING_TO_UNDO
    assert late.message == "Нечего отменять: за последние 15 минут выдач не было"
    assert counter.undo_last(now=at(9, 44, DAY + timedelta(days=1))).reason is Reason.NOTHING_TO_UNDO
    assert balance(school, "s5") == 12500


def test_long_staff_name_and_reason_are_cut_to_the_journal_limits(school: School) -> None:
    school.add_student("s1", "c1")
    school.counter().serve_by_hand("s1", reason="причина " * 400, staff="Я" * 300, now=at(8, 45))
    [event] = events(school)
    assert (len(event.staff), len(event.note)) == (100, 2000)


def test_forgotten_card_is_served_by_hand_and_recorded_as_such(school: School) -> None:
    school.add_student("s1", "c1")
    v = school.counter().serve_by_hand("s1", reason="забыл карту", staff="Петрова", now=at(8, 45))
    assert v.outcome is Outcome.SERVE_FREE and "Выдано без карты: забыл карту" in v.warnings
    [event] = events(school)
    assert (event.source, event.card_uid, event.note) == ("manual", None, "забыл карту")


def test_diet_note_travels_with_the_verdict(school: School) -> None:
    school.add_student("s1", "c1", card=CARD, diet="Аллергия: орехи")
    assert tap(school).student.diet_note == "Аллергия: орехи"  # type: ignore[union-attr]


def ryazan_dear_lunch(tmp_path: Path) -> School:
    """Ryazan's rules with a lunch dearer than the example menu, so the day costs more than the cap."""
    text = shipped_policies()["ryazan-2024"].read_text(encoding="utf-8").replace('lunch = "85,22"', 'lunch = "95,00"')
    school = make_school(tmp_path, policy_text=text)
    school.add_class("c6", "6а", 6, slots={Meal.BREAKFAST: (1, 2), Meal.LUNCH: (1, 5)})
    return school


def test_ryazan_cap_makes_the_rest_of_the_day_a_copay(tmp_path: Path) -> None:
    school = ryazan_dear_lunch(tmp_path)
    school.add_student("s6", "c6", card=CARD, balance=5000, categories=("ovz",), orders=(Meal.BREAKFAST, Meal.LUNCH))
    counter = school.counter()
    breakfast = counter.tap(CardRead(CARD), now=at(9, 45))
    assert (breakfast.free_kopecks, breakfast.paid_kopecks) == (5700, 0)
    lunch = counter.tap(CardRead(CARD), now=at(12, 40))
    assert (lunch.outcome, lunch.free_kopecks, lunch.paid_kopecks) == (Outcome.SERVE_FREE, 14222 - 5700, 9500 - 8522)
    assert lunch.balance_after_kopecks == 5000 - 978
    assert "доплата 9,78 ₽ со счёта" in lunch.warnings[0]
    assert balance(school, "s6") == 5000 - 978


def test_entitled_child_who_cannot_pay_the_copay_is_served_and_the_shortfall_flagged(tmp_path: Path) -> None:
    school = ryazan_dear_lunch(tmp_path)
    school.add_student("s6", "c6", card=CARD, balance=0, categories=("ovz",), orders=(Meal.BREAKFAST, Meal.LUNCH))
    counter = school.counter()
    counter.tap(CardRead(CARD), now=at(9, 45))
    lunch = counter.tap(CardRead(CARD), now=at(12, 40))
    assert (lunch.outcome, lunch.free_kopecks, lunch.paid_kopecks) == (Outcome.SERVE_FREE, 8522, 0)
    assert "доплата 9,78 ₽ не списана" in lunch.warnings[0]
    assert events(school)[-1].flags == "copay_unpaid"
    assert balance(school, "s6") == 0


def test_clock_jumping_backwards_is_flagged_and_sequence_stays_monotonic(school: School) -> None:
    school.add_student("s1", "c1", card=CARD)
    school.add_student("s2", "c1", card="EM:0000000002")
    counter = school.counter()
    counter.tap(CardRead(CARD), now=at(8, 50))
    v = counter.tap(CardRead("EM:0000000002"), now=at(8, 41))
    assert v.served and any("Часы терминала ушли назад" in w for w in v.warnings)
    journal = events(school)
    assert [e.seq for e in journal] == [1, 2] and journal[1].flags == "clock_back"


def test_served_state_survives_a_restart(school: School) -> None:
    school.add_student("s1", "c1", card=CARD)
    school.counter().tap(CardRead(CARD), now=at(8, 45))
    school.engine.dispose()
    assert school.counter().tap(CardRead(CARD), now=at(8, 52)).reason is Reason.ALREADY_SERVED
    with school.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Served)).scalar() == 1


def test_a_class_day_off_and_a_day_outside_the_school_year_are_not_served(tmp_path: Path) -> None:
    from sqlalchemy import insert

    from pos.models import ClassDayOff

    school = make_school(tmp_path, year_starts="2026-09-01", year_ends="2026-11-20")
    school.add_class("c1", "1а", 1, slots={Meal.BREAKFAST: (1, 1)})
    school.add_student("s1", "c1", card=CARD, orders=(Meal.BREAKFAST,))
    v = tap(school)
    assert (v.reason, v.message) == (Reason.NOT_SCHOOL_DAY, "23.11.2026 — вне учебного года (01.09.2026–20.11.2026)")
    other = make_school(tmp_path / "b")
    other.add_class("c1", "1а", 1, slots={Meal.BREAKFAST: (1, 1)})
    other.add_class("c2", "1б", 1, slots={Meal.BREAKFAST: (1, 1)})
    other.add_student("s1", "c1", card=CARD, orders=(Meal.BREAKFAST,))
    other.add_student("s2", "c2", card="EM:0000000002", orders=(Meal.BREAKFAST,))
    with other.engine.begin() as conn:
        conn.execute(insert(ClassDayOff).values(class_id="c1", day=DAY, reason="экскурсия"))
    v = tap(other)
    assert (v.reason, v.message) == (Reason.NOT_SCHOOL_DAY, "23.11.2026 — у класса нет занятий: экскурсия")
    assert tap(other, "EM:0000000002").outcome is not Outcome.REFUSE
