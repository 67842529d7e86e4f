"""Benchmark: read -> verdict panel showing the student, under Textual's test pilot.

1,000 taps from the simulated reader on the demo school (every card of the school in turn, the
clock moved 3 s per tap so no tap is a debounced repeat: each is a real journal transaction).

Pacing. A real queue at the window is one child every ~3 s. The taps are presented on a fixed
schedule, one every `--interval-ms` (default 100 ms: still 30x faster than a real queue, so the
board refreshes after taps, the clock tick and the periodic 5 s refresh all land between taps as
they would, several times more often). Taps back to back (the next read as soon as the previous
verdict is painted, ~every 20 ms) measure queueing behind the previous tap's repaint more than
read -> panel; that figure is printed too, as a second line labelled "back-to-back"
(`--interval-ms 0` alone gives only that line).

A third line, labelled "paced+sync", paces the taps the same way while the terminal's sync client
pushes a 5,000-event outbox to a real server (gunicorn on loopback, SQLite) in a thread of the same
process, again and again for the whole run, as the background sync does every few minutes during a
break (the same 5,000 events are queued again after each push: the server answers "duplicate", the
terminal's side of the work is the same). Its pull is left out: the demo school is not on that server.

What is timed, per tap (perf_counter):
  received  the reader handed the read over (the sink, in the reader's delivery thread);
  engine    `Counter.tap` on the UI thread, start to end (the floor: the journal's commit);
  shown     the end of the first frame whose output includes the verdict panel rendered with this
            tap's verdict. The bench watches the panel's widgets being rendered by Textual's
            compositor and the frame being handed to the driver (`App._display`); the headless
            driver writes nothing, so the bench also turns the frame into the terminal's escape
            sequences (`render_segments`), the work a real terminal's frame costs. Repaints are capped
            at 60 fps (TEXTUAL_FPS), so a tap that arrives just after a frame waits for the next.
ui = shown - received; overhead = ui - engine, per tap; the p99 of each. Goal: overhead_p99_ms under
one frame (16 ms). Prints one JSON line per pacing:

    {"label":..., "interval_ms":..., "taps":..., "ui_p50_ms":..., "ui_p99_ms":..., "engine_p50_ms":...,
     "engine_p99_ms":..., "overhead_p50_ms":..., "overhead_p99_ms":...}

    .venv/bin/python bench/terminal.py [--taps 1000] [--interval-ms 100] [--no-back-to-back] [--no-sync]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time as clock_time
import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# This script is bench/terminal.py: run as a script, its folder comes first on sys.path and the
# file would shadow the `terminal` package it measures.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from rich.console import RenderableType  # noqa: E402
from sqlalchemy import Engine, insert  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.strip import Strip  # noqa: E402
from textual.widget import Widget  # noqa: E402

from bench.common import Server  # noqa: E402
from drivers.config import ReaderConfig  # noqa: E402
from drivers.sim import SimReader  # noqa: E402
from pos import demo  # noqa: E402
from pos.counter import Counter  # noqa: E402
from pos.ledger import EventKind  # noqa: E402
from pos.models import Event  # noqa: E402
from pos.policy import shipped_policies  # noqa: E402
from pos.settings import write_meta  # noqa: E402
from pos.store import make_engine  # noqa: E402
from server.accounts import add_school, enroll_terminal  # noqa: E402
from server.db import make_server_engine  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from sync.client import SyncClient, SyncResult  # noqa: E402
from terminal.app import CanteenApp  # noqa: E402
from terminal.clock import FixedClock  # noqa: E402
from terminal.config import TerminalConfig  # noqa: E402
from terminal.widgets.verdict import VerdictPanel  # noqa: E402

DAY = date(2026, 11, 23)
SYNC_EVENTS = 5000
SEEDED_SEQ = 10_000_000  # the seeded outbox events' seqs, far above the taps'


class PushOnly(SyncClient):
    """The terminal's own sync client without the pull (the demo school is not on the bench's server)."""

    def _pull(self, *_: Any, **__: Any) -> None:
        return None


class BackgroundPushes:
    """Push a 5,000-event outbox again and again in a thread until stopped, as the scheduler would."""

    def __init__(self, store: Engine, server_url: str, token: str, terminal_id: str) -> None:
        self.store, self.client = store, PushOnly(store, server_url, token, timeout_s=120)
        self.syncs = self.pushed = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        at = datetime.combine(DAY, time(8, 30), tzinfo=ZoneInfo(demo.TIMEZONE)).astimezone(UTC).replace(tzinfo=None)
        rows = [{"id": uuid.uuid4().hex, "terminal_id": terminal_id, "seq": SEEDED_SEQ + n, "kind": EventKind.SERVE,
                 "at_utc": at, "local_date": DAY, "student_id": f"x{n}", "card_uid": None, "meal": "breakfast",
                 "outcome": "serve_free", "reason": "ok", "message": "Бесплатно: завтрак", "paid_kopecks": 0,
                 "free_kopecks": 4858, "budget_line": None, "ref_event_id": None, "source": "card", "staff": "",
                 "note": "", "flags": ""} for n in range(SYNC_EVENTS)]
        with store.begin() as conn:
            conn.execute(insert(Event), rows)
        self.thread = threading.Thread(target=self._run, name="bench-sync", daemon=True)

    def _queue(self) -> None:
        with self.store.begin() as conn:
            conn.exec_driver_sql("INSERT OR IGNORE INTO outbox (seq, event_id) SELECT seq, id FROM events "
                                 "WHERE seq >= ?", (SEEDED_SEQ,))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._queue()
            result: SyncResult = self.client.sync_once()
            self.syncs += 1
            self.pushed += result.pushed
            if not result.ok:
                self.errors.append(result.error)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(120)
        self.client.close()


def bench_server(folder: Path) -> tuple[Server, str, str]:
    """A server on a fresh SQLite database with one school and this bench's terminal enrolled."""
    url = f"sqlite:///{folder / 'server.db'}"
    upgrade(url)
    engine = make_server_engine(url)
    with engine.begin() as conn:
        add_school(conn, school_id="bench", name="bench", timezone=demo.TIMEZONE,
                   policy_text=shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8"))
        terminal_id, token = enroll_terminal(conn, "bench")
    engine.dispose()
    return Server(url, workers=1), terminal_id, token


class PaintWatch:
    """Which verdict the panel's widgets were last rendered with, and when a frame carried it out."""

    def __init__(self) -> None:
        self.panel: VerdictPanel | None = None
        self.rendered: object = None  # the panel's `view` when it was last rendered by the compositor

    def install(self) -> None:
        watch = self
        render_lines = Widget.render_lines

        def watched(widget: Widget, crop: Any) -> list[Strip]:
            panel = watch.panel
            if panel is not None and (widget is panel or widget.parent is panel):
                watch.rendered = panel.view
            return render_lines(widget, crop)

        Widget.render_lines = watched  # type: ignore[method-assign]


class BenchApp(CanteenApp):
    # Relative CSS paths resolve against the subclass's module: point back at the app's own file.
    CSS_PATH = str(Path(sys.modules[CanteenApp.__module__].__file__ or "").parent / CanteenApp.CSS_PATH)
    watch: PaintWatch

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        if isinstance(renderable, CompositorUpdate) and self.is_headless:
            # What the real driver would do with the frame (the headless one skips it).
            renderable.render_segments(self.console)
        panel, timings = self.watch.panel, self.timings
        if panel is None or timings is None or self.watch.rendered is not panel.view:
            return
        now = clock_time.perf_counter()
        # The panel as it is now has been painted: every tap not yet shown is shown (a tap whose
        # verdict was replaced before any frame, back to back, counts as shown with the newer one).
        for timing in reversed(timings):
            if timing.shown:
                break
            timing.shown = now


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench(taps: int, interval_ms: float, folder: Path, watch: PaintWatch, *, sync: bool = False
                ) -> dict[str, Any]:
    db = folder / f"bench-{interval_ms:g}{'-sync' if sync else ''}.db"
    engine = make_engine(db)
    demo.build(engine, day=DAY)
    server, pushes = None, None
    if sync:
        server, terminal_id, token = bench_server(folder)
        with engine.begin() as conn:  # the taps' events are this terminal's, as on a real window
            write_meta(conn, {"terminal_id": terminal_id})
        pushes = BackgroundPushes(engine, server.url, token, terminal_id)
    cards = [uid for shift, n in ((1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (2, 1), (2, 2))
             for uid, _, _ in demo.break_queue(engine, shift=shift, break_no=n)]
    cards.append("EM:00DEADBEEF")  # an unknown card now and then
    clock = FixedClock(datetime.combine(DAY, time(8, 40), tzinfo=ZoneInfo(demo.TIMEZONE)))
    reader = SimReader(debounce=0)
    app = BenchApp(counter=Counter(engine), read_engine=make_engine(db, readonly=True, create=False),
                   clock=clock, config=TerminalConfig(db=db, reader=ReaderConfig(kind="sim"), bell_on_refuse=False),
                   reader=reader, measure=True)
    app.watch = watch
    async with app.run_test(size=(140, 40)) as pilot:
        while not app.reader_state.connected or app.board is None:
            await pilot.pause(0.01)
        watch.panel = app.serving.query_one(VerdictPanel)
        await pilot.pause(0.5)  # let the first board read and its paint settle
        if pushes is not None:
            pushes.start()
        timings = app.timings
        assert timings is not None
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(taps):
            due = start + i * interval_ms / 1000
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            clock.advance(3)
            reader.present(cards[i % len(cards)])
            while len(timings) <= i or not timings[i].shown:
                await asyncio.sleep(0.0005)
        watch.panel = None
        if pushes is not None:
            pushes.stop()
    if server is not None:
        server.stop()
    ui = [(t.shown - t.received) * 1000 for t in timings]
    eng = [(t.engine_end - t.engine_start) * 1000 for t in timings]
    over = [u - e for u, e in zip(ui, eng, strict=True)]
    extra = {"syncs": pushes.syncs, "events_pushed": pushes.pushed, "sync_errors": len(pushes.errors)} if pushes else {}
    label = ("paced+sync" if sync else "paced") if interval_ms else "back-to-back"
    return {"label": label, "interval_ms": interval_ms, **extra,
            "taps": len(timings), "ui_p50_ms": round(statistics.median(ui), 2), "ui_p99_ms": round(pct(ui, 0.99), 2),
            "engine_p50_ms": round(statistics.median(eng), 2), "engine_p99_ms": round(pct(eng, 0.99), 2),
            "overhead_p50_ms": round(statistics.median(over), 2), "overhead_p99_ms": round(pct(over, 0.99), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--taps", type=int, default=1000)
    parser.add_argument("--interval-ms", type=float, default=100.0,
                        help="one tap every this many ms (0: back to back only)")
    parser.add_argument("--no-back-to-back", action="store_true", help="skip the back-to-back line")
    parser.add_argument("--no-sync", action="store_true", help="skip the paced+sync line")
    args = parser.parse_args()
    watch = PaintWatch()
    watch.install()
    runs = [(args.interval_ms, False)] if args.interval_ms else []
    runs += [] if args.no_back_to_back and args.interval_ms else [(0.0, False)]
    runs += [] if args.no_sync or not args.interval_ms else [(args.interval_ms, True)]
    with tempfile.TemporaryDirectory() as folder:
        for interval, sync in runs:
            result = asyncio.run(bench(args.taps, interval, Path(folder), watch, sync=sync))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
