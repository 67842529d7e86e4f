"""A Ryazan student at the daily cap (seed 003: free hot meals up to 142,22 ₽ a day), from the window's decision
to the табель and the monthly report, worked out by hand.

The school's 2026/27 policy is ryazan-2026 with its canteen's own prices (the policy file says a school sets
them): breakfast 65,00, lunch 95,00 — 160,00 a day, above the cap. Student r1, 9А, ОВЗ (city budget line):
  01.12  breakfast free 65,00; lunch free 77,22 (the cap's rest: 142,22 − 65,00) + 17,78 paid from the account
  02.12  breakfast free 65,00; lunch free 77,22, the 17,78 not paid (empty account: served, flagged)
  03.12  lunch only: free 95,00 (under the cap)
Free on the city line: 65,00 + 77,22 + 65,00 + 77,22 + 95,00 = 379,44 (5 meals); paid from the account 17,78.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert

from pos.decide import Outcome, Situation, decide
from pos.domain import Meal
from pos.facts import StudentView
from pos.ledger import Flag
from pos.policy import parse_policy, shipped_policies
from server.accounts import add_school
from server.importer import import_rows
from server.models import StudentClassSpan
from server.reports import monthly, tabel
from server.reports.common import Tally
from tests.server.office.tabel_kit import MONTH, event, store

SCHOOL = "ryz"
TZ = ZoneInfo("Europe/Moscow")
BIRTH = date(2011, 5, 20)  # 15 years old in December 2026


def _policy_text() -> str:
    text = shipped_policies()["ryazan-2026"].read_text(encoding="utf-8")
    assert 'breakfast = "57,00"' in text and 'lunch = "85,22"' in text
    return text.replace('breakfast = "57,00"', 'breakfast = "65,00"').replace('lunch = "85,22"', 'lunch = "95,00"')


def _served(policy_text: str) -> list[dict[str, Any]]:
    """The events of r1 as the window records them: each verdict from `pos.decide`, the day's free sum so far
    carried from tap to tap as the terminal's store does."""
    policy = parse_policy(policy_text, "policy:ryz")
    events = []
    for day, meals, balance in ((1, (Meal.BREAKFAST, Meal.LUNCH), 50_000), (2, (Meal.BREAKFAST, Meal.LUNCH), 0),
                                (3, (Meal.LUNCH,), 0)):
        used = 0
        for meal in meals:
            student = StudentView("r1", "Рыжова Рита", "9а", 9, 1, BIRTH, "", None, balance)
            v = decide(Situation(now=datetime.combine(date(2026, 12, day), time(9, 0), TZ), policy=policy,
                                 meal=meal, student=student, ordered=True, categories=frozenset({"ovz"}),
                                 free_used_kopecks=used, menu_price_kopecks=9500))
            assert v.outcome is Outcome.SERVE_FREE and v.budget_line == "city" and v.free_category == "ovz"
            used += v.free_kopecks
            balance -= v.paid_kopecks
            e = event(date(2026, 12, day), "r1", meal.value, free=v.free_kopecks, paid=v.paid_kopecks,
                      line=v.budget_line, category="ovz", school=SCHOOL)
            e.update(free_rule=v.free_rule, flags=",".join(v.flags))
            events.append(e)
    return events


def _build(engine: Engine) -> list[dict[str, Any]]:
    text = _policy_text()  # of the 2026-2027 school year: add_school keeps it as that year's policy
    with engine.begin() as conn:
        add_school(conn, school_id=SCHOOL, name="МБОУ «Школа № 44» г. Рязани", timezone="Europe/Moscow",
                   policy_text=text)
        import_rows(conn, SCHOOL, "students", [{"student_id": "r1", "full_name": "Рыжова Рита", "class": "9а",
                                                "shift": 1, "birth_date": BIRTH.isoformat()}])
        import_rows(conn, SCHOOL, "benefits", [{"student_id": "r1", "category": "ovz", "order_no": "12",
                                                "order_date": "2026-08-30"}])
        conn.execute(insert(StudentClassSpan).values(school_id=SCHOOL, student_id="r1", starts=date(2026, 9, 1),
                                                     class_id="9а"))
    events = _served(text)
    store(engine, *events)
    return events


def test_the_window_splits_the_meal_at_the_cap(engine: Engine) -> None:
    events = _build(engine)
    got = [(e["local_date"].day, e["meal"], e["free_kopecks"], e["paid_kopecks"], e["flags"]) for e in events]
    assert got == [(1, "breakfast", 6500, 0, ""), (1, "lunch", 7722, 1778, ""),
                   (2, "breakfast", 6500, 0, ""), (2, "lunch", 7722, 0, Flag.COPAY_UNPAID.value),
                   (3, "lunch", 9500, 0, "")]


def test_tabel_of_a_student_at_the_cap(engine: Engine) -> None:
    _build(engine)
    with engine.connect() as conn:
        t = tabel.build(conn, SCHOOL, MONTH, class_id="9а")
    assert [code for code, _ in t.budget_lines] == ["federal", "city"]
    (group,) = t.groups
    assert group.category == "ovz" and group.title == "Дети с ОВЗ"
    (row,) = group.rows
    assert row.cells[:3] == ("ЗО", "ЗО", "О")
    assert row.totals.days == 3 and row.totals.meals == (2, 3, 0)
    # Free on the city line as decided at the window (the cap), the copay as paid, not as a paid meal.
    assert row.totals.free == (Tally(), Tally(5, 37944))
    assert row.totals.paid == Tally(0, 1778)
    assert t.totals.free_total == Tally(5, 37944)


def test_monthly_report_of_a_student_at_the_cap(engine: Engine) -> None:
    _build(engine)
    with engine.connect() as conn:
        r = monthly.build(conn, SCHOOL, MONTH)
    got = {(x.category, x.meal, x.budget_line): (x.total.count, x.total.kopecks) for x in r.free}
    assert got == {("ovz", "breakfast", "city"): (2, 13000), ("ovz", "lunch", "city"): (3, 24944)}
    assert r.copay_kopecks == 1778 and r.paid == ()
    lunch = next(x for x in r.free if x.meal == "lunch")
    assert lunch.per_day[:3] == (1, 1, 1)
