"""Benchmark: read -> verdict panel showing the student, under Textual's test pilot.

1,000 taps from the simulated reader on the demo school (every card of the school in turn, the
clock moved 3 s per tap so no tap is a debounced repeat: each is a real journal transaction).
For each tap the app records when the reader handed the read over (the sink, in the reader's
delivery thread), the engine call's start and end (UI thread), and when the screen had been
refreshed with the new verdict (`call_after_refresh`). Prints one JSON line:

    {"taps":..., "ui_p50_ms":..., "ui_p99_ms":..., "engine_p50_ms":..., "engine_p99_ms":...,
     "overhead_p99_ms":...}

ui = read -> panel painted; engine = `Counter.tap` alone (the floor); overhead = ui - engine per tap.
Goal: overhead_p99_ms under one frame (16 ms).

    .venv/bin/python bench/terminal.py [--taps 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

# This script is bench/terminal.py: run as a script, its folder comes first on sys.path and the
# file would shadow the `terminal` package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from drivers.config import ReaderConfig  # noqa: E402
from drivers.sim import SimReader  # noqa: E402
from pos import demo  # noqa: E402
from pos.counter import Counter  # noqa: E402
from pos.store import make_engine  # noqa: E402
from terminal.app import CanteenApp  # noqa: E402
from terminal.clock import FixedClock  # noqa: E402
from terminal.config import TerminalConfig  # noqa: E402

DAY = date(2026, 11, 23)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench(taps: int, folder: Path) -> dict[str, float | int]:
    db = folder / "bench.db"
    engine = make_engine(db)
    demo.build(engine, day=DAY)
    cards = [uid for shift, n in ((1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (2, 1), (2, 2))
             for uid, _, _ in demo.break_queue(engine, shift=shift, break_no=n)]
    cards.append("EM:00DEADBEEF")  # an unknown card now and then
    clock = FixedClock(datetime.combine(DAY, time(8, 40), tzinfo=ZoneInfo(demo.TIMEZONE)))
    reader = SimReader(debounce=0)
    app = CanteenApp(counter=Counter(engine), read_engine=make_engine(db, readonly=True, create=False),
                     clock=clock, config=TerminalConfig(db=db, reader=ReaderConfig(kind="sim"), bell_on_refuse=False),
                     reader=reader, measure=True)
    async with app.run_test(size=(140, 40)) as pilot:
        while not app.reader_state.connected:
            await pilot.pause(0.01)
        timings = app.timings
        assert timings is not None
        for i in range(taps):
            clock.advance(3)
            reader.present(cards[i % len(cards)])
            while len(timings) <= i or not timings[i].shown:
                await asyncio.sleep(0.0005)
    ui = [(t.shown - t.received) * 1000 for t in timings]
    eng = [(t.engine_end - t.engine_start) * 1000 for t in timings]
    over = [u - e for u, e in zip(ui, eng, strict=True)]
    return {"taps": len(timings), "ui_p50_ms": round(statistics.median(ui), 2), "ui_p99_ms": round(pct(ui, 0.99), 2),
            "engine_p50_ms": round(statistics.median(eng), 2), "engine_p99_ms": round(pct(eng, 0.99), 2),
            "overhead_p99_ms": round(pct(over, 0.99), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--taps", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(asyncio.run(bench(args.taps, Path(folder)))))


if __name__ == "__main__":
    main()
