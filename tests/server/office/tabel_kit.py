"""A Nazarovo school for the registers (policy nazarovo-2021, both budget lines, both shifts), December 2026.

School «naz» (Asia/Krasnoyarsk, five-day week). December 2026: Tuesday 01.12 … Thursday 31.12; school days
1–4, 7–11, 14–18, 21–25, 28–31 = 4 + 5 + 5 + 5 + 4 = 23.

Students and the meals served (events as the window records them: free_kopecks, budget_line, free_category,
free_rule = "nazarovo-2021#<rule>"):
  1А (grade 1, shift 1)
    a1 (8 y.)          breakfast 01.12, 02.12, 03.12 free 01100L3040 48,58 (rule 1, grade's right);
                       03.12 reversed at the window -> 2 breakfasts, 97,16
    a2 (8 y., ОВЗ)     breakfast + lunch 01.12, 02.12 free 0110075660 48,58 + 72,88 (rule 3); absent 03.12
    a3 (8 y., ОВЗ)     home-schooled: food parcels (tests add them)
    m1 (8 y.)          in 1А until 09.12, in 1Б from 10.12: breakfast 08.12 (1А) and 10.12 (1Б), 01100L3040
  2Б (grade 2, shift 2)
    b1 (8 y.)          lunch 01.12 free 01100L3040 72,88 (rule 2)
    b2 (8 y., ОВЗ)     lunch + snack 01.12 free 0110075660 72,88 + 36,44 (rule 4)
  4А (grade 4, shift 1)
    t1 (born 15.12.2015: 10 y. until 14.12, 11 y. from 15.12)
                       breakfast 14.12 free 01100L3040 48,58 (6-10 years), 15.12 56,49 (11-13 years)
  5А (grade 5, shift 1)
    c1 (12 y., малообеспеченные) breakfast 01.12 free 0110075660 56,49 (rule 7)
    c2 (12 y.)         breakfast 01.12 paid 75,00
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from pos.policy import shipped_policies
from server.accounts import add_school
from server.importer import import_rows
from server.models import Absence, Event, SchoolPolicy, StudentClassSpan

SCHOOL = "naz"
MONTH = date(2026, 12, 1)
L3040, L75660 = "01100L3040", "0110075660"
STUDENTS = [  # id, name, class, shift, birth
    ("a1", "Алексеев Артём", "1а", 1, "2018-03-01"), ("a2", "Белова Алла", "1а", 1, "2018-05-02"),
    ("a3", "Вершинин Антон", "1а", 1, "2018-06-03"), ("m1", "Морозов Марк", "1б", 1, "2018-04-04"),
    ("b1", "Быстров Борис", "2б", 2, "2018-09-10"), ("b2", "Берёзкина Вера", "2б", 2, "2018-01-01"),
    ("t1", "Тихонов Тимур", "4а", 1, "2015-12-15"),
    ("c1", "Сидоров Пётр", "5а", 1, "2014-01-10"), ("c2", "Орлова Мария", "5а", 1, "2014-02-11"),
]
_seq = iter(range(1, 1_000_000))


def event(day: date, student: str, meal: str, *, free: int = 0, paid: int = 0, line: str | None = None,
          category: str = "", rule: str = "", kind: str = "serve", ref: str | None = None,
          school: str = SCHOOL) -> dict[str, Any]:
    seq = next(_seq)
    return {"id": uuid.uuid4().hex, "terminal_id": f"{school}-T1", "school_id": school, "seq": seq, "kind": kind,
            "at_utc": datetime(day.year, day.month, day.day, 1, 40) + timedelta(seconds=seq), "local_date": day,
            "student_id": student, "card_uid": None, "meal": meal,
            "outcome": "reversal" if kind == "reversal" else ("serve_free" if line else "serve_paid"),
            "reason": "ok", "message": "", "paid_kopecks": paid, "free_kopecks": free, "budget_line": line,
            "ref_event_id": ref, "source": "card", "staff": "", "note": "", "flags": "", "server_flags": "",
            "received_at": datetime.now(UTC).replace(tzinfo=None), "rev": seq,
            "free_category": category, "free_rule": f"nazarovo-2021#{rule}" if rule else ""}


def d(day: int) -> date:
    return date(2026, 12, day)


def store(engine: Engine, *events: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Event), list(events))


def build(engine: Engine) -> dict[str, Any]:
    policy = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    with engine.begin() as conn:
        add_school(conn, school_id=SCHOOL, name="МБОУ «СОШ № 3» г. Назарово", timezone="Asia/Krasnoyarsk",
                   policy_text=policy)
        conn.execute(insert(SchoolPolicy).values(school_id=SCHOOL, school_year="2026-2027", policy_text=policy,
                                                 set_by="test", set_at=datetime(2026, 8, 1)))
        import_rows(conn, SCHOOL, "students", [
            {"student_id": s, "full_name": n, "class": c, "shift": sh, "birth_date": b}
            for s, n, c, sh, b in STUDENTS])
        import_rows(conn, SCHOOL, "students", [
            {"student_id": "x1", "full_name": "Ещё Один", "class": "1а", "shift": 1, "birth_date": "2018-01-01"}])
        import_rows(conn, SCHOOL, "benefits", [
            {"student_id": "a2", "category": "ovz", "order_no": "1", "order_date": "2026-08-30"},
            {"student_id": "a3", "category": "ovz", "order_no": "2", "order_date": "2026-08-30"},
            {"student_id": "b2", "category": "ovz", "order_no": "3", "order_date": "2026-08-30"},
            {"student_id": "c1", "category": "low_income", "order_no": "4", "order_date": "2026-08-30"}])
        classes = {s: c for s, _n, c, _sh, _b in STUDENTS}
        classes["m1"] = "1а"
        conn.execute(insert(StudentClassSpan), [
            {"school_id": SCHOOL, "student_id": s, "starts": date(2026, 9, 1), "class_id": c}
            for s, c in classes.items()])
        conn.execute(insert(StudentClassSpan).values(school_id=SCHOOL, student_id="m1", starts=d(10), class_id="1б"))
        conn.execute(insert(Absence).values(school_id=SCHOOL, student_id="a2", day=d(3), reason="болеет"))
    a1_3 = event(d(3), "a1", "breakfast", free=4858, line=L3040, rule="1")
    store(engine,
          event(d(1), "a1", "breakfast", free=4858, line=L3040, rule="1"),
          event(d(2), "a1", "breakfast", free=4858, line=L3040, rule="1"), a1_3,
          event(d(3), "a1", "breakfast", kind="reversal", ref=a1_3["id"], free=-4858, line=L3040),
          *(event(d(n), "a2", meal, free=price, line=L75660, category="ovz", rule="3")
            for n in (1, 2) for meal, price in (("breakfast", 4858), ("lunch", 7288))),
          event(d(8), "m1", "breakfast", free=4858, line=L3040, rule="1"),
          event(d(10), "m1", "breakfast", free=4858, line=L3040, rule="1"),
          event(d(1), "b1", "lunch", free=7288, line=L3040, rule="2"),
          event(d(1), "b2", "lunch", free=7288, line=L75660, category="ovz", rule="4"),
          event(d(1), "b2", "snack", free=3644, line=L75660, category="ovz", rule="4"),
          event(d(14), "t1", "breakfast", free=4858, line=L3040, rule="1"),
          event(d(15), "t1", "breakfast", free=5649, line=L3040, rule="1"),
          event(d(1), "c1", "breakfast", free=5649, line=L75660, category="low_income", rule="7"),
          event(d(1), "c2", "breakfast", paid=7500))
    return {"school_id": SCHOOL, "month": MONTH}
