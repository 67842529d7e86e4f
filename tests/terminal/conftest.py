"""Fixtures for the terminal's tests: the demo school (built once, copied per test), a fixed clock, the app."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from textual.pilot import Pilot

from drivers.config import ReaderConfig
from drivers.sim import SimReader
from pos import demo
from pos.counter import Counter
from pos.models import Card
from pos.store import make_engine
from terminal.app import CanteenApp
from terminal.clock import FixedClock
from terminal.config import TerminalConfig

DAY = date(2026, 11, 23)  # a Monday
TZ = ZoneInfo(demo.TIMEZONE)
BREAKFAST_1 = datetime.combine(DAY, time(8, 41), tzinfo=TZ)

# Students of the demo school built with the default seed for DAY (see pos.demo).
FIRST_1A = "s00001"  # 1а, free breakfast
NOT_ORDERED_1B = "s00030"  # 1б, k=5: no order for the day
DIET_4B = "s00061"  # 4б, «Без глютена»
PAID_5A = "s00109"  # 5а, pays from the account, 500,00 ₽ on it


@pytest.fixture
def anyio_backend() -> str:
    """Textual runs on asyncio; anyio's pytest plugin (installed with httpx) runs the async tests."""
    return "asyncio"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "template.db"
    engine = make_engine(path)
    demo.build(engine, day=DAY)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@pytest.fixture
def db(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "terminal.db"
    shutil.copy(demo_template, path)
    wal = demo_template.with_name(demo_template.name + "-wal")
    if wal.exists():
        shutil.copy(wal, path.with_name(path.name + "-wal"))
    return path


@pytest.fixture
def engine(db: Path) -> Iterator[Engine]:
    engine = make_engine(db)
    yield engine
    engine.dispose()


def card_of(engine: Engine, student_id: str) -> str:
    with engine.connect() as conn:
        uid = conn.execute(select(Card.uid).where(Card.student_id == student_id, Card.blocked.is_(False))).scalar()
    assert uid is not None
    return uid


def cards_of_class(engine: Engine, class_name: str, break_no: int = 1) -> list[str]:
    return [uid for uid, _, name in demo.break_queue(engine, shift=1, break_no=break_no) if name == class_name]


AppFactory = Callable[..., CanteenApp]


@pytest.fixture
def make_app(db: Path, engine: Engine) -> Iterator[AppFactory]:
    read_engines: list[Engine] = []

    def make(*, at: datetime = BREAKFAST_1, reader: SimReader | None = None, measure: bool = False,
             **config: object) -> CanteenApp:
        settings = replace(TerminalConfig(db=db, staff="Петрова М. И.", reader=ReaderConfig(kind="sim")), **config)
        read_engine = make_engine(db, readonly=True, create=False)
        read_engines.append(read_engine)
        return CanteenApp(counter=Counter(engine), read_engine=read_engine, clock=FixedClock(at), config=settings,
                          reader=reader if reader is not None else SimReader(debounce=0), measure=measure)

    yield make
    for e in read_engines:
        e.dispose()


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `condition` holds (reader threads and workers deliver asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.01)


async def board_read(pilot: Pilot[None]) -> None:
    """Bring the screen up to date, whatever the timers: run the board read due after taps now, wait
    for the reads in flight and for the list under the panel (filled after the verdict's frame).

    Without it a snapshot or an assertion would depend on whether the 0.3 s after-tap read or the 5 s
    periodic one happened to fire first (on a loaded machine they sometimes did).
    """
    app = pilot.app
    assert isinstance(app, CanteenApp)
    app.serving.flush_board()
    await until(pilot, lambda: app.serving.settled)
    await pilot.pause()


async def ready(pilot: Pilot[None]) -> None:
    """The reader has connected and the board has been read once."""
    app = pilot.app
    assert isinstance(app, CanteenApp)
    await until(pilot, lambda: app.reader_state.connected and app.board is not None)
    await board_read(pilot)


async def tap(pilot: Pilot[None], number: str) -> None:
    """Present a card to the simulated reader and wait for the verdict it produces."""
    app = pilot.app
    assert isinstance(app, CanteenApp) and isinstance(app.reader, SimReader)
    before = app.last_verdict
    assert app.reader.present(number), f"the simulated reader did not accept {number}"
    await until(pilot, lambda: app.last_verdict is not before)
    await board_read(pilot)


Settle = Callable[[Pilot[None]], Awaitable[None]]
