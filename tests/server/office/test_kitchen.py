"""The kitchen's order: counts and sums per break, meal and day worked out by hand (kitchen_kit's table),
frozen at the deadline with the later amendments listed, and the sending to the kitchen."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, func, select

from server.models import AuditEntry, KitchenSending
from server.office import kitchen
from server.office.changes import NotFound, OfficeError
from server.office.dates import parse_day
from server.office.kitchen import Sums, Tally
from tests.server.office.kitchen_kit import AFTER_DEADLINE, DAY, L3040, L75660, SCHOOL, TZ, build


def line(s: Sums, code: str) -> tuple[int, int]:
    t = s.line(code)
    return t.count, t.kopecks


def rows(counts: kitchen.Counts) -> dict[tuple[str, str, str], Sums]:
    """(meal, break title, class name) -> the class's sums."""
    return {(m.meal, b.title, r.name): r.sums for m in counts.meals for b in m.breaks for r in b.classes}


def test_counts_and_sums_at_the_deadline_by_hand(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        o = kitchen.kitchen_order(conn, SCHOOL, DAY, AFTER_DEADLINE)
    assert o.deadline == datetime(2026, 12, 3, 10, 0, tzinfo=TZ) and o.locked and o.why_not is None
    assert [code for code, _title in o.budget_lines] == [L75660, L3040]
    c = o.at_deadline
    assert [(m.meal, [b.title for b in m.breaks]) for m in c.meals] == [
        ("breakfast", ["1 смена, 1 перемена, 08:40–09:00"]),
        ("lunch", ["1 смена, 3 перемена, 11:40–12:00", "2 смена, 1 перемена, 13:40–14:00"]),
        ("snack", ["2 смена, 2 перемена, 15:40–16:00", "вне расписания"])]
    r = rows(c)
    first = "1 смена, 1 перемена, 08:40–09:00"
    # 1а breakfast: a1, a4 on 01100L3040 (48,58 each), a2 (ОВЗ) on 0110075660; a3 absent.
    assert line(r["breakfast", first, "1А"], L3040) == (2, 9716)
    assert line(r["breakfast", first, "1А"], L75660) == (1, 4858)
    assert r["breakfast", first, "1А"].paid == Tally(0, 0)
    # 5а: c1 free (12 years: 56,49); c2 pays; c3's benefit ended on 30.11: pays the menu's 75,00.
    assert line(r["breakfast", first, "5А"], L75660) == (1, 5649)
    assert r["breakfast", first, "5А"].paid == Tally(2, 15000)
    assert r["breakfast", first, "5А"].total == Tally(3, 20649)
    # a4's lunch stands at the deadline (removed later): paid at the menu's 110,00.
    lunch1 = r["lunch", "1 смена, 3 перемена, 11:40–12:00", "1А"]
    assert line(lunch1, L75660) == (1, 7288) and lunch1.paid == Tally(1, 11000)
    second = "2 смена, 1 перемена, 13:40–14:00"
    assert line(r["lunch", second, "2Б"], L3040) == (1, 7288) and line(r["lunch", second, "2Б"], L75660) == (1, 7288)
    assert line(r["lunch", second, "6В"], L75660) == (1, 8472) and r["lunch", second, "6В"].paid == Tally(1, 11000)
    assert line(r["snack", "2 смена, 2 перемена, 15:40–16:00", "6В"], L75660) == (1, 4236)
    assert r["snack", "2 смена, 2 перемена, 15:40–16:00", "6В"].paid == Tally(0, 0)  # d2's snack came later
    assert line(r["snack", "вне расписания", "2Б"], L75660) == (1, 3644)  # 2б has no snack slot
    # Totals per break, meal and day.
    breakfast, lunch, snack = c.meals
    assert breakfast.breaks[0].sums.total == Tally(6, 35223)
    assert lunch.breaks[1].sums.total == Tally(4, 34048)
    assert line(lunch.sums, L3040) == (1, 7288) and line(lunch.sums, L75660) == (3, 23048)
    assert lunch.sums.paid == Tally(2, 22000) and lunch.sums.total == Tally(6, 52336)
    assert snack.sums.total == Tally(2, 7880)
    assert line(c.sums, L3040) == (3, 17004) and line(c.sums, L75660) == (7, 41435)
    assert c.sums.paid == Tally(4, 37000) and c.sums.total == Tally(14, 95439)
    assert c.sums.copay_kopecks == 0


def test_late_amendments_are_listed_under_the_frozen_order_with_the_counts_of_now(engine: Engine) -> None:
    build(engine, sent_at=datetime(2026, 12, 3, 12, 0, tzinfo=TZ))
    with engine.connect() as conn:
        o = kitchen.kitchen_order(conn, SCHOOL, DAY, AFTER_DEADLINE)
    # Only the two changes after 10:00, in time order; the one after the sending (12:00) is marked.
    assert [(a.at.strftime("%H:%M"), a.actor, a.class_name, a.student_name, a.what, a.reason, a.after_sent)
            for a in o.amendments] == [
        ("11:00", "коорд", "1А", "Галкина Ася", "снято: обед", "уезжает на соревнования", False),
        ("13:00", "коорд", "6В", "Дёмина Дарья", "добавлено: полдник", "остаётся на продлёнку", True)]
    assert o.sending is not None and o.sending.sent_at == datetime(2026, 12, 3, 12, 0, tzinfo=TZ)
    assert o.changed
    now = rows(o.current)
    assert now["lunch", "1 смена, 3 перемена, 11:40–12:00", "1А"].paid == Tally(0, 0)
    # d2's snack: no menu price for a snack that day: counted, with no sum (the window would refuse it «Нет
    # цены» and the class order warns of it too), and a warning
    assert now["snack", "2 смена, 2 перемена, 15:40–16:00", "6В"].paid == Tally(1, 0)
    assert o.current.sums.total == Tally(14, 95439 - 11000)
    assert o.at_deadline.sums.total == Tally(14, 95439)  # the frozen order stays as it was
    assert any("нет цены «полдник»" in w for w in o.warnings)


def test_no_amendment_after_the_sending_when_there_was_no_sending(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        o = kitchen.kitchen_order(conn, SCHOOL, DAY, AFTER_DEADLINE)
    assert [a.after_sent for a in o.amendments] == [False, False] and o.sending is None


def test_an_order_without_late_changes_is_the_same_now_and_at_the_deadline(engine: Engine) -> None:
    build(engine, amended=False)
    with engine.connect() as conn:
        o = kitchen.kitchen_order(conn, SCHOOL, DAY, AFTER_DEADLINE)
    assert not o.changed and o.amendments == () and o.at_deadline.sums.total == Tally(14, 95439)
    assert kitchen.to_json(o)["current"] is None


def test_before_the_deadline_the_order_is_open(engine: Engine) -> None:
    build(engine, amended=False)
    with engine.connect() as conn:
        o = kitchen.kitchen_order(conn, SCHOOL, DAY, datetime(2026, 12, 3, 9, 59, tzinfo=TZ))
    assert not o.locked and "ещё принимаются" in kitchen.header_lines(o)[2]


def test_a_day_off_is_said_and_an_unknown_school_is_not_found(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        o = kitchen.kitchen_order(conn, SCHOOL, date(2026, 12, 6), AFTER_DEADLINE)
        assert o.why_not == "06.12.2026 — выходной день (воскресенье)"
        assert o.at_deadline.sums.total == Tally(0, 0)
        with pytest.raises(NotFound, match="школа nope не найдена"):
            kitchen.kitchen_order(conn, "nope", DAY, AFTER_DEADLINE)


def test_the_next_school_day_skips_the_weekend(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        assert kitchen.next_school_day(conn, SCHOOL, datetime(2026, 12, 4, 11, 0, tzinfo=TZ)) == date(2026, 12, 7)


def sendings(engine: Engine) -> list[tuple[date, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(KitchenSending.day, KitchenSending.sent_by))]  # type: ignore


def test_sending_is_recorded_once_and_a_second_keeps_the_first_time(engine: Engine) -> None:
    build(engine, amended=False)
    with engine.begin() as conn:
        first, new = kitchen.send(conn, "коорд", SCHOOL, DAY, datetime(2026, 12, 3, 10, 30, tzinfo=TZ))
    assert new and first.sent_at == datetime(2026, 12, 3, 10, 30, tzinfo=TZ) and first.sent_by == "коорд"
    with engine.begin() as conn:
        again, new = kitchen.send(conn, "админ", SCHOOL, DAY, datetime(2026, 12, 3, 11, 30, tzinfo=TZ))
    assert not new and again == first
    assert sendings(engine) == [(DAY, "коорд")]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "kitchen_order")).scalar() == 1


@pytest.mark.parametrize(("day", "now", "message"), [
    (date(2026, 12, 5), datetime(2026, 12, 4, 12, 0, tzinfo=TZ), "выходной день (суббота)"),
    (date(2026, 12, 2), datetime(2026, 12, 3, 12, 0, tzinfo=TZ), "02.12.2026 уже прошёл"),
    (DAY, datetime(2026, 12, 3, 9, 59, tzinfo=TZ), "принимаются до 03.12.2026 10:00"),
])
def test_sending_is_refused_for_a_day_off_a_past_day_and_before_the_deadline(
        engine: Engine, day: date, now: datetime, message: str) -> None:
    build(engine, amended=False)
    with engine.begin() as conn, pytest.raises(OfficeError, match=re.escape(message)):
        kitchen.send(conn, "коорд", SCHOOL, day, now)
    assert sendings(engine) == []


@pytest.mark.parametrize("text", ["", "завтра", "2026-13-01", "31.02.2026", "2026-12-04T10:00", "x" * 500])
def test_garbage_dates_are_refused_in_russian(text: str) -> None:
    with pytest.raises(OfficeError, match="дат"):
        parse_day(text)


def test_dates_in_both_forms_are_read() -> None:
    assert parse_day("2026-12-04") == parse_day(" 04.12.2026 ") == DAY
