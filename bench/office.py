"""Office pages benchmark: the «Сегодня» dashboard, a student's card, the review queue, the kitchen's order and
a class's order sheet of a 2,000-student school with a month of events on PostgreSQL, through the real
server (gunicorn) against their floor.

Run: ``.venv/bin/python bench/office.py [--students 2000] [--days 31] [--n 50] [--warmup 5]``.
Prints one JSON line per page and a summary line. The floor of a page is the service functions its view
calls (the same queries), run directly on the same database in this process; goal: page p95 ≤ 2× floor p95.
A page not yet on this branch is measured by the JSON API route that serves the same data: `PAGES` is the
table of (label, URL, floor); an HTML page replaces its API line there.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from sqlalchemy import Engine, delete, insert, select, tuple_, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Server  # noqa: E402
from pos.domain import Meal, age_on  # noqa: E402
from pos.ledger import EventKind, Flag  # noqa: E402
from pos.policy import EligibilityError, parse_policy, shipped_policies  # noqa: E402
from server import accounts as admin_accounts  # noqa: E402
from server.accounts import add_school, enroll_terminal  # noqa: E402
from server.db import make_server_engine, take_revs  # noqa: E402
from server.importer import class_id_of, import_rows  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Event, Order, Student, TopUp  # noqa: E402
from server.office import reviews, roster  # noqa: E402
from server.office import today as today_service  # noqa: E402
from server.office.roles import Grant, Role, Scope  # noqa: E402
from server.office.users import add_user  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/"
TZ = "Asia/Krasnoyarsk"
SCHOOL = "bench-office"
LETTERS = "абвгдеж"  # seven classes a grade, 1–11: 77 classes
SECOND_SHIFT = "деж"
MEALS = {1: (Meal.BREAKFAST, Meal.LUNCH), 2: (Meal.LUNCH, Meal.SNACK)}  # what each shift eats, in order
BREAKS = {1: ("08:40", "09:00", "09:45", "10:05", "10:50", "11:10"), 2: ("13:40", "14:00", "14:45", "15:05",
                                                                          "15:50", "16:10")}
CATEGORIES = {"junior": ("ovz", "transported"), "senior": ("low_income", "large_family", "single_parent", "ovz")}
USER, PASSWORD = "bench-office", "bench-office-password"


@dataclass(frozen=True)
class Pupil:
    id: str
    class_id: str
    grade: int
    shift: int
    birth: date
    categories: tuple[str, ...]


# --- the school ------------------------------------------------------------------------------------------

def school_days(today: date, days: int) -> list[date]:
    """The weekdays of the last `days` days, and today whatever day it is (the dashboard shows it)."""
    found = [today - timedelta(days=k) for k in range(days - 1, 0, -1)]
    return [d for d in found if d.weekday() < 5] + [today]


def roster_rows(count: int, start: date) -> tuple[list[Pupil], dict[str, list[dict[str, Any]]]]:
    rnd = random.Random(7)
    pupils: list[Pupil] = []
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("students", "cards", "benefits", "breaks", "meal_slots")}
    classes = [f"{g}{letter}" for g in range(1, 12) for letter in LETTERS]
    for n in range(count):
        name = classes[n % len(classes)]
        grade, shift = int(name[:-1]), 2 if name[-1] in SECOND_SHIFT else 1
        birth = date(start.year - grade - 6, 1 + n % 12, 1 + n % 28)
        cats = (rnd.choice(CATEGORIES["junior" if grade <= 4 else "senior"]),) if rnd.random() < 0.3 else ()
        pupil = Pupil(f"s{n:05d}", class_id_of(name), grade, shift, birth, cats)
        pupils.append(pupil)
        rows["students"].append({"student_id": pupil.id, "full_name": f"Фамилия{n} Имя{n % 97} Отчество{n % 31}",
                                 "class": name, "shift": shift, "birth_date": birth.isoformat()})
        rows["cards"].append({"card": f"D10:{n:010d}", "student_id": pupil.id})
        for c in cats:
            rows["benefits"].append({"student_id": pupil.id, "category": c, "order_no": f"{n}-л",
                                     "order_date": (start - timedelta(days=1)).isoformat(),
                                     "starts": start.isoformat()})
    for shift, times in BREAKS.items():
        rows["breaks"] += [{"shift": shift, "number": k + 1, "starts": times[2 * k], "ends": times[2 * k + 1]}
                           for k in range(3)]
    for name in classes:
        shift = 2 if name[-1] in SECOND_SHIFT else 1
        first, second = MEALS[shift]
        rows["meal_slots"] += [{"class": name, "meal": first.value, "shift": shift,
                                "break_no": 1 if int(name[:-1]) <= 4 else 2},
                               {"class": name, "meal": second.value, "shift": shift, "break_no": 3}]
    return pupils, rows


def journal(pupils: list[Pupil], days: list[date], policy_text: str, terminals: dict[int, str], rev: int
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Orders and the month's events: serves (free by the policy or paid), a few absences, refusals
    (already served, unknown card), overrides, reversals, meals without an order and flagged events."""
    rnd = random.Random(11)
    policy = parse_policy(policy_text, "policy:bench")
    tz = ZoneInfo(TZ)
    orders: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    paid: dict[str, int] = {}
    seq = {t: 0 for t in terminals.values()}

    def event(kind: str, day: date, at: datetime, pupil: Pupil | None, meal: Meal, terminal: str, *,
              outcome: str = "serve_free", reason: str = "ok", paid_k: int = 0, free_k: int = 0,
              line: str | None = None, ref: str | None = None, flags: str = "", staff: str = "") -> str:
        seq[terminal] += 1
        eid = uuid.UUID(int=rnd.getrandbits(128)).hex
        events.append({"id": eid, "terminal_id": terminal, "seq": seq[terminal], "kind": kind, "at_utc": at,
                       "local_date": day, "student_id": pupil.id if pupil else None,
                       "card_uid": f"D10:{int(pupil.id[1:]):010d}" if pupil else "D10:9999999999", "meal": meal.value,
                       "outcome": outcome, "reason": reason, "message": "", "paid_kopecks": paid_k,
                       "free_kopecks": free_k, "budget_line": line, "ref_event_id": ref, "source": "card",
                       "staff": staff, "note": "", "flags": flags, "school_id": SCHOOL, "server_flags": "",
                       "received_at": at, "rev": rev})
        return eid

    for day in days:
        for p in pupils:
            meals = MEALS[p.shift] if rnd.random() < 0.5 else MEALS[p.shift][:1]
            age = age_on(p.birth, day)
            free = {g.meal: g for g in policy.free_meals(grade=p.grade, shift=p.shift, categories=p.categories,
                                                         age=age)}
            for k, meal in enumerate(MEALS[p.shift]):
                ordered = meal in meals
                if ordered:
                    orders.append({"school_id": SCHOOL, "student_id": p.id, "day": day, "meal": meal.value,
                                   "rev": rev})
                roll = rnd.random()
                if (ordered and roll < 0.04) or (not ordered and roll > 0.01):
                    continue  # absent, or not ordered and not served
                start = datetime.combine(day, clock.fromisoformat(BREAKS[p.shift][4 * k]), tz)
                at = (start + timedelta(seconds=rnd.randrange(1200))).astimezone(UTC).replace(tzinfo=None)
                terminal = terminals[p.shift]
                paid_k, free_k, line, outcome = 0, 0, None, "serve_free"
                if meal in free:
                    free_k, line = free[meal].price_kopecks, free[meal].budget_line
                else:
                    try:
                        paid_k = policy.price(p.grade, age, meal)
                    except EligibilityError:
                        paid_k = 9000
                    outcome = "serve_paid"
                paid[p.id] = paid.get(p.id, 0) + paid_k
                flags = Flag.STALE_DATA if roll > 0.998 and ordered else ""
                served = event(EventKind.SERVE, day, at, p, meal, terminal, outcome=outcome, paid_k=paid_k,
                               free_k=free_k, line=line, flags=flags)
                if 0.96 < roll < 0.975:  # tapped twice: refused, now and then served anyway by staff
                    later = at + timedelta(seconds=30)
                    event(EventKind.REFUSE, day, later, p, meal, terminal, outcome="refuse", reason="already_served")
                    if roll < 0.963:
                        event(EventKind.OVERRIDE, day, later + timedelta(seconds=20), p, meal, terminal,
                              reason="override", staff="Лебедева Г. И.")
                elif 0.975 < roll < 0.98:  # a mistaken serve undone at the window
                    event(EventKind.REVERSAL, day, at + timedelta(seconds=60), p, meal, terminal, outcome="refuse",
                          reason="reversal", paid_k=-paid_k, free_k=-free_k, ref=served, staff="Лебедева Г. И.")
                    paid[p.id] -= paid_k
        for k in range(3):  # a card the server does not know, refused
            at = datetime.combine(day, clock(9, 50 + k), tz).astimezone(UTC).replace(tzinfo=None)
            event(EventKind.REFUSE, day, at, None, Meal.BREAKFAST, terminals[1], outcome="refuse",
                  reason="unknown_card", flags=Flag.UNKNOWN_CARD)
    return orders, events, paid


def build(engine: Engine, students: int, days: int) -> dict[str, Any]:
    policy_text = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    today = datetime.now(ZoneInfo(TZ)).date()
    month = school_days(today, days)
    pupils, rows = roster_rows(students, month[0] - timedelta(days=60))
    with engine.begin() as conn:
        add_school(conn, school_id=SCHOOL, name="Школа (бенчмарк)", timezone=TZ, policy_text=policy_text)
        for kind in ("students", "cards", "benefits", "breaks", "meal_slots"):
            import_rows(conn, SCHOOL, kind, rows[kind])
        terminals = {shift: enroll_terminal(conn, SCHOOL, name=f"окно {shift}")[0] for shift in (1, 2)}
        rev = take_revs(conn, SCHOOL)
        orders, events, paid = journal(pupils, month, policy_text, terminals, rev)
        for i in range(0, len(orders), 10_000):
            conn.execute(insert(Order), orders[i:i + 10_000])
        for i in range(0, len(events), 10_000):
            conn.execute(insert(Event), events[i:i + 10_000])
        paid_at = datetime.combine(month[0], clock(3, 0))
        topups = [{"school_id": SCHOOL, "reference": f"п/п {p}", "student_id": p, "amount_kopecks": 300_000,
                   "paid_at": paid_at, "imported_at": paid_at} for p in sorted(paid)]
        conn.execute(insert(TopUp), topups)
        for p, spent in paid.items():
            conn.execute(update(Student).where(Student.school_id == SCHOOL, Student.id == p)
                         .values(balance_kopecks=300_000 - spent))
        add_user(conn, USER, name="Бенчмарк", password=PASSWORD,
                 grants=[Grant(Role.COORDINATOR, Scope.SCHOOL, SCHOOL), Grant(Role.SCHOOL_ADMIN, Scope.SCHOOL, SCHOOL)])
        admin_accounts.add_admin(conn, USER, PASSWORD, school_id=SCHOOL)
        token, _ = admin_accounts.login(conn, USER, PASSWORD, hours=2) or ("", None)
    with engine.connect() as conn:  # fresh planner statistics, as autovacuum keeps them on a live server
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    with engine.begin() as conn:  # the office has resolved a couple of items
        start, end = reviews.default_period(today)
        picks = [(e.key, e.fingerprint) for e in reviews.queue(conn, SCHOOL, reviews.Filters(start, end)).entries[:2]]
        reviews.resolve(conn, SCHOOL, picks, reason="absent", comment="болел", who=USER)
    # The student whose card is busiest: a paying one with a reversal in the month.
    reversed_ids = {e["student_id"] for e in events if e["kind"] == EventKind.REVERSAL and e["paid_kopecks"]}
    student = min(reversed_ids or {pupils[0].id})
    return {"today": today, "student": student, "token": token, "orders": len(orders), "events": len(events),
            "days": len(month)}


# --- the pages and their floors --------------------------------------------------------------------------

Floor = Callable[[Engine, dict[str, Any]], object]


def floor_today(engine: Engine, ctx: dict[str, Any]) -> object:
    with engine.connect() as conn:
        now = today_service.school_now(conn, SCHOOL)
        return today_service.today(conn, SCHOOL, now.date())


def floor_student(engine: Engine, ctx: dict[str, Any]) -> object:
    with engine.connect() as conn:
        return roster.student_card(conn, SCHOOL, ctx["student"])


def floor_queue(engine: Engine, ctx: dict[str, Any]) -> object:
    with engine.connect() as conn:
        day, _tz = reviews.school_today(conn, SCHOOL)
        start, end = reviews.default_period(day)
        return reviews.queue(conn, SCHOOL, reviews.Filters(start, end))


def kitchen_orders(engine: Engine, ctx: dict[str, Any]) -> None:
    """The kitchen's order: every student ordered for the next school day (one or both meals of the shift),
    and a handful of the coordinator's amendments after the deadline, some after the sending."""
    from server.models import KitchenSending, MenuPrice, OrderChange, SchoolClass
    from server.office import kitchen

    rnd = random.Random(13)
    with engine.begin() as conn:
        day = kitchen.next_school_day(conn, SCHOOL, datetime.now(UTC))
        deadline = kitchen.kitchen_order(conn, SCHOOL, day, datetime.now(UTC)).deadline.astimezone(UTC)
        shifts = dict(conn.execute(select(SchoolClass.id, SchoolClass.shift).where(
            SchoolClass.school_id == SCHOOL)).tuples().all())
        students = conn.execute(select(Student.id, Student.class_id).where(Student.school_id == SCHOOL)).all()
        rev = take_revs(conn, SCHOOL)
        rows = [{"school_id": SCHOOL, "student_id": s.id, "day": day, "meal": meal.value, "rev": rev}
                for s in students for meal in MEALS[shifts[s.class_id]][:1 if rnd.random() < 0.5 else 2]]
        conn.execute(insert(Order), rows)
        conn.execute(insert(MenuPrice), [{"school_id": SCHOOL, "day": day, "meal": m, "price_kopecks": p, "rev": rev}
                                         for m, p in (("breakfast", 7500), ("lunch", 11000), ("snack", 5000))])
        at = deadline.replace(tzinfo=None)
        changes = [{"school_id": SCHOOL, "day": day, "class_id": s.class_id, "student_id": s.id,
                    "meal": MEALS[shifts[s.class_id]][0].value, "action": "remove", "actor": USER,
                    "at": at + timedelta(minutes=10 * k + 5), "reason": "не придёт", "late": True,
                    "after_sent": k > 3} for k, s in enumerate(students[:8])]
        conn.execute(insert(OrderChange), changes)
        conn.execute(delete(Order).where(Order.school_id == SCHOOL, Order.day == day, tuple_(
            Order.student_id, Order.meal).in_([(c["student_id"], c["meal"]) for c in changes])))
        conn.execute(insert(KitchenSending).values(school_id=SCHOOL, day=day, sent_by=USER,
                                                   sent_at=at + timedelta(minutes=30)))
    ctx["kitchen_day"] = day
    ctx["kitchen_orders"] = len(rows)
    sizes: dict[str, int] = {}
    for s in students:
        sizes[s.class_id] = sizes.get(s.class_id, 0) + 1
    ctx["order_class"] = max(sizes, key=lambda c: (sizes[c], c))  # the largest class: the heaviest sheet


def floor_kitchen(engine: Engine, ctx: dict[str, Any]) -> object:
    from server.office import kitchen

    with engine.connect() as conn:
        now = datetime.now(UTC)
        return kitchen.kitchen_order(conn, SCHOOL, kitchen.next_school_day(conn, SCHOOL, now), now)


def floor_class_order(engine: Engine, ctx: dict[str, Any]) -> object:
    from server.office import orders

    with engine.connect() as conn:
        return orders.sheet(conn, SCHOOL, ctx["order_class"], ctx["kitchen_day"], now=datetime.now(UTC))


# (label, URL, floor); "api:" pages are JSON routes measured with the admin token until their HTML page lands.
PAGES: list[tuple[str, str, Floor]] = [
    ("today", "/office/{school}/today", floor_today),
    ("student (api)", "api:/api/schools/{school}/students/{student}", floor_student),
    ("review queue (api)", "api:/api/schools/{school}/reviews", floor_queue),
    ("kitchen order", "/office/{school}/kitchen", floor_kitchen),  # the next school day, ordered by all
    ("class order", "/office/{school}/classes/{order_class}/order?day={kitchen_day}", floor_class_order),
]


def sign_in(client: httpx.Client) -> None:
    """Through the real login form: its CSRF token, then the session cookie kept by the client."""
    form = client.get("/office/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the login page"
    answer = client.post("/office/login", data={"login": USER, "password": PASSWORD, "csrf_token": token[1]})
    assert answer.status_code == 302 and "login" not in answer.headers["location"], answer.status_code


def p(times: list[float], q: int) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[q - 1] * 1000


def measure(client: httpx.Client, engine: Engine, ctx: dict[str, Any], label: str, url: str, floor: Floor,
            n: int, warmup: int) -> dict[str, Any]:
    api = url.startswith("api:")
    path = url.removeprefix("api:").format(school=SCHOOL, student=ctx["student"], order_class=ctx["order_class"],
                                           kitchen_day=ctx["kitchen_day"])
    headers = {"Authorization": f"Bearer {ctx['token']}"} if api else {}
    page: list[float] = []
    base: list[float] = []
    size = 0
    for k in range(warmup + n):  # interleaved, so a busy moment of the machine falls on both
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        between = time.perf_counter()
        floor(engine, ctx)
        ended = time.perf_counter()
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        size = len(answer.content)
        if k >= warmup:
            page.append(between - started)
            base.append(ended - between)
    return {"bench": "office", "page": label, "url": path, "n": n, "bytes": size,
            "page_p50_ms": round(p(page, 50), 2), "page_p95_ms": round(p(page, 95), 2),
            "floor_p50_ms": round(p(base, 50), 2), "floor_p95_ms": round(p(base, 95), 2),
            "ratio_p95": round(p(page, 95) / p(base, 95), 3)}


def run(url: str, args: argparse.Namespace) -> None:
    upgrade(url)
    engine = make_server_engine(url)
    started = time.perf_counter()
    ctx = build(engine, args.students, args.days)
    kitchen_orders(engine, ctx)
    setup_s = time.perf_counter() - started
    # Both workers must sign the session cookie with one key (unset, each process draws its own).
    os.environ.setdefault("CANTEEN_SECRET_KEY", uuid.uuid4().hex)
    server = Server(url)
    results = []
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            sign_in(client)
            for label, page_url, floor in [page for page in PAGES if args.only in page[0]]:
                result = measure(client, engine, ctx, label, page_url, floor, args.n, args.warmup)
                results.append(result)
                print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        server.stop()
        engine.dispose()
    worst = max(results, key=lambda r: r["ratio_p95"])
    print(json.dumps({"bench": "office", "summary": True, "db": "postgresql", "students": args.students,
                      "school_days": ctx["days"], "orders": ctx["orders"], "events": ctx["events"],
                      "kitchen_day": str(ctx["kitchen_day"]), "kitchen_orders": ctx["kitchen_orders"],
                      "setup_s": round(setup_s, 1), "worst_page": worst["page"], "worst_ratio_p95": worst["ratio_p95"],
                      "goal_ratio_p95": 2.0, "ok": worst["ratio_p95"] <= 2.0}, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--days", type=int, default=31, help="calendar days of events, weekdays only")
    parser.add_argument("--n", type=int, default=50, help="timed requests per page (and floor calls)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", default="", help="measure only the pages whose label contains this")
    args = parser.parse_args()
    name = f"canteen_bench_office_{os.getpid()}"
    with psycopg.connect(PG + "postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        run(PG + name, args)
    finally:
        with psycopg.connect(PG + "postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
