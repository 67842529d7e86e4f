"""The month's chart data: per school day up to today, meals ordered and meals given (reversals cancel)."""

from __future__ import annotations

import re
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


def test_the_chart_draws_a_bar_per_day_with_dd_mm_labels_heights_in_proportion() -> None:
    from server.web.chart import month_svg

    svg = str(month_svg([DayTotals(date(2026, 3, 2), 10, 5), DayTotals(date(2026, 3, 3), 0, 0)], "март <2026>"))
    assert svg.startswith("<svg") and "март &lt;2026&gt;" in svg and ">02.03<" in svg and ">03.03<" in svg
    bars = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)[2:]  # after the legend
    ordered, served = float(bars[0]), float(bars[1])
    assert ordered > 0 and served == ordered / 2 and bars[2:] == ["0.0", "0.0"]  # 10 and 5; then none
    assert "ещё не было учебных дней" in str(month_svg([], "март"))
