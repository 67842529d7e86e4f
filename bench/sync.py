"""Sync benchmarks: ingest through the real HTTP API vs a Core bulk insert; pull snapshot and delta cost.

Run: ``.venv/bin/python bench/sync.py [--events 200000] [--skip-pg] [--skip-pull]``. Prints one JSON line per result.
The server is a real process (gunicorn, 2 sync workers) on loopback; the client is `sync.client.SyncClient`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import Engine, insert, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Server  # noqa: E402
from pos.models import Event as LocalEvent  # noqa: E402
from pos.models import Outbox  # noqa: E402
from pos.policy import shipped_policies  # noqa: E402
from pos.store import make_engine  # noqa: E402
from server.accounts import add_school, enroll_terminal  # noqa: E402
from server.db import make_server_engine, take_revs  # noqa: E402
from server.importer import import_rows  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Event, SchoolClass, Student  # noqa: E402
from sync.client import SyncClient  # noqa: E402

TZ = "Asia/Krasnoyarsk"
PG = "postgresql://postgres@127.0.0.1:5432/"


def today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()


def school(engine: Engine, school_id: str, students: int) -> None:
    policy = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    with engine.begin() as conn:
        add_school(conn, school_id=school_id, name=school_id, timezone=TZ, policy_text=policy,
                   week_days="1,2,3,4,5,6,7")
        rows = [{"student_id": f"s{n}", "full_name": f"Ученик {n}", "class": f"{n % 11 + 1}а", "shift": 1,
                 "birth_date": "2014-01-01"} for n in range(students)]
        import_rows(conn, school_id, "students", rows)
        import_rows(conn, school_id, "cards", [{"card": f"D10:{n:010d}", "student_id": f"s{n}"}
                                                for n in range(students)])
        day = today()
        import_rows(conn, school_id, "orders", [{"student_id": f"s{n}", "day": d.isoformat(), "meals": "завтрак"}
                                                 for n in range(students) for d in (day, day + timedelta(days=1))])


def bulk_school(engine: Engine, school_id: str, students: int) -> None:
    """A big school inserted with Core (the 100k server's other schools)."""
    policy = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    with engine.begin() as conn:
        add_school(conn, school_id=school_id, name=school_id, timezone=TZ, policy_text=policy)
        rev = take_revs(conn, school_id)
        conn.execute(insert(SchoolClass), [{"school_id": school_id, "id": f"{g}а", "name": f"{g}а", "grade": g,
                                            "shift": 1, "rev": rev} for g in range(1, 12)])
        conn.execute(insert(Student), [{"school_id": school_id, "id": f"s{n}", "full_name": f"Ученик {n}",
                                        "class_id": f"{n % 11 + 1}а", "birth_date": date(2014, 1, 1),
                                        "diet_note": "", "balance_kopecks": 0, "active": True, "rev": rev}
                                       for n in range(students)])


def events(terminal_id: str, count: int) -> list[dict[str, object]]:
    day = today()
    at = datetime.now(UTC).replace(tzinfo=None)
    return [{"id": uuid.uuid4().hex, "terminal_id": terminal_id, "seq": n + 1, "kind": "serve", "at_utc": at,
             "local_date": day, "student_id": f"s{n % 2000}", "card_uid": f"D10:{n % 2000:010d}",
             "meal": "breakfast", "outcome": "serve_free", "reason": "ok", "message": "Бесплатно: завтрак",
             "paid_kopecks": 0, "free_kopecks": 4858, "budget_line": "01100L3040", "ref_event_id": None,
             "source": "card", "staff": "", "note": "", "flags": ""} for n in range(count)]


def ingest(db: str, url: str, count: int, workdir: Path) -> dict[str, object]:
    upgrade(url)
    engine = make_server_engine(url)
    school(engine, "bench", 2000)
    with engine.begin() as conn:
        terminal_id, token = enroll_terminal(conn, "bench")
    store = make_engine(workdir / f"terminal-{db}.db")
    server = Server(url)
    try:
        assert SyncClient(store, server.url, token).sync_once().ok
        journal = events(terminal_id, count)
        with store.begin() as conn:
            conn.execute(insert(LocalEvent), journal)
            conn.execute(insert(Outbox), [{"seq": e["seq"], "event_id": e["id"]} for e in journal])
        client = SyncClient(store, server.url, token, batch_size=5000, timeout_s=120)
        started = time.perf_counter()
        result = client.sync_once()
        api_s = time.perf_counter() - started
        assert result.ok and result.pushed == count, result
    finally:
        server.stop()
    floor_rows = events("floor-T1", count)
    for n, row in enumerate(floor_rows):
        row.update(school_id="bench", server_flags="", received_at=row["at_utc"], rev=10_000_000 + n)
    started = time.perf_counter()
    with engine.begin() as conn:
        for i in range(0, count, 5000):
            conn.execute(insert(Event), floor_rows[i:i + 5000])
    floor_s = time.perf_counter() - started
    engine.dispose()
    api_eps, floor_eps = count / api_s, count / floor_s
    return {"bench": "ingest", "db": db, "events": count, "api_eps": round(api_eps), "floor_eps": round(floor_eps),
            "ratio": round(api_eps / floor_eps, 3)}


def timed_pull(store: Engine, url: str, token: str, *, full: bool = False, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        client = SyncClient(store, url, token)
        started = time.perf_counter()
        assert client.sync_once(full=full).ok
        times.append(time.perf_counter() - started)
        client.close()
    return statistics.median(times)


def change_100(engine: Engine, school_id: str, salt: int) -> None:
    with engine.begin() as conn:
        rev = take_revs(conn, school_id)
        for n in range(100):
            conn.execute(update(Student).where(Student.school_id == school_id, Student.id == f"s{n * 7}")
                         .values(diet_note=f"изменение {salt}", rev=rev))


def pull(url: str, workdir: Path) -> dict[str, object]:
    upgrade(url)
    engine = make_server_engine(url)
    school(engine, "p2k", 2000)
    with engine.begin() as conn:
        _, token = enroll_terminal(conn, "p2k")
    store = make_engine(workdir / "pull.db")
    server = Server(url)
    try:
        snapshot = timed_pull(store, server.url, token, full=True)

        def delta() -> float:
            times = []
            for salt in range(5):
                change_100(engine, "p2k", salt)
                times.append(timed_pull(store, server.url, token, runs=1))
            return statistics.median(times)

        small = delta()
        for k in range(49):  # grow the server to 100,000 students: 49 more schools of 2,000
            bulk_school(engine, f"other{k}", 2000)
        big = delta()
    finally:
        server.stop()
        engine.dispose()
    return {"bench": "pull", "snapshot_2k_s": round(snapshot, 4), "delta_100_on_2k_s": round(small, 4),
            "delta_100_on_100k_s": round(big, 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-pull", action="store_true", help="only the ingest results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(json.dumps(ingest("sqlite", f"sqlite:///{work / 'ingest.db'}", args.events, work)), flush=True)
        if not args.skip_pg:
            name = f"canteen_bench_{os.getpid()}"
            with psycopg.connect(PG + "test", autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
            try:
                print(json.dumps(ingest("postgresql", PG + name, args.events, work)), flush=True)
            finally:
                with psycopg.connect(PG + "test", autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not args.skip_pull:
            print(json.dumps(pull(f"sqlite:///{work / 'pull.db.server'}", work)), flush=True)


if __name__ == "__main__":
    main()
