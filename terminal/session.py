"""Opening the terminal's store and clock from its config: the demo school, or a real terminal's data.

The demo builds its school on first start (or when the data is for another day) and, when the real
time is outside serving hours, runs a demo clock from the first breakfast break so that the break
is "now"; the screen says the clock is simulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from pos import demo as school
from pos.counter import Counter
from pos.queries import current_break, last_event_at, priced_days
from pos.store import StoreError, make_engine
from terminal.clock import Clock, DemoClock, SystemClock
from terminal.config import TerminalConfig

DEMO_START = time(8, 40)


@dataclass
class Session:
    counter: Counter
    read_engine: Engine
    clock: Clock
    built: bool = False  # the demo school was (re)built now


def _remove_db(path: Path) -> None:
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)


def _refuse_unless_demo(path: Path) -> None:
    """The demo rebuilds its store at will: never a store that is not the demo's own."""
    if path.exists() and path.stat().st_size and not school.is_demo_store(path):
        raise StoreError(f"{path}: это не демо-база (в ней данные настоящего терминала); демо её не изменит — "
                         "укажите другой файл: --db var/demo.db")


def _demo_ready(engine: Engine, day: date) -> bool:
    try:
        with engine.connect() as conn:
            return bool(priced_days(conn, day))
    except Exception:
        return False


def open_demo(config: TerminalConfig, *, at: datetime | None = None, fresh: bool = False,
              now: datetime | None = None) -> Session:
    """The demo school at `config.db`, (re)built when missing, stale or asked for."""
    tz = ZoneInfo(school.TIMEZONE)
    real = (now or datetime.now(UTC)).astimezone(tz)
    day = school.next_school_day(at.date() if at else real.date())
    built = False
    _refuse_unless_demo(config.db)
    if fresh:
        _remove_db(config.db)
    engine = make_engine(config.db)
    if not _demo_ready(engine, day):
        engine.dispose()
        _remove_db(config.db)
        engine = make_engine(config.db)
        school.build(engine, day=day)
        built = True
    counter = Counter(engine)
    clock: Clock
    if at is not None:
        clock = DemoClock(at if at.tzinfo else at.replace(tzinfo=tz))
    else:
        with engine.connect() as conn:
            last = last_event_at(conn)
        brk = current_break(counter.schedule, real)
        serving_now = real.date() == day and brk is not None and brk.in_window
        start = datetime.combine(day, DEMO_START, tzinfo=tz)
        if last is not None and last.astimezone(tz).date() == day and last > start:
            # A restarted demo goes on from its last tap: a clock that went back would flag every serve.
            start = last + timedelta(seconds=1)
        clock = SystemClock() if serving_now else DemoClock(start)
    return Session(counter, make_engine(config.db, readonly=True, create=False), clock, built)


def open_terminal(config: TerminalConfig) -> Session:
    """A real terminal: its local data must be there (from sync); it starts with no network."""
    if not config.db.exists():
        raise StoreError(f"нет базы данных терминала {config.db}: выполните первую синхронизацию "
                         "или запустите демо (canteen terminal --demo)")
    engine = make_engine(config.db)
    counter = Counter(engine)
    return Session(counter, make_engine(config.db, readonly=True, create=False), SystemClock())
