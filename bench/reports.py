"""Registers benchmark (issue 12): one school-month on PostgreSQL — 2,000 students, 22 school days, about 90,000
meal events — the табель of every class and the school's monthly report, against a floor measured in the same
run: one hand-written aggregate query over the same rows (served meals not reversed, GROUP BY student, day,
meal), fetched whole. Then the same with twice the rows (4,000 students).

Run: ``.venv/bin/python bench/reports.py [--students 2000] [--n 5]``. Prints one JSON line per measurement
and a summary line. ``--region [--schools 300]``: the region month instead — 300 schools × 1,000 students
(one built school copied inside the database, ~13 million events), every school's табели and monthly report
one school at a time against one aggregate query over the region's rows fetched as a stream; the process's
peak memory (goal < 500 MB). Goals: registers / floor ≤ 1.5; twice the rows ≤ 2.2× the time.
Measured: `all_tabels_and_monthly` = one read of the month (`load_month`) and every class's табель and the
monthly report computed from it (what the «Отчёты» list and a month's export run do); `monthly` = the monthly report
alone (its own read of the month); `one_tabel` = a single class's табель as its page builds it (reads that
class's rows only), against the same aggregate over that class's rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pos.domain import Meal, age_on  # noqa: E402
from pos.policy import EligibilityError, parse_policy, shipped_policies  # noqa: E402
from server.accounts import add_school  # noqa: E402
from server.db import make_server_engine  # noqa: E402
from server.importer import class_id_of, import_rows  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Event, Holiday, SchoolPolicy, StudentClassSpan  # noqa: E402
from server.reports import monthly, tabel  # noqa: E402
from server.reports.common import load_month  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/"
SCHOOL = "bench-reports"
MONTH = date(2026, 12, 1)  # 23 weekdays, less the holiday of 31.12: 22 school days
LETTERS = "абвгдеж"
SECOND_SHIFT = "деж"
MEALS = {1: (Meal.BREAKFAST, Meal.LUNCH), 2: (Meal.LUNCH, Meal.SNACK)}

FLOOR_SQL = text("""
SELECT e.student_id, e.local_date, e.meal, count(*), sum(e.free_kopecks), sum(e.paid_kopecks)
FROM events e
WHERE e.school_id = :school AND e.local_date BETWEEN :start AND :end AND e.kind IN ('serve', 'override')
  AND NOT EXISTS (SELECT 1 FROM events r WHERE r.school_id = e.school_id AND r.kind = 'reversal'
                  AND r.ref_event_id = e.id)
GROUP BY e.student_id, e.local_date, e.meal
""")

# One class's rows: the students who were ever in it (the табель's own read).
CLASS_FLOOR_SQL = text("""
SELECT e.student_id, e.local_date, e.meal, count(*), sum(e.free_kopecks), sum(e.paid_kopecks)
FROM events e
WHERE e.school_id = :school AND e.local_date BETWEEN :start AND :end AND e.kind IN ('serve', 'override')
  AND e.student_id IN (SELECT s.student_id FROM student_classes s WHERE s.school_id = :school
                       AND s.class_id = :class)
  AND NOT EXISTS (SELECT 1 FROM events r WHERE r.school_id = e.school_id AND r.kind = 'reversal'
                  AND r.ref_event_id = e.id)
GROUP BY e.student_id, e.local_date, e.meal
""")


def build(engine: Engine, students: int) -> dict[str, Any]:
    rnd = random.Random(7)
    policy_text = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    policy = parse_policy(policy_text, "policy:bench")
    classes = [f"{g}{letter}" for g in range(1, 12) for letter in LETTERS]
    rows, spans, pupils = [], [], []
    benefits = []
    for n in range(students):
        name = classes[n % len(classes)]
        grade, shift = int(name[:-1]), 2 if name[-1] in SECOND_SHIFT else 1
        birth = date(2026 - grade - 6, 1 + n % 12, 1 + n % 28)
        cats = (rnd.choice(("ovz", "low_income", "large_family")),) if rnd.random() < 0.3 else ()
        if grade <= 4 and cats and cats[0] != "ovz":
            cats = ()
        sid = f"s{n:05d}"
        pupils.append((sid, class_id_of(name), grade, shift, birth, cats))
        rows.append({"student_id": sid, "full_name": f"Фамилия{n} Имя{n % 97}", "class": name, "shift": shift,
                     "birth_date": birth.isoformat()})
        benefits += [{"student_id": sid, "category": c, "order_no": f"{n}", "order_date": "2026-08-30"} for c in cats]
        spans.append({"school_id": SCHOOL, "student_id": sid, "starts": date(2026, 9, 1),
                      "class_id": class_id_of(name)})
        if n % 200 == 0:  # a few students move class on 15.12
            spans.append({"school_id": SCHOOL, "student_id": sid, "starts": date(2026, 12, 15),
                          "class_id": class_id_of(classes[(n + 7) % len(classes)])})
    days = [MONTH + timedelta(days=i) for i in range(31) if (MONTH + timedelta(days=i)).weekday() < 5][:-1]
    events: list[dict[str, Any]] = []
    seq = 0
    for day in days:
        for sid, _cid, grade, shift, birth, cats in pupils:
            free = {g.meal: g for g in policy.free_meals(grade=grade, shift=shift, categories=cats,
                                                         age=age_on(birth, day))}
            for meal in MEALS[shift]:
                if rnd.random() < 0.04:
                    continue
                seq += 1
                g = free.get(meal)
                paid = 0
                if g is None:
                    try:
                        paid = policy.price(grade, age_on(birth, day), meal)
                    except EligibilityError:
                        paid = 9000
                at = datetime(day.year, day.month, day.day, 2, 0) + timedelta(seconds=seq % 20000)
                events.append({
                    "id": uuid.UUID(int=rnd.getrandbits(128)).hex, "terminal_id": "T1", "school_id": SCHOOL,
                    "seq": seq, "kind": "serve", "at_utc": at, "local_date": day, "student_id": sid, "card_uid": None,
                    "meal": meal.value, "outcome": "serve_free" if g else "serve_paid", "reason": "ok", "message": "",
                    "paid_kopecks": paid, "free_kopecks": g.price_kopecks if g else 0,
                    "budget_line": g.budget_line if g else None, "ref_event_id": None, "source": "card", "staff": "",
                    "note": "", "flags": "", "server_flags": "", "received_at": at, "rev": 1,
                    "free_category": g.category if g else "", "free_rule": g.rule if g else ""})
    with engine.begin() as conn:
        add_school(conn, school_id=SCHOOL, name="Школа (бенчмарк)", timezone="Asia/Krasnoyarsk",
                   policy_text=policy_text)
        conn.execute(insert(SchoolPolicy).values(school_id=SCHOOL, school_year="2026-2027", policy_text=policy_text,
                                                 set_by="bench", set_at=datetime(2026, 8, 1)))
        import_rows(conn, SCHOOL, "students", rows)
        import_rows(conn, SCHOOL, "benefits", benefits)
        conn.execute(insert(StudentClassSpan), spans)
        conn.execute(insert(Holiday).values(school_id=SCHOOL, day=date(2026, 12, 31), reason="праздник", rev=1))
        for i in range(0, len(events), 10_000):
            conn.execute(insert(Event), events[i:i + 10_000])
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return {"events": len(events), "school_days": len(days), "students": students}


def timed(fns: dict[str, Any], n: int) -> dict[str, tuple[float, Any]]:
    """The median time and the last result of each function, run in turns (floor, register, floor, …) so a
    busy moment of a shared machine falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    out: dict[str, Any] = {}
    for rep in range(n + 1):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out[name] = fn()
            if rep:  # the first turn warms
                times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(times[name]), out[name]) for name in fns}


def measure(url: str, students: int, n: int) -> dict[str, Any]:
    upgrade(url)
    engine = make_server_engine(url)
    try:
        t0 = time.perf_counter()
        info = build(engine, students)
        info["build_s"] = round(time.perf_counter() - t0, 1)
        end = date(2026, 12, 31)

        def floor() -> int:
            with engine.connect() as conn:
                return len(conn.execute(FLOOR_SQL, {"school": SCHOOL, "start": MONTH, "end": end}).all())

        def registers() -> int:
            with engine.connect() as conn:
                m = load_month(conn, SCHOOL, MONTH)
            tabels = [tabel.from_month(m, c) for c in m.classes]
            report = monthly.from_month(m)
            return sum(t.totals.free_total.count for t in tabels) + report.free_total.count

        def monthly_only() -> int:
            with engine.connect() as conn:
                return monthly.build(conn, SCHOOL, MONTH).free_total.count

        def one_tabel() -> int:
            with engine.connect() as conn:
                return tabel.build(conn, SCHOOL, MONTH, class_id="5а").totals.students

        def class_floor() -> int:
            with engine.connect() as conn:
                return len(conn.execute(CLASS_FLOOR_SQL, {"school": SCHOOL, "start": MONTH, "end": end,
                                                          "class": "5а"}).all())

        found = timed({"floor": floor, "registers": registers, "monthly": monthly_only, "one_tabel": one_tabel,
                       "class_floor": class_floor}, n)
        (floor_s, groups), (reg_s, _), (monthly_s, _) = found["floor"], found["registers"], found["monthly"]
        one_s, class_floor_s = found["one_tabel"][0], found["class_floor"][0]
        line = {**info, "floor_groups": groups, "floor_s": round(floor_s, 4),
                "all_tabels_and_monthly_s": round(reg_s, 4), "ratio": round(reg_s / floor_s, 2),
                "monthly_s": round(monthly_s, 4), "monthly_ratio": round(monthly_s / floor_s, 2),
                "one_tabel_s": round(one_s, 4), "class_floor_s": round(class_floor_s, 4),
                "one_tabel_ratio": round(one_s / class_floor_s, 2)}
        print(json.dumps(line, ensure_ascii=False), flush=True)
        return line
    finally:
        engine.dispose()


# --- the region month: 300 schools × 1,000 students, ~13 million events ------------------------------------

REGION_FLOOR_SQL = """
SELECT e.school_id, e.student_id, e.local_date, e.meal, count(*), sum(e.free_kopecks), sum(e.paid_kopecks)
FROM events e
WHERE e.local_date BETWEEN %(start)s AND %(end)s AND e.kind IN ('serve', 'override')
  AND NOT EXISTS (SELECT 1 FROM events r WHERE r.school_id = e.school_id AND r.kind = 'reversal'
                  AND r.ref_event_id = e.id)
GROUP BY e.school_id, e.student_id, e.local_date, e.meal
"""  # run on psycopg's server-side cursor, fetched 10,000 rows at a time


def clone_school(engine: Engine, schools: int) -> list[str]:
    """Copies the built school `schools - 1` times inside the database (every row of every table with a
    school_id, the events with new ids): a region's rows without a region's Python."""
    from server.models import Base

    ids = [SCHOOL] + [f"r{n:03d}" for n in range(1, schools)]
    with engine.begin() as conn:
        school_cols = [c.name for c in Base.metadata.tables["schools"].columns]
        school_values = ", ".join({"id": "'r' || lpad(n::text, 3, '0')", "name": "s.name || ' № ' || n"}.get(
            c, f"s.{c}") for c in school_cols)
        conn.execute(text(f"INSERT INTO schools ({', '.join(school_cols)}) SELECT {school_values} "
                          "FROM schools s, generate_series(1, :k) n WHERE s.id = :school"),
                     {"k": schools - 1, "school": SCHOOL})
        for table in Base.metadata.sorted_tables:
            if "school_id" not in table.columns or table.name == "events":
                continue
            cols = [c.name for c in table.columns
                    if not (c.primary_key and c.autoincrement is True and c.name == "id")]
            values = ", ".join("'r' || lpad(n::text, 3, '0')" if c == "school_id" else f't."{c}"' for c in cols)
            names = ", ".join(f'"{c}"' for c in cols)
            conn.execute(text(f"INSERT INTO {table.name} ({names}) SELECT {values} "
                              f"FROM {table.name} t, generate_series(1, :k) n WHERE t.school_id = :school"),
                         {"k": schools - 1, "school": SCHOOL})
    cols = [c.name for c in Base.metadata.tables["events"].columns]
    values = ", ".join({"id": "md5(t.id || n::text)", "school_id": "'r' || lpad(n::text, 3, '0')"}.get(c, f"t.{c}")
                       for c in cols)
    for first in range(1, schools, 25):  # 25 schools (~1 million events) per transaction
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO events ({', '.join(cols)}) SELECT {values} FROM events t, generate_series("
                              "CAST(:a AS integer), CAST(:b AS integer)) n WHERE t.school_id = :school"),
                         {"a": first, "b": min(first + 24, schools - 1), "school": SCHOOL})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    return ids


def measure_region(url: str, schools: int, students: int) -> dict[str, Any]:
    """Every school's табели and monthly report, one school in memory at a time, against one aggregate query
    over the region's rows fetched in a stream; the peak memory of this process."""
    import gc
    import resource

    upgrade(url)
    engine = make_server_engine(url)
    try:
        t0 = time.perf_counter()
        info = build(engine, students)
        ids = clone_school(engine, schools)
        info.update(schools=schools, build_s=round(time.perf_counter() - t0, 1))
        end = date(2026, 12, 31)
        with engine.connect() as conn:
            info["events"] = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
        gc.collect()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

        t0 = time.perf_counter()
        groups = 0
        with engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            with raw.cursor(name="region_floor") as cursor:
                cursor.execute(REGION_FLOOR_SQL, {"start": MONTH, "end": end})
                while part := cursor.fetchmany(10_000):
                    groups += len(part)
        floor_s = time.perf_counter() - t0
        rss_floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

        t0 = time.perf_counter()
        free = 0
        for school in ids:
            with engine.connect() as conn:
                m = load_month(conn, school, MONTH)
            free += sum(tabel.from_month(m, c).totals.free_total.count for c in m.classes)
            free += monthly.from_month(m).free_total.count
            del m
        reg_s = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        line = {"region": True, **info, "floor_groups": groups, "floor_s": round(floor_s, 2),
                "registers_s": round(reg_s, 2), "ratio": round(reg_s / floor_s, 2),
                "peak_rss_mb": peak, "rss_before_mb": rss0, "rss_after_floor_mb": rss_floor, "peak_goal_mb": 500,
                "peak_ok": peak < 500,
                "free_meals_counted": free}
        print(json.dumps(line, ensure_ascii=False), flush=True)
        return line
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--region", action="store_true", help="the region month instead (300 schools × 1,000)")
    parser.add_argument("--schools", type=int, default=300)
    args = parser.parse_args()
    if args.region:
        name = f"canteen_bench_region_{os.getpid()}"
        with psycopg.connect(PG + "postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            measure_region(PG.replace("postgresql://", "postgresql+psycopg://") + name, args.schools,
                           args.students if args.students != 2000 else 1000)
        finally:
            with psycopg.connect(PG + "postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    results = []
    for students in (args.students, 2 * args.students):
        name = f"canteen_bench_reports_{os.getpid()}_{students}"
        with psycopg.connect(PG + "postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            results.append(measure(PG.replace("postgresql://", "postgresql+psycopg://") + name, students, args.n))
        finally:
            with psycopg.connect(PG + "postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    one, two = results
    summary = {"summary": True, "ratio": one["ratio"], "ratio_goal": 1.5, "ratio_ok": one["ratio"] <= 1.5,
               "scaling": round(two["all_tabels_and_monthly_s"] / one["all_tabels_and_monthly_s"], 2),
               "scaling_goal": 2.2,
               "scaling_ok": two["all_tabels_and_monthly_s"] / one["all_tabels_and_monthly_s"] <= 2.2,
               "floor_scaling": round(two["floor_s"] / one["floor_s"], 2)}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
