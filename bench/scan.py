"""Benchmark: a tap end to end (card id in -> verdict committed) against the durable write alone.

Builds a local store with 100,000 students, 150,000 cards and 1,000,000 past journal events, then
times 5,000 decisions through `Counter.tap`, and the floor: inserting and committing one
journal-sized row with the same SQLite durability settings (WAL, synchronous=FULL, BEGIN
IMMEDIATE), 5,000 times, interleaved with the taps. Prints one JSON line.

    python bench/scan.py [--students N] [--events N] [--taps N] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, Text, insert

from drivers.card import CardRead, em_marine
from pos.cards import match_keys
from pos.counter import Counter
from pos.demo import BELLS
from pos.models import Break, Card, Event, MealSlot, MenuPrice, Order, SchoolClass, Student
from pos.policy import shipped_policies
from pos.settings import write_meta
from pos.store import make_engine

TZ = ZoneInfo("Asia/Krasnoyarsk")
DAY = date(2026, 11, 23)
CHUNK = 20_000


def build(engine: Engine, students: int, cards: int, events: int, rng: random.Random) -> list[str]:
    """Fill the store fast (bulk inserts in big transactions); return the card ids that will tap."""
    with engine.begin() as conn:
        write_meta(conn, {
            "terminal_id": "BENCH-1", "school_id": "bench", "school_name": "Bench", "timezone": str(TZ),
            "week_days": "1,2,3,4,5,6", "policy": shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8"),
        })
        conn.execute(insert(Break), [{"shift": s, "number": n, "starts": a, "ends": b}
                                     for s, bells in BELLS.items() for n, (a, b) in enumerate(bells, 1)])
        conn.execute(insert(MenuPrice), [{"day": DAY, "meal": "breakfast", "price_kopecks": 7500}])
        classes = [{"id": f"c{i}", "name": f"{i % 11 + 1}-{i}", "grade": i % 11 + 1, "shift": 1} for i in range(400)]
        conn.execute(insert(SchoolClass), classes)
        conn.execute(insert(MealSlot), [{"class_id": c["id"], "meal": "breakfast", "shift": 1, "break_no": 1}
                                        for c in classes])
    uids: list[str] = []
    for start in range(0, students, CHUNK):
        rows, card_rows, orders = [], [], []
        for i in range(start, min(start + CHUNK, students)):
            grade = i % 400 % 11 + 1
            rows.append({"id": f"s{i}", "full_name": f"Ученик {i}", "class_id": f"c{i % 400}",
                         "birth_date": date(2019 - grade, 3, 1), "balance_kopecks": rng.choice([0, 50000]),
                         "diet_note": ""})
            orders.append({"student_id": f"s{i}", "day": DAY, "meal": "breakfast"})
        for i in range(start, min(start + CHUNK, students)):
            for k in range(2 if i < cards - students else 1):
                uid = em_marine(f"{rng.getrandbits(40):010X}")
                key32, key24 = match_keys(uid)
                card_rows.append({"uid": uid, "student_id": f"s{i}", "key32": key32, "key24": key24,
                                  "blocked": k == 1, "blocked_reason": ""})
                if k == 0:
                    uids.append(uid)
        with engine.begin() as conn:
            conn.execute(insert(Student), rows)
            conn.execute(insert(Card).prefix_with("OR IGNORE"), card_rows)
            conn.execute(insert(Order), orders)
    past = datetime(2026, 9, 2, 1, 0)
    for start in range(0, events, CHUNK * 5):
        batch = []
        for seq in range(start + 1, min(start + CHUNK * 5, events) + 1):
            at = past + timedelta(seconds=seq * 5)
            batch.append({"id": uuid.uuid4().hex, "terminal_id": "BENCH-1", "seq": seq, "kind": "serve",
                          "at_utc": at, "local_date": at.date(), "student_id": f"s{seq % students}",
                          "card_uid": None, "meal": "breakfast", "outcome": "serve_free", "reason": "ok",
                          "message": "Бесплатно: завтрак", "paid_kopecks": 0, "free_kopecks": 4858,
                          "budget_line": "01100L3040", "ref_event_id": None, "source": "card", "staff": "",
                          "note": "", "flags": ""})
        with engine.begin() as conn:
            conn.execute(insert(Event), batch)
    return uids


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=1000)[int(p * 10) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--cards", type=int, default=150_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--taps", type=int, default=5_000)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="canteen-bench-")) if args.db is None else args.db.parent
    path = args.db or folder / "scan.db"
    engine = make_engine(path)
    rng = random.Random(7)
    started = time.perf_counter()
    uids = build(engine, args.students, args.cards, args.events, rng)
    built_s = time.perf_counter() - started

    counter = Counter(engine)
    taps = rng.sample(uids, args.taps)
    base = datetime(2026, 11, 23, 8, 40, tzinfo=TZ).astimezone(UTC)
    floor_table = Table(
        "bench_floor", MetaData(),
        Column("id", String(32), primary_key=True), Column("seq", Integer, unique=True),
        Column("at_utc", DateTime), Column("student_id", String(64)), Column("message", Text),
        Column("amount", Integer),
    )
    floor_table.create(engine, checkfirst=True)
    # Taps and floor inserts alternate, so both meet the same disk and CPU conditions.
    latencies, floor = [], []
    for i, uid in enumerate(taps):
        t0 = time.perf_counter()
        verdict = counter.tap(CardRead(uid, reader_id="bench"), now=base + timedelta(milliseconds=100 * i))
        latencies.append((time.perf_counter() - t0) * 1000)
        assert verdict.event_id, verdict
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(floor_table).values(
                id=uuid.uuid4().hex, seq=i, at_utc=datetime.now(UTC).replace(tzinfo=None), student_id=f"s{i}",
                message="Бесплатно: завтрак", amount=4858))
        floor.append((time.perf_counter() - t0) * 1000)

    p50, p99 = statistics.median(latencies), percentile(latencies, 99)
    f50, f99 = statistics.median(floor), percentile(floor, 99)
    print(json.dumps({
        "students": args.students, "cards": args.cards, "events": args.events, "taps": args.taps,
        "p50_ms": round(p50, 3), "p99_ms": round(p99, 3), "floor_p50_ms": round(f50, 3),
        "floor_p99_ms": round(f99, 3), "ratio_p99": round(p99 / f99, 3), "build_s": round(built_s, 1),
    }))


if __name__ == "__main__":
    main()
