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

    .venv/bin/python bench/terminal.py [--taps 1000] [--interval-ms 100] [--no-back-to-back]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time as clock_time
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# This script is bench/terminal.py: run as a script, its folder comes first on sys.path and the
# file would shadow the `terminal` package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from rich.console import RenderableType  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.strip import Strip  # noqa: E402
from textual.widget import Widget  # noqa: E402

from drivers.config import ReaderConfig  # noqa: E402
from drivers.sim import SimReader  # noqa: E402
from pos import demo  # noqa: E402
from pos.counter import Counter  # noqa: E402
from pos.store import make_engine  # noqa: E402
from terminal.app import CanteenApp  # noqa: E402
from terminal.clock import FixedClock  # noqa: E402
from terminal.config import TerminalConfig  # noqa: E402
from terminal.widgets.verdict import VerdictPanel  # noqa: E402

DAY = date(2026, 11, 23)


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


async def bench(taps: int, interval_ms: float, folder: Path, watch: PaintWatch) -> dict[str, Any]:
    db = folder / f"bench-{interval_ms:g}.db"
    engine = make_engine(db)
    demo.build(engine, day=DAY)
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
    ui = [(t.shown - t.received) * 1000 for t in timings]
    eng = [(t.engine_end - t.engine_start) * 1000 for t in timings]
    over = [u - e for u, e in zip(ui, eng, strict=True)]
    return {"label": "paced" if interval_ms else "back-to-back", "interval_ms": interval_ms,
            "taps": len(timings), "ui_p50_ms": round(statistics.median(ui), 2), "ui_p99_ms": round(pct(ui, 0.99), 2),
            "engine_p50_ms": round(statistics.median(eng), 2), "engine_p99_ms": round(pct(eng, 0.99), 2),
            "overhead_p50_ms": round(statistics.median(over), 2), "overhead_p99_ms": round(pct(over, 0.99), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--taps", type=int, default=1000)
    parser.add_argument("--interval-ms", type=float, default=100.0,
                        help="one tap every this many ms (0: back to back only)")
    parser.add_argument("--no-back-to-back", action="store_true", help="skip the back-to-back line")
    args = parser.parse_args()
    watch = PaintWatch()
    watch.install()
    intervals = [args.interval_ms] if args.no_back_to_back or not args.interval_ms else [args.interval_ms, 0.0]
    with tempfile.TemporaryDirectory() as folder:
        for interval in intervals:
            print(json.dumps(asyncio.run(bench(args.taps, interval, Path(folder), watch))), flush=True)


if __name__ == "__main__":
    main()
