"""A small school for the kitchen's order, with the sums worked out by hand (Nazarovo policy, 2021).

School «kit» (Asia/Krasnoyarsk, five-day week). The day is Friday 04.12.2026; its order locks on
Thursday 03.12.2026 at 10:00 school time (03:00 UTC).

  1а (grade 1, shift 1): breakfast at 1st break 08:40, lunch at 3rd break 11:40
    a1 (8 y.)            breakfast            — free, 01100L3040, 48,58
    a2 (8 y., ОВЗ)        breakfast + lunch    — free, 0110075660, 48,58 + 72,88
    a3                   marked absent        — nothing
    a4 (8 y.)            breakfast + lunch    — breakfast free 01100L3040 48,58; lunch paid, menu 110,00
                                              (lunch removed by the coordinator after the deadline)
  5а (grade 5, shift 1): breakfast at 1st break
    c1 (12 y., малообеспеченные)  breakfast   — free, 0110075660, 56,49
    c2 (12 y.)                    breakfast   — paid, menu 75,00
    c3 (12 y., benefit ended 30.11) breakfast — paid, menu 75,00
  2б (grade 2, shift 2): lunch at 1st break 13:40, no snack slot
    b1 (8 y.)            lunch                — free, 01100L3040, 72,88
    b2 (8 y., ОВЗ)        lunch + snack        — free, 0110075660, 72,88 + 36,44 (snack: «вне расписания»)
  6в (grade 6, shift 2): lunch at 1st break 13:40, snack at 2nd break 15:40
    d1 (13 y., ОВЗ)       lunch + snack        — free, 0110075660, 84,72 + 42,36
    d2 (13 y.)           lunch                — paid, menu 110,00 (+ snack added after the sending:
                                              no menu price, priced by the policy, 42,36)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert

from pos.policy import shipped_policies
from server.accounts import add_school
from server.db import take_revs
from server.importer import import_rows
from server.models import Absence, ClassOrder, KitchenSending, Order, OrderChange

SCHOOL = "kit"
DAY = date(2026, 12, 4)
TZ = ZoneInfo("Asia/Krasnoyarsk")
L3040, L75660 = "01100L3040", "0110075660"
BEFORE_DEADLINE = datetime(2026, 12, 3, 9, 0, tzinfo=TZ)
AFTER_DEADLINE = datetime(2026, 12, 3, 15, 0, tzinfo=TZ)

STUDENTS = [  # id, name, class, shift, birth
    ("a1", "Алексеев Артём", "1а", 1, "2018-03-01"), ("a2", "Белова Алла", "1а", 1, "2018-05-02"),
    ("a3", "Вершинин Антон", "1а", 1, "2018-06-03"), ("a4", "Галкина Ася", "1а", 1, "2018-07-04"),
    ("c1", "Сидоров Пётр", "5а", 1, "2014-01-10"), ("c2", "Орлова Мария", "5а", 1, "2014-02-11"),
    ("c3", "Козлов Егор", "5а", 1, "2014-03-12"),
    ("b1", "Быстров Борис", "2б", 2, "2018-09-10"), ("b2", "Берёзкина Вера", "2б", 2, "2018-01-01"),
    ("d1", "Дронов Денис", "6в", 2, "2013-05-05"), ("d2", "Дёмина Дарья", "6в", 2, "2013-06-06"),
]
# What the Order table holds now (after the amendments: a4's lunch removed, d2's snack added).
ORDERS_NOW = [("a1", "breakfast"), ("a2", "breakfast"), ("a2", "lunch"), ("a4", "breakfast"),
              ("c1", "breakfast"), ("c2", "breakfast"), ("c3", "breakfast"),
              ("b1", "lunch"), ("b2", "lunch"), ("b2", "snack"),
              ("d1", "lunch"), ("d1", "snack"), ("d2", "lunch"), ("d2", "snack")]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def build(engine: Engine, *, amended: bool = True, sent_at: datetime | None = None) -> dict[str, Any]:
    """The school and its orders for DAY; `amended`: with the two changes after the deadline (else the
    Order rows stand as at the deadline); `sent_at` (school time): the order was sent to the kitchen then."""
    policy = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    with engine.begin() as conn:
        add_school(conn, school_id=SCHOOL, name="МБОУ «СОШ № 3»", timezone="Asia/Krasnoyarsk", policy_text=policy)
        import_rows(conn, SCHOOL, "students", [
            {"student_id": s, "full_name": n, "class": c, "shift": sh, "birth_date": b}
            for s, n, c, sh, b in STUDENTS])
        import_rows(conn, SCHOOL, "benefits", [
            {"student_id": "a2", "category": "ovz", "order_no": "1", "order_date": "2026-08-30"},
            {"student_id": "b2", "category": "ovz", "order_no": "2", "order_date": "2026-08-30"},
            {"student_id": "d1", "category": "ovz", "order_no": "3", "order_date": "2026-08-30"},
            {"student_id": "c1", "category": "low_income", "order_no": "4", "order_date": "2026-08-30"},
            {"student_id": "c3", "category": "low_income", "order_no": "5", "order_date": "2026-08-30",
             "ends": "2026-11-30"}])
        import_rows(conn, SCHOOL, "prices", [
            {"day": DAY.isoformat(), "meal": "breakfast", "price": "75,00"},
            {"day": DAY.isoformat(), "meal": "lunch", "price": "110,00"}], today=date(2026, 12, 3))
        import_rows(conn, SCHOOL, "breaks", [
            {"shift": 1, "number": 1, "starts": "08:40", "ends": "09:00"},
            {"shift": 1, "number": 3, "starts": "11:40", "ends": "12:00"},
            {"shift": 2, "number": 1, "starts": "13:40", "ends": "14:00"},
            {"shift": 2, "number": 2, "starts": "15:40", "ends": "16:00"}])
        import_rows(conn, SCHOOL, "meal_slots", [
            {"class": "1а", "meal": "breakfast", "shift": 1, "break_no": 1},
            {"class": "1а", "meal": "lunch", "shift": 1, "break_no": 3},
            {"class": "5а", "meal": "breakfast", "shift": 1, "break_no": 1},
            {"class": "2б", "meal": "lunch", "shift": 2, "break_no": 1},
            {"class": "6в", "meal": "lunch", "shift": 2, "break_no": 1},
            {"class": "6в", "meal": "snack", "shift": 2, "break_no": 2}])
        rev = take_revs(conn, SCHOOL)
        orders = list(ORDERS_NOW)
        if not amended:
            orders = [o for o in orders if o != ("d2", "snack")] + [("a4", "lunch")]
        conn.execute(insert(Order), [{"school_id": SCHOOL, "student_id": s, "day": DAY, "meal": m, "rev": rev}
                                     for s, m in orders])
        conn.execute(insert(Absence), [{"school_id": SCHOOL, "student_id": "a3", "day": DAY, "reason": "болеет"}])
        conn.execute(insert(ClassOrder), [{"school_id": SCHOOL, "class_id": c, "day": DAY, "submitted_by": "учитель",
                                           "submitted_at": utc(BEFORE_DEADLINE)} for c in ("1а", "5а", "2б", "6в")])
        changes = [  # before the deadline: the teacher's own, neither listed nor undone
            {"class_id": "1а", "student_id": "a3", "meal": "", "action": "absent", "actor": "учитель",
             "at": utc(BEFORE_DEADLINE), "reason": "болеет"},
            {"class_id": "1а", "student_id": "a1", "meal": "breakfast", "action": "add", "actor": "учитель",
             "at": utc(BEFORE_DEADLINE)}]
        if amended:
            changes += [
                {"class_id": "1а", "student_id": "a4", "meal": "lunch", "action": "remove", "actor": "коорд",
                 "at": utc(datetime(2026, 12, 3, 11, 0, tzinfo=TZ)), "reason": "уезжает на соревнования",
                 "late": True},
                {"class_id": "6в", "student_id": "d2", "meal": "snack", "action": "add", "actor": "коорд",
                 "at": utc(datetime(2026, 12, 3, 13, 0, tzinfo=TZ)), "reason": "остаётся на продлёнку",
                 "late": True}]
        conn.execute(insert(OrderChange), [{"school_id": SCHOOL, "day": DAY, "reason": "", "late": False,
                                            "after_sent": False, **c} for c in changes])
        if sent_at is not None:
            conn.execute(insert(KitchenSending).values(school_id=SCHOOL, day=DAY, sent_by="коорд",
                                                       sent_at=utc(sent_at)))
    return {"school_id": SCHOOL, "day": DAY}
