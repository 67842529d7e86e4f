"""Kirovsk primary with milk kept apart (a six-day week, a holiday), and a приказ entered late for the previous
week: the difference against the last export. Figures worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, insert, select

from pos.policy import shipped_policies
from server.accounts import add_school
from server.importer import import_rows
from server.models import Event, Holiday, SchoolPolicy
from server.reports import milk, monthly, tabel
from server.reports.common import Tally
from server.reports.exports import figures_of, record_export, since_last
from tests.server.office.tabel_kit import L75660, MONTH, SCHOOL, build, d, event, store

KIR = "kir"
NOV = date(2026, 11, 1)


def nov(day: int) -> date:
    return date(2026, 11, day)


def kirovsk(engine: Engine) -> None:
    """Kirovsk school, six-day week, 04.11 a holiday. 1а: k1, k2 (grade 1); 5а: k3 (grade 5, no benefit).
    Milk 13,50 on budget line «milk»: k1 02.11, 03.11, 07.11 (Saturday); k2 02.11, 03.11 (reversed), 04.11
    (the holiday); k3 (grade 5) one milk, not primary. Breakfast k1 02.11 free 43,20 (free_meals)."""
    policy = shipped_policies()["kirovsk-2020"].read_text(encoding="utf-8")
    with engine.begin() as conn:
        add_school(conn, school_id=KIR, name="МБОУ «Кировская СОШ № 1»", timezone="Europe/Moscow",
                   policy_text=policy, week_days="1,2,3,4,5,6")
        conn.execute(insert(SchoolPolicy).values(school_id=KIR, school_year="2026-2027", policy_text=policy,
                                                 set_by="test", set_at=datetime(2026, 8, 1)))
        import_rows(conn, KIR, "students", [
            {"student_id": "k1", "full_name": "Иванова Ирина", "class": "1а", "shift": 1, "birth_date": "2019-02-02"},
            {"student_id": "k2", "full_name": "Кузнецов Кирилл", "class": "1а", "shift": 1,
             "birth_date": "2019-03-03"},
            {"student_id": "k3", "full_name": "Лебедев Лев", "class": "5а", "shift": 1, "birth_date": "2015-04-04"}])
        conn.execute(insert(Holiday).values(school_id=KIR, day=nov(4), reason="День народного единства", rev=1))
    k2_3 = event(nov(3), "k2", "milk", free=1350, line="milk", rule="2", school=KIR)
    store(engine, *(event(nov(n), "k1", "milk", free=1350, line="milk", rule="2", school=KIR) for n in (2, 3, 7)),
          event(nov(2), "k2", "milk", free=1350, line="milk", rule="2", school=KIR), k2_3,
          event(nov(3), "k2", "milk", kind="reversal", ref=k2_3["id"], free=-1350, line="milk", school=KIR),
          event(nov(4), "k2", "milk", free=1350, line="milk", rule="2", school=KIR),
          event(nov(2), "k3", "milk", free=1350, line="milk", rule="2", school=KIR),
          event(nov(2), "k1", "breakfast", free=4320, line="free_meals", rule="1", school=KIR))


def test_kirovsk_milk_register_by_hand(engine: Engine) -> None:
    kirovsk(engine)
    with engine.connect() as conn:
        r = milk.build(conn, KIR, NOV)
        t = tabel.build(conn, KIR, NOV, class_id="1а")
    # November 2026, Monday to Saturday: 2–7, 9–14, 16–21, 23–28 (4 × 6) + 30 = 25, less the holiday 04.11 = 24
    # school days; 04.11 is a column too (k2 got milk that day), marked as not a school day.
    assert len(r.days) == 25 and r.other_days == (nov(4),) and nov(7) in r.days and nov(1) not in r.days
    assert [c.class_name for c in r.classes] == ["1А"]  # k3 is in grade 5: not in the milk register
    rows = {x.student_id: x for x in r.classes[0].rows}
    at = {day: i for i, day in enumerate(r.days)}
    assert [rows["k1"].cells[at[nov(n)]] for n in (2, 3, 4, 7)] == ["1", "1", "", "1"]
    assert [rows["k2"].cells[at[nov(n)]] for n in (2, 3, 4)] == ["1", "", "1"]  # 03.11 reversed
    # k1: 3 × 13,50 = 40,50; k2: 2 × 13,50 = 27,00; total 5 milk, 67,50 on «milk».
    codes = [c for c, _ in r.budget_lines]
    assert codes == ["free_meals", "milk"]
    assert rows["k1"].count == 3 and rows["k1"].lines == (Tally(), Tally(3, 4050))
    assert rows["k2"].count == 2 and rows["k2"].lines == (Tally(), Tally(2, 2700))
    assert r.count == 5 and r.lines == (Tally(), Tally(5, 6750))
    assert [r.per_day[at[nov(n)]] for n in (2, 3, 4, 7)] == [2, 1, 1, 1]
    # The табель keeps milk out: k1's 02.11 is the breakfast only (43,20 on free_meals).
    k1 = next(x for g in t.groups for x in g.rows if x.student_id == "k1")
    assert k1.cells[t.days.index(nov(2))] == "З" and k1.totals.free == (Tally(1, 4320), Tally())
    # The tabel's columns in a six-day week: 24 school days (no milk columns there: 04.11 not added).
    assert len(t.days) == 24 and nov(4) not in t.days
    assert "Учебных дней: 24" in "\n".join(r.header)


def test_monthly_report_has_milk_as_a_meal_row_and_the_budget_lines(engine: Engine) -> None:
    kirovsk(engine)
    with engine.connect() as conn:
        r = monthly.build(conn, KIR, NOV)
    got = {(x.meal, x.budget_line): (x.total.count, x.total.kopecks) for x in r.free}
    # milk: k1 3 + k2 2 + k3 1 (the monthly report counts every served milk) = 6 × 13,50 = 81,00
    assert got == {("breakfast", "free_meals"): (1, 4320), ("milk", "milk"): (6, 8100)}
    assert r.by_line == (("free_meals", Tally(1, 4320), Tally()), ("milk", Tally(6, 8100), Tally()))


def test_a_late_order_for_the_previous_week_shows_its_difference_against_the_last_export(engine: Engine) -> None:
    build(engine)
    with engine.begin() as conn:
        t = tabel.build(conn, SCHOOL, MONTH, class_id="5а")
        record_export(conn, "коорд", SCHOOL, "tabel", MONTH, "5а", "xlsx", figures_of(tabel, t))
    # The приказ for c2 (малообеспеченные from 01.12) is entered on 08.12; the window refunds the paid
    # breakfast of 01.12 (a reversal) and records it free: 56,49 on 0110075660 (12 years, rule 7).
    with engine.begin() as conn:
        import_rows(conn, SCHOOL, "benefits", [{"student_id": "c2", "category": "low_income", "order_no": "9",
                                                "order_date": "2026-11-30", "starts": "2026-12-01"}])
        paid = conn.execute(select(Event.id).where(Event.school_id == SCHOOL, Event.student_id == "c2")).scalar_one()
    store(engine, event(d(1), "c2", "breakfast", kind="reversal", ref=paid, paid=-7500),
          event(d(1), "c2", "breakfast", free=5649, line=L75660, category="low_income", rule="7"))
    with engine.connect() as conn:
        t = tabel.build(conn, SCHOOL, MONTH, class_id="5а")
        since = since_last(conn, SCHOOL, "tabel", MONTH, "5а", t)
    assert since is not None and since.export.made_by == "коорд"
    changes = {c.key: (c.before, c.after) for c in since.changes}
    # c2: the breakfast of 01.12 was paid 75,00; now it is free, 56,49 (the cell stays «З»).
    assert "Орлова Мария, 01.12.2026" not in changes
    assert changes["Орлова Мария: платно, ₽"] == (7500, None)
    assert changes["Орлова Мария: бесплатно 0110075660, ₽"] == (None, 5649)
    assert changes["Орлова Мария: категория"] == ("Без бесплатного питания",
                                                 "Малообеспеченные (доход ниже прожиточного минимума), п. 4.3 а")
    # class 0110075660: c1 56,49 -> c1 + c2 = 112,98 (2 meals)
    assert changes["Итого по классу: бесплатно 0110075660, ₽"] == (5649, 11298)
    assert changes["Итого по классу: бесплатно 0110075660, приёмов пищи"] == (1, 2)
    assert "Орлова Мария: бесплатно 0110075660, ₽: было «—», стало «56,49 ₽»" in since.summary()
