"""Two schools for the registers of the request's kinds (request, lists, schedule), figures worked out by hand.

School «naz» — Nazarovo policy (seed 002; its text filed for 2026-2027), SIX-day week, March 2027:
  1 March 2027 is a Monday; Mon–Sat days = 27, less the holiday 08.03 (Monday) = 26 days for grades 5–11;
  class 1а has its Saturdays (6, 13, 20, 27) off, so primary = Mon–Fri 23 less 08.03 = 22 days.
  1а (grade 1, shift 1): p1 (born 01.05.2019, 7 y.) no benefit -> breakfast 48,58 on 01100L3040 (row 2)
                         p2 (born 01.06.2019, ОВЗ)           -> breakfast 48,58 + lunch 72,88 = 121,46 (row 1.4)
  5а (grade 5, shift 1): s1 (born 10.01.2015, 12 y., малообеспеченные) -> breakfast 56,49 (row 1.7); s1's
                         current class is 6б but its class history has it in 5а until 31.03.2027
                         s2 (born 01.02.2015, многодетные by приказ 01-04-77 of 15.03.2027: from 16.03, the
                         application's protocol № 7 of 02.12.2026) -> breakfast 56,49 on 14 days (row 1.6)
                         s3 (born 20.03.2016: 10 y. until 19.03, 11 y. from 20.03; одинокий родитель — no row in
                         приложение 4 -> «1.9*») -> breakfast 48,58 on 16 days, 56,49 on 10 days
                         s4 (born 11.02.2015) pays: no free meal
  6б (grade 6, shift 2): s5 (born 05.05.2014, 12 y., ОВЗ) -> lunch 84,72 + snack 42,36 = 127,08 (row 1.4)
  Breaks: shift 1: 1) 08:40–09:00, 2) 09:45–10:05; shift 2: 1) 13:40–13:55.
  Slots: 1а breakfast 1/1, 5а breakfast 1/2, 6б lunch 2/1, 6б snack 2/1.

School «kir» — Kirovsk policy (seed 004; filed for 2026-2027), five-day week, February 2027:
  Mon–Fri of February 2027 = 20, less the holiday 23.02 = 19 days for every class.
  2а (grade 2): k1, k2 -> breakfast + lunch 108,00 a day (row 2) and milk 13,50 a day (row 3)
  7б (grade 7): k3 ОВЗ -> 108,00 a day (row 1.4); k4 трудная жизненная ситуация -> 108,00 (row 1.8); k5 pays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, delete, insert

from pos.policy import shipped_policies
from server.accounts import add_school
from server.importer import import_rows
from server.models import HISTORY_START, SchoolPolicy, StudentClassSpan
from server.office import benefits
from server.office import calendar as cal

MARCH = date(2027, 3, 1)
FEBRUARY = date(2027, 2, 1)


def policy_text(name: str) -> str:
    text = shipped_policies()[name].read_text(encoding="utf-8")
    for year in ("2021-2022", "2020-2021"):
        text = text.replace(f'school_year = "{year}"', 'school_year = "2026-2027"')
    return text


def _school(conn: Connection, school_id: str, name: str, policy: str, days: int) -> None:
    text = policy_text(policy)
    add_school(conn, school_id=school_id, name=name, timezone="Asia/Krasnoyarsk", policy_text=text)
    cal.set_settings(conn, "завуч", school_id, year_starts=date(2026, 9, 1), year_ends=date(2027, 5, 31),
                     days_per_week=days)
    conn.execute(delete(SchoolPolicy).where(SchoolPolicy.school_id == school_id))
    conn.execute(insert(SchoolPolicy).values(school_id=school_id, school_year="2026-2027", policy_text=text,
                                             set_by="test", set_at=datetime.now(UTC).replace(tzinfo=None)))


def nazarovo(engine: Engine) -> None:
    with engine.begin() as conn:
        _school(conn, "naz", "МБОУ «СОШ № 3»", "nazarovo-2021", 6)
        import_rows(conn, "naz", "students", [
            {"student_id": s, "full_name": n, "class": c, "shift": sh, "birth_date": b} for s, n, c, sh, b in (
                ("p1", "Алексеев Артём", "1а", 1, "2019-05-01"), ("p2", "Белова Алла", "1а", 1, "2019-06-01"),
                ("s2", "Гусев Глеб", "5а", 1, "2015-02-01"), ("s3", "Дьякова Дина", "5а", 1, "2016-03-20"),
                ("s4", "Ершов Егор", "5а", 1, "2015-02-11"), ("s5", "Жукова Жанна", "6б", 2, "2014-05-05"),
                ("s1", "Борисов Борис", "6б", 2, "2015-01-10"))])
        import_rows(conn, "naz", "benefits", [
            {"student_id": "p2", "category": "ovz", "order_no": "01-04-10", "order_date": "2026-09-01"},
            {"student_id": "s1", "category": "low_income", "order_no": "01-04-11", "order_date": "2026-09-01"},
            {"student_id": "s3", "category": "single_parent", "order_no": "01-04-12", "order_date": "2026-09-01"},
            {"student_id": "s5", "category": "ovz", "order_no": "01-04-13", "order_date": "2026-09-01"}])
        conn.execute(delete(StudentClassSpan).where(StudentClassSpan.school_id == "naz",
                                                    StudentClassSpan.student_id == "s1"))
        conn.execute(insert(StudentClassSpan), [
            {"school_id": "naz", "student_id": "s1", "starts": HISTORY_START, "class_id": "5а"},
            {"school_id": "naz", "student_id": "s1", "starts": date(2027, 4, 1), "class_id": "6б"}])
        cal.add_holidays(conn, "завуч", "naz", date(2027, 3, 8), date(2027, 3, 8), "Международный женский день")
        for saturday in (6, 13, 20, 27):
            cal.add_days_off(conn, "завуч", "naz", "1а", date(2027, 3, saturday), date(2027, 3, saturday),
                             "пятидневная неделя начальной школы")
        import_rows(conn, "naz", "breaks", [
            {"shift": 1, "number": 1, "starts": "08:40", "ends": "09:00"},
            {"shift": 1, "number": 2, "starts": "09:45", "ends": "10:05"},
            {"shift": 2, "number": 1, "starts": "13:40", "ends": "13:55"}])
        import_rows(conn, "naz", "meal_slots", [
            {"class": "1а", "meal": "breakfast", "shift": 1, "break_no": 1},
            {"class": "5а", "meal": "breakfast", "shift": 1, "break_no": 2},
            {"class": "6б", "meal": "lunch", "shift": 2, "break_no": 1},
            {"class": "6б", "meal": "snack", "shift": 2, "break_no": 1}])
        app_id = benefits.register(conn, "секретарь", "naz", student_id="s2", category="large_family",
                                   registered_on=date(2026, 12, 1), applicant="Гусева Галина",
                                   received=[1, 2, 3, 4, 5])
        benefits.decide(conn, "комиссия", "naz", app_id, granted=True, decided_on=date(2026, 12, 2), protocol_no="7")
        benefits.record_order(conn, "директор", "naz", app_id, order_no="01-04-77", order_date=date(2027, 3, 15))


def kirovsk(engine: Engine) -> None:
    with engine.begin() as conn:
        _school(conn, "kir", "МОУ «Кировская СОШ № 1»", "kirovsk-2020", 5)
        import_rows(conn, "kir", "students", [
            {"student_id": s, "full_name": n, "class": c, "shift": 1, "birth_date": b} for s, n, c, b in (
                ("k1", "Ильин Илья", "2а", "2018-04-04"), ("k2", "Карпова Карина", "2а", "2018-05-05"),
                ("k3", "Лебедев Лев", "7б", "2013-06-06"), ("k4", "Миронова Мила", "7б", "2013-07-07"),
                ("k5", "Носов Никита", "7б", "2013-08-08"))])
        import_rows(conn, "kir", "benefits", [
            {"student_id": "k3", "category": "ovz", "order_no": "5", "order_date": "2026-09-01"},
            {"student_id": "k4", "category": "hard_life", "order_no": "6", "order_date": "2026-09-01"}])
        cal.add_holidays(conn, "завуч", "kir", date(2027, 2, 23), date(2027, 2, 23), "День защитника Отечества")
