"""The month's chart data: per school day up to today, meals ordered and meals given (reversals cancel)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine

from server.importer import import_rows
from server.office.today import DayTotals, month
from tests.server.kit import seed_school
from tests.server.office.test_today import _store, event

DAY = date(2026, 3, 10)


def test_the_month_counts_orders_and_meals_given_per_school_day_up_to_today(engine: Engine) -> None:
    seed_school(engine, day=DAY)  # orders for DAY and the next day: five students each
    with engine.begin() as conn:
        import_rows(conn, "sch1", "holidays", [{"day": date(2026, 3, 8), "reason": "8 Марта"}])
    s2 = event(2, DAY, "s2")
    _store(engine, event(1, DAY, "s1"), s2, event(3, DAY, "s5"), event(4, date(2026, 3, 2), "s1"),
           # a reversal made two days later still cancels s2's serve of DAY
           event(5, DAY + timedelta(days=2), "s2", "reversal", ref_event_id=s2["id"], outcome="reversal",
                 free_kopecks=-4858),
           event(6, date(2026, 2, 27), "s1"), event(7, DAY + timedelta(days=1), "s1"))
    with engine.connect() as conn:
        got = month(conn, "sch1", DAY)
    assert [d.day.day for d in got] == [1, 2, 3, 4, 5, 6, 7, 9, 10]  # the 8th is a holiday; no day after today
    assert got[1] == DayTotals(date(2026, 3, 2), 0, 1)
    assert got[-1] == DayTotals(DAY, 5, 2)  # s1 and s5 given; s2's serve reversed


def test_days_off_are_left_out_unless_meals_were_given(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE schools SET week_days = '1,2,3,4,5' WHERE id = 'sch1'")
    _store(engine, event(1, date(2026, 3, 7), "s1"))  # a Saturday
    with engine.connect() as conn:
        got = [d.day.day for d in month(conn, "sch1", DAY)]
    assert got == [2, 3, 4, 5, 6, 7, 9, 10]
