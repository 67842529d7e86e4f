"""The табель of a class for a month and the school's monthly report, worked out by hand from tabel_kit's
table (Nazarovo policy: two budget lines, both shifts)."""

from __future__ import annotations

from sqlalchemy import Engine

from server.reports import monthly, tabel
from server.reports.common import Tally
from tests.server.office.tabel_kit import L3040, L75660, MONTH, SCHOOL, build, d


def rows(t: tabel.Tabel) -> dict[str, tabel.StudentRow]:
    return {r.student_id: r for g in t.groups for r in g.rows}


def cell(t: tabel.Tabel, student: str, day: int) -> str:
    return rows(t)[student].cells[t.days.index(d(day))]


def test_tabel_of_1a_by_hand(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        t = tabel.build(conn, SCHOOL, MONTH, class_id="1а")
    # December 2026, five-day week: 4 + 5 + 5 + 5 + 4 = 23 school days, no other column.
    assert len(t.days) == 23 and t.other_days == () and t.days[0] == d(1) and t.days[-1] == d(31)
    assert [code for code, _ in t.budget_lines] == [L75660, L3040]  # the policy's order
    # Groups: ОВЗ (a2 by its events, a3 by the benefit in force: no meals), then the grade's own right.
    assert [(g.category, [r.student_id for r in g.rows]) for g in t.groups] == [
        ("ovz", ["a2", "a3"]), ("", ["a1", "x1", "m1"])]
    assert t.groups[0].title == "Обучающиеся с ОВЗ, п. 4.5"
    # a1: breakfast 01.12 and 02.12; the one of 03.12 was reversed: 2 × 48,58 = 97,16 on 01100L3040.
    a1 = rows(t)["a1"]
    assert (cell(t, "a1", 1), cell(t, "a1", 2), cell(t, "a1", 3)) == ("З", "З", "")
    assert a1.totals.days == 2 and a1.totals.meals == (2, 0, 0)
    assert a1.totals.free == (Tally(), Tally(2, 9716))
    # a2 (ОВЗ): breakfast + lunch on 01.12 and 02.12, absent 03.12:
    # 2 × 48,58 + 2 × 72,88 = 97,16 + 145,76 = 242,92 on 0110075660.
    a2 = rows(t)["a2"]
    assert (cell(t, "a2", 1), cell(t, "a2", 2), cell(t, "a2", 3)) == ("ЗО", "ЗО", "Н")
    assert a2.totals.meals == (2, 2, 0) and a2.totals.free == (Tally(4, 24292), Tally())
    # m1 moved to 1Б on 10.12: its breakfast of 08.12 is here, the days from 10.12 are «—».
    assert cell(t, "m1", 8) == "З" and cell(t, "m1", 9) == "" and cell(t, "m1", 10) == "—"
    assert rows(t)["m1"].cells.count("—") == 16  # 10, 11, 14–18, 21–25, 28–31
    # Class: 0110075660 4 meals 242,92; 01100L3040 a1 2 + m1 1 = 3 meals, 97,16 + 48,58 = 145,74.
    assert t.totals.free == (Tally(4, 24292), Tally(3, 14574))
    assert t.totals.students == 5 and t.totals.paid == Tally()
    assert t.groups[0].totals.free == (Tally(4, 24292), Tally())


def test_a_student_moving_class_is_in_each_class_for_the_days_there(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        t = tabel.build(conn, SCHOOL, MONTH, class_id="1б")
    # m1 in 1Б from 10.12: the days 1–4, 7–9 are «—» (7 columns), the breakfast of 10.12 is here.
    m1 = rows(t)["m1"]
    assert m1.cells.count("—") == 7 and cell(t, "m1", 10) == "З"
    assert t.totals.free == (Tally(), Tally(1, 4858)) and t.totals.students == 1


def test_turning_11_mid_month_keeps_the_recorded_amounts(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        t = tabel.build(conn, SCHOOL, MONTH, class_id="4а")
    # t1 is 10 on 14.12 (48,58, 6-10 years) and 11 on 15.12 (56,49, 11-13 years): 105,07, as recorded.
    assert (cell(t, "t1", 14), cell(t, "t1", 15)) == ("З", "З")
    assert rows(t)["t1"].totals.free == (Tally(), Tally(2, 10507))


def test_monthly_report_by_hand(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        r = monthly.build(conn, SCHOOL, MONTH)
    got = {(x.category, x.meal, x.budget_line): (x.total.count, x.total.kopecks) for x in r.free}
    assert got == {
        ("low_income", "breakfast", L75660): (1, 5649),  # c1
        ("ovz", "breakfast", L75660): (2, 9716),  # a2 × 2
        ("ovz", "lunch", L75660): (3, 21864),  # a2 × 2 + b2: 3 × 72,88
        ("ovz", "snack", L75660): (1, 3644),  # b2
        ("", "breakfast", L3040): (6, 29939),  # a1 2 + m1 2 + t1 2 (worked out below)
        ("", "lunch", L3040): (1, 7288),  # b1 (2 смена)
    }
    # grade's own right breakfasts: a1 2 × 48,58 + m1 2 × 48,58 + t1 (48,58 + 56,49) = 194,32 + 105,07 = 299,39
    assert r.free[0].title == "Малообеспеченные (доход ниже прожиточного минимума), п. 4.3 а: завтрак"
    assert [(x.meal, x.total) for x in r.paid] == [("breakfast", Tally(1, 7500))]  # c2
    # 0110075660: 56,49 + 97,16 + 218,64 + 36,44 = 408,73 (7 meals); 01100L3040: 299,39 + 72,88 = 372,27 (7)
    assert r.by_line == ((L75660, Tally(7, 40873), Tally()), (L3040, Tally(7, 37227), Tally()))
    assert r.free_total == Tally(14, 78100)
    # ОВЗ lunches per day: 01.12 a2 and b2, 02.12 a2.
    ovz_lunch = next(x for x in r.free if (x.category, x.meal) == ("ovz", "lunch"))
    assert ovz_lunch.per_day[r.days.index(d(1))] == 2 and ovz_lunch.per_day[r.days.index(d(2))] == 1


def test_the_registers_pause_the_cycle_collector_and_always_give_it_back() -> None:
    import gc

    import pytest

    from server.reports.common import without_gc

    seen: list[bool] = []

    @without_gc
    def inner() -> None:
        seen.append(gc.isenabled())

    @without_gc
    def outer(fail: bool) -> None:
        inner()
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("boom")

    assert gc.isenabled()
    outer(False)
    with pytest.raises(ValueError):
        outer(True)
    assert seen == [False, False, False, False] and gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        outer(False)
        assert not gc.isenabled()
    finally:
        gc.enable()
