"""Region scale: 300 schools, 900 terminals syncing every 2–3 minutes, their nightly full sync and 50 office
users, with Locust (headless, as a library, loopback only) against the real server (gunicorn) on a fresh
PostgreSQL database that the script creates and drops.

Run: ``.venv/bin/python bench/region.py [--schools 300] [--terminals 900] [--users 50] [--time-scale 1]
[--duration 480] [--workers 4] [--slots 1]`` (about 9 minutes: the real pace of a region, its wave included);
a quick check: ``--schools 30 --terminals 90 --users 10 --time-scale 5 --duration 120``.

- TerminalUser: one enrolled terminal; every 120–180 s (divided by ``--time-scale``, jittered) a sync in the
  real wire format: a push of 1–5 new serves, then an incremental pull with its cursor. Once, at a random
  moment of the nightly window (``--wave-at`` of the run, ``--wave-window`` seconds long), its nightly run:
  a push and a full pull. A full pull the server refuses (503 ``busy``, ``Retry-After``) is counted apart,
  not as an error; the terminal waits Retry-After (divided by the time scale) and asks again, and the total
  from its first ask to its snapshot is reported too.
- OfficeUser: signed in through the login form as the coordinator of one school, browsing its pages.
- BacklogUser: one terminal back from a day offline, pushing batches of ``--backlog-batch`` events; after
  each push the same number of events is bulk-inserted straight into the database (one INSERT per batch),
  under the same load: ingest ratio = pushed events/s ÷ inserted events/s (goal ≥ 0.5).

Bounded: the run stops after ``--duration`` seconds or ``--max-requests`` requests, whichever comes first.
Prints one JSON line per request type (p50/p95/p99 of every request of the run) and a summary line: failures
(goal 0), the wave's refusals, its p99 (goal < 2 s: every request made while the wave lasts, but the
backlog's bulk batches) and the ingest ratio.
"""

from __future__ import annotations

from gevent import monkey  # type: ignore[import-untyped]

monkey.patch_all()  # before anything imports ssl or socket (Locust would do it on import, too late)

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, ClassVar  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402
from locust import FastHttpUser, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.runners import STATE_STOPPED, STATE_STOPPING  # noqa: E402
from sqlalchemy import Engine, insert, update  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Server  # noqa: E402
from pos.cards import match_keys  # noqa: E402
from pos.policy import shipped_policies  # noqa: E402
from server.accounts import add_school, enroll_terminal  # noqa: E402
from server.db import make_server_engine  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Card, Event, Order, School, SchoolClass, Student  # noqa: E402
from server.office.roles import Grant, Role, Scope  # noqa: E402
from server.office.users import add_user  # noqa: E402
from sync.wire import PULL_PATH, PUSH_PATH, utc_iso  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/"
TZ = "Asia/Krasnoyarsk"
PASSWORD = "bench-region-password"
INTERVAL = (120.0, 180.0)  # seconds between a terminal's syncs (the scheduler's 180 s, give or take)
OFFICE_THINK = (10.0, 40.0)  # seconds an office user reads a page before the next one
GRADES = range(1, 12)
PAGES = ("today", "students", "classes/{cls}", "classes/{cls}/order", "orders", "kitchen", "reviews")
FULL, BUSY, TOTAL = "pull full", "pull full: 503 busy (Retry-After)", "pull full: total with waits"
BACKLOG = "push backlog batch"


# --- the region ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Terminal:
    school: str
    id: str
    token: str
    cursor: str
    students: int


@dataclass
class Plan:
    """What the users share: the region built, the clock of the run, and what they measured themselves."""

    terminals: list[Terminal]
    office: list[tuple[str, str]]  # (login, school)
    backlog: Terminal
    time_scale: float = 5.0
    wave_start: float = 0.0  # monotonic
    wave_window: float = 10.0
    backlog_events: int = 20_000
    backlog_batch: int = 1000
    floor_engine: Engine | None = None
    _next: itertools.count[int] = field(default_factory=itertools.count)
    _next_office: itertools.count[int] = field(default_factory=itertools.count)
    wave_totals: list[float] = field(default_factory=list)  # simulated seconds, first ask to snapshot
    wave_done_at: list[float] = field(default_factory=list)  # monotonic
    pushed: list[tuple[int, float]] = field(default_factory=list)  # (events, seconds) of the backlog pushes
    floor: list[tuple[int, float]] = field(default_factory=list)  # (events, seconds) of the bulk inserts

    def next_terminal(self) -> Terminal:
        return self.terminals[next(self._next) % len(self.terminals)]


def school_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()


def build(engine: Engine, schools: int, terminals: int, users: int, students: int) -> Plan:
    """The region in a few bulk statements: schools with a small roster each (classes 1–11, students with
    a card, breakfast ordered today and tomorrow), their terminals, the office users, and two schools of the
    benchmark's own: the backlog terminal's and the floor's."""
    policy = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    day = school_today()
    ids = [f"r{n:03d}" for n in range(schools)] + ["rbacklog", "rfloor"]
    with engine.begin() as conn:
        for n, school in enumerate(ids):
            add_school(conn, school_id=school, name=f"Школа № {n + 1}", timezone=TZ, policy_text=policy,
                       week_days="1,2,3,4,5,6,7")
        revs = dict(conn.execute(update(School).values(rev=School.rev + 1).returning(School.id, School.rev))
                    .tuples().all())
        conn.execute(insert(SchoolClass), [{"school_id": s, "id": f"{g}а", "name": f"{g}а", "grade": g, "shift": 1,
                                            "rev": revs[s]} for s in ids for g in GRADES])
        conn.execute(insert(Student), [
            {"school_id": s, "id": f"s{k}", "full_name": f"Фамилия{k} Имя{k % 37}", "class_id": f"{k % 11 + 1}а",
             "birth_date": date(day.year - 7 - k % 11, 1 + k % 12, 1 + k % 28), "diet_note": "",
             "balance_kopecks": 100_000, "active": True, "rev": revs[s]} for s in ids for k in range(students)])
        conn.execute(insert(Card), [{"school_id": s, "uid": uid(k), "student_id": f"s{k}", "key32": keys[0],
                                     "key24": keys[1], "rev": revs[s]}
                                    for k in range(students) for keys in [match_keys(uid(k))] for s in ids])
        conn.execute(insert(Order), [{"school_id": s, "student_id": f"s{k}", "day": d, "meal": "breakfast",
                                      "rev": revs[s]} for s in ids for k in range(students)
                                     for d in (day, day + timedelta(days=1))])
        enrolled = []
        for n in range(terminals):
            school = ids[n % schools]
            terminal_id, token = enroll_terminal(conn, school, name=f"окно {n // schools + 1}")
            enrolled.append(Terminal(school, terminal_id, token, f"{revs[school]}:", students))
        backlog_id, backlog_token = enroll_terminal(conn, "rbacklog", name="после простоя")
        office = []
        for n in range(users):
            school = ids[n % schools]
            login = f"region-{n}"
            add_user(conn, login, name=f"Координатор {n}", password=PASSWORD,
                     grants=[Grant(Role.COORDINATOR, Scope.SCHOOL, school)])
            office.append((login, school))
    with engine.connect() as conn:  # fresh planner statistics, as autovacuum keeps them on a live server
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return Plan(enrolled, office, Terminal("rbacklog", backlog_id, backlog_token, f"{revs['rbacklog']}:", students))


def uid(k: int) -> str:
    return f"EM:{k:010d}"


def serves(terminal: Terminal, first_seq: int, count: int) -> list[dict[str, Any]]:
    """New serves of a terminal in the wire format (`sync.wire.EVENT_FIELDS`), as its journal writes them."""
    at = datetime.now(UTC)
    day = school_today().isoformat()
    out = []
    for n in range(count):
        k = random.randrange(terminal.students)
        out.append({"id": uuid.uuid4().hex, "terminal_id": terminal.id, "seq": first_seq + n, "kind": "serve",
                    "at_utc": utc_iso(at), "local_date": day, "student_id": f"s{k}", "card_uid": uid(k),
                    "meal": "breakfast", "outcome": "serve_free", "reason": "ok", "message": "Бесплатно: завтрак",
                    "paid_kopecks": 0, "free_kopecks": 4858, "budget_line": "01100L3040", "ref_event_id": None,
                    "source": "card", "staff": "", "note": "", "flags": ""})
    return out


# --- the users -------------------------------------------------------------------------------------------

class TerminalUser(FastHttpUser):
    """One terminal: a sync every 2–3 minutes (scaled), and its nightly full sync once in the wave."""

    fixed_count = 0
    plan: ClassVar[Plan]

    def wait_time(self) -> float:
        wait = random.uniform(*INTERVAL) / self.plan.time_scale
        if not self.wave_done:
            wait = min(wait, max(0.0, self.wave_at - time.monotonic()))
        return wait

    def on_start(self) -> None:
        self.terminal = self.plan.next_terminal()
        self.auth = {"Authorization": f"Bearer {self.terminal.token}"}
        self.seq = 0
        self.cursor = self.terminal.cursor
        self.wave_at = self.plan.wave_start + random.uniform(0, self.plan.wave_window)
        self.wave_done = False
        gevent.sleep(random.uniform(0, INTERVAL[1] / self.plan.time_scale))  # started at any moment

    @task
    def sync(self) -> None:
        self.push()
        if not self.wave_done and time.monotonic() >= self.wave_at:
            self.wave_done = True
            self.nightly()
            return
        self.pull(full=False)

    def push(self) -> None:
        batch = serves(self.terminal, self.seq + 1, random.randint(1, 5))
        body = {"version": "bench", "outbox_size": len(batch), "terminal_time": utc_iso(datetime.now(UTC)),
                "events": batch}
        with self.client.post(PUSH_PATH, json=body, headers=self.auth, name="push", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"push {r.status_code}: {_said(r)}")
            elif len(r.json()["stored"]) != len(batch):
                r.failure(f"push: stored {len(r.json()['stored'])} of {len(batch)}")
            else:
                self.seq += len(batch)

    def pull(self, *, full: bool) -> bool | float:
        """True when pulled, the seconds the server asked to wait when it was busy, else False."""
        body = {"version": "bench", "outbox_size": 0, "terminal_time": utc_iso(datetime.now(UTC)),
                "cursor": self.cursor, "outbox_from": None, "full": full}
        with self.client.post(PULL_PATH, json=body, headers=self.auth, name=FULL if full else "pull",
                              catch_response=True) as r:
            if full and r.status_code == 503 and r.headers.get("Retry-After") and r.json().get("error") == "busy":
                r.request_meta["name"] = BUSY  # the server spreading the wave: counted apart, not an error
                r.success()
                return float(r.headers["Retry-After"])
            if r.status_code != 200:
                r.failure(f"pull {r.status_code}: {_said(r)}")
                return False
            answer = r.json()
            if full and not answer["snapshot"]:
                r.failure("a full pull without a snapshot")
                return False
            self.cursor = answer["cursor"]
            return True

    def nightly(self) -> None:
        """The full pull, asked again after each Retry-After (scaled) until it goes through."""
        started, slept = time.monotonic(), 0.0
        for _ in range(100):  # bounded; a terminal left out shows as a missing total
            got = self.pull(full=True)
            if got is True:
                break
            if got is False:
                return
            wait = float(got) / self.plan.time_scale
            gevent.sleep(wait)
            slept += wait
        else:
            return
        real = time.monotonic() - started
        self.environment.events.request.fire(request_type="WAVE", name=TOTAL, response_time=real * 1000,
                                             response_length=0, exception=None, context={})
        self.plan.wave_totals.append(real - slept + slept * self.plan.time_scale)
        self.plan.wave_done_at.append(time.monotonic())


class OfficeUser(FastHttpUser):
    """An office user of one school, signed in, reading a few of its pages."""

    fixed_count = 0
    plan: ClassVar[Plan]

    def wait_time(self) -> float:
        return random.uniform(*OFFICE_THINK) / self.plan.time_scale

    def on_start(self) -> None:
        login, self.school = self.plan.office[next(self.plan._next_office) % len(self.plan.office)]
        with self.client.get("/office/login", name="office sign-in", catch_response=True) as r:
            token = re.search(r'name="csrf_token" value="([^"]+)"', r.text or "")
            if not token:
                r.failure("no CSRF token on the sign-in page")
                return
        with self.client.post("/office/login", data={"login": login, "password": PASSWORD, "csrf_token": token[1]},
                              name="office sign-in", allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302 or "login" in r.headers.get("location", ""):
                r.failure(f"sign-in {r.status_code}")

    @task
    def browse(self) -> None:
        page = random.choice(PAGES)
        path = f"/office/{self.school}/" + page.format(cls=f"{random.choice(GRADES)}а")
        with self.client.get(path, name=f"office {page}", allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{path}: {r.status_code}")


class BacklogUser(FastHttpUser):
    """A terminal back after a day offline pushing its journal in big batches; after each push the same
    number of events goes straight into the database (the floor), under the same load."""

    fixed_count = 0
    plan: ClassVar[Plan]
    wait_time = constant(0.5)

    def on_start(self) -> None:
        self.terminal = self.plan.backlog
        self.auth = {"Authorization": f"Bearer {self.terminal.token}"}
        self.seq = 0
        self.floor_rev = 1_000_000

    @task
    def push_and_floor(self) -> None:
        plan = self.plan
        if self.seq >= plan.backlog_events:
            gevent.sleep(1)
            return
        batch = serves(self.terminal, self.seq + 1, min(plan.backlog_batch, plan.backlog_events - self.seq))
        body = {"version": "bench", "outbox_size": len(batch), "terminal_time": utc_iso(datetime.now(UTC)),
                "events": batch}
        started = time.perf_counter()
        with self.client.post(PUSH_PATH, json=body, headers=self.auth, name=BACKLOG,
                              catch_response=True) as r:
            took = time.perf_counter() - started
            if r.status_code != 200 or len(r.json()["stored"]) != len(batch):
                r.failure(f"backlog push {r.status_code}: {_said(r)}")
                return
        self.seq += len(batch)
        plan.pushed.append((len(batch), took))
        rows = []
        for e in batch:  # the same events, as the server stores them, into the floor's school
            self.floor_rev += 1
            at = datetime.fromisoformat(e["at_utc"]).replace(tzinfo=None)
            rows.append({**e, "id": uuid.uuid4().hex, "terminal_id": "rfloor-T1", "school_id": "rfloor",
                         "at_utc": at, "local_date": date.fromisoformat(e["local_date"]), "server_flags": "",
                         "received_at": at, "rev": self.floor_rev})
        assert plan.floor_engine is not None
        started = time.perf_counter()
        with plan.floor_engine.begin() as conn:  # psycopg yields to the other users while it waits
            conn.execute(insert(Event), rows)
        plan.floor.append((len(rows), time.perf_counter() - started))


def _said(response: Any) -> str:
    return str(response.text if response.text is not None else response.error)[:200]


# --- the run ---------------------------------------------------------------------------------------------

def quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def measure(url: str, plan: Plan, args: argparse.Namespace) -> tuple[list[tuple[float, str, float, bool]], float]:
    """Run the users against `url`; every request as (monotonic start, name, ms, failed), and the wave's end."""
    for user in (TerminalUser, OfficeUser, BacklogUser):
        user.plan = plan
    TerminalUser.fixed_count, OfficeUser.fixed_count, BacklogUser.fixed_count = args.terminals, args.users, 1
    env = Environment(user_classes=[TerminalUser, OfficeUser, BacklogUser], host=url, events=events)
    seen: list[tuple[float, str, float, bool]] = []
    runner = env.create_local_runner()

    def note(request_type: str, name: str, response_time: float, exception: Any, **_: Any) -> None:
        seen.append((time.monotonic() - response_time / 1000, name, response_time, exception is not None))
        if len(seen) >= args.max_requests:
            runner.quit()

    env.events.request.add_listener(note)  # type: ignore[no-untyped-call]
    started = time.monotonic()
    plan.wave_start = started + args.wave_at * args.duration
    runner.start(args.terminals + args.users + 1, spawn_rate=args.spawn_rate)
    gevent.spawn_later(args.duration, runner.quit)
    # The wave ends when every terminal has its snapshot (or at the end of the run).
    while runner.state not in (STATE_STOPPING, STATE_STOPPED) and len(plan.wave_done_at) < args.terminals:
        gevent.sleep(0.5)
    wave_end = max(plan.wave_done_at, default=time.monotonic())
    runner.greenlet.join()
    return seen, wave_end


def report(seen: list[tuple[float, str, float, bool]], plan: Plan, wave_end: float, args: argparse.Namespace,
           setup_s: float) -> bool:
    names = sorted({name for _, name, _, _ in seen})
    failures = 0
    for name in names:
        times = [ms for _, n, ms, _ in seen if n == name]
        failed = sum(1 for _, n, _, bad in seen if n == name and bad)
        failures += failed if name != BUSY else 0
        print(json.dumps({"bench": "region", "request": name, "n": len(times), "failures": failed,
                          "p50_ms": round(quantile(times, 50), 1), "p95_ms": round(quantile(times, 95), 1),
                          "p99_ms": round(quantile(times, 99), 1), "max_ms": round(max(times), 1)},
                         ensure_ascii=False), flush=True)
    # Every request made while the wave lasts, but the backlog's bulk batches (no one waits on a screen for them)
    during = [ms for at, name, ms, _ in seen if plan.wave_start <= at <= wave_end and name not in (TOTAL, BACKLOG)]
    full = [ms for _, name, ms, _ in seen if name == FULL]
    pushed_n, pushed_s = sum(n for n, _ in plan.pushed), sum(s for _, s in plan.pushed)
    floor_n, floor_s = sum(n for n, _ in plan.floor), sum(s for _, s in plan.floor)
    api_eps = pushed_n / pushed_s if pushed_s else 0.0
    floor_eps = floor_n / floor_s if floor_s else 0.0
    ratio = api_eps / floor_eps if floor_eps else 0.0
    wave_p99 = quantile(during, 99) if during else 0.0
    ok = (failures == 0 and ratio >= 0.5 and wave_p99 < 2000 and len(plan.wave_totals) == args.terminals)
    print(json.dumps({
        "bench": "region", "summary": True, "db": "postgresql", "schools": args.schools,
        "terminals": args.terminals, "office_users": args.users, "students_per_school": args.students,
        "workers": args.workers, "full_sync_slots": args.slots, "time_scale": args.time_scale,
        "duration_s": args.duration, "setup_s": round(setup_s, 1), "requests": len(seen), "failures": failures,
        "busy_503": sum(1 for _, name, _, _ in seen if name == BUSY),
        "push_p99_ms": round(quantile([ms for _, n, ms, _ in seen if n == "push"], 99), 1),
        "pull_p99_ms": round(quantile([ms for _, n, ms, _ in seen if n == "pull"], 99), 1),
        "wave": {"terminals_done": len(plan.wave_totals), "span_s": round(wave_end - plan.wave_start, 1),
                 "requests": len(during), "p99_ms": round(wave_p99, 1),
                 "full_pull_p99_ms": round(quantile(full, 99), 1),
                 "total_p99_simulated_s": round(quantile(plan.wave_totals, 99), 1)},
        "ingest": {"events": pushed_n, "api_eps": round(api_eps), "floor_eps": round(floor_eps),
                   "ratio": round(ratio, 3)},
        "goals": {"failures": 0, "ingest_ratio_min": 0.5, "wave_p99_ms_max": 2000}, "ok": ok,
    }, ensure_ascii=False), flush=True)
    return ok


def run(url: str, args: argparse.Namespace) -> bool:
    upgrade(url)
    engine = make_server_engine(url)
    started = time.perf_counter()
    plan = build(engine, args.schools, args.terminals, args.users, args.students)
    setup_s = time.perf_counter() - started
    plan.time_scale, plan.wave_window = args.time_scale, args.wave_window
    plan.backlog_events, plan.backlog_batch, plan.floor_engine = args.backlog_events, args.backlog_batch, engine
    # Every worker must sign the office's session cookie with one key (unset, each draws its own).
    os.environ.setdefault("CANTEEN_SECRET_KEY", uuid.uuid4().hex)
    os.environ["CANTEEN_FULL_SYNC_SLOTS"] = str(args.slots)
    server = Server(url, workers=args.workers)
    try:
        seen, wave_end = measure(server.url, plan, args)
    finally:
        server.stop()
        engine.dispose()
    return report(seen, plan, wave_end, args, setup_s)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--terminals", type=int, default=900)
    parser.add_argument("--users", type=int, default=50, help="office users")
    parser.add_argument("--students", type=int, default=150, help="students of each school")
    parser.add_argument("--time-scale", type=float, default=1.0, help="the terminals' and people's time runs this "
                        "much faster: 5 = a sync every 24–36 s instead of 2–3 min (and Retry-After ÷ 5)")
    parser.add_argument("--duration", type=float, default=480.0, help="hard limit of the run, seconds")
    parser.add_argument("--max-requests", type=int, default=200_000, help="hard limit of requests")
    parser.add_argument("--wave-at", type=float, default=0.2, help="the nightly wave starts at this part of the run")
    parser.add_argument("--wave-window", type=float, default=20.0, help="seconds in which every terminal starts "
                        "its nightly full pull")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (2–4)")
    parser.add_argument("--slots", type=int, default=1, help="CANTEEN_FULL_SYNC_SLOTS of the server: each snapshot "
                        "holds one of the (sync) workers, which the deltas and pushes then wait for")
    parser.add_argument("--spawn-rate", type=float, default=100.0)
    parser.add_argument("--backlog-events", type=int, default=50_000)
    parser.add_argument("--backlog-batch", type=int, default=5000, help="events a push (the client's MAX_BATCH)")
    args = parser.parse_args()
    name = f"canteen_bench_region_{os.getpid()}"
    with psycopg.connect(PG + "postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        ok = run(PG + name, args)
    finally:
        with psycopg.connect(PG + "postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
