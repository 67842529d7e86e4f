"""Opening the demo: built when missing, a demo clock outside serving hours, the real clock in a break."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

from terminal.clock import DemoClock, SystemClock
from terminal.config import DEMO_DEFAULTS
from terminal.session import open_demo
from tests.terminal.conftest import DAY, TZ


def test_the_demo_is_built_on_first_start_and_runs_a_demo_clock_at_night(tmp_path: Path) -> None:
    from dataclasses import replace

    config = replace(DEMO_DEFAULTS, db=tmp_path / "demo.db")
    sunday_night = datetime(2026, 11, 22, 22, 0, tzinfo=TZ)
    session = open_demo(config, now=sunday_night)
    assert session.built and config.db.exists()
    assert isinstance(session.clock, DemoClock) and session.clock.simulated
    local = session.clock.now().astimezone(TZ)
    assert (local.date(), local.hour, local.minute) == (DAY, 8, 40)  # the next school day's first break

    again = open_demo(config, now=datetime.combine(DAY, time(8, 45), tzinfo=TZ))
    assert not again.built  # the same school is kept
    assert isinstance(again.clock, SystemClock)  # 08:45 is in the first break: real time
    session.read_engine.dispose()
    again.read_engine.dispose()
    session.counter.engine.dispose()
    again.counter.engine.dispose()


def test_the_demo_clock_can_start_at_a_chosen_time(tmp_path: Path) -> None:
    from dataclasses import replace

    config = replace(DEMO_DEFAULTS, db=tmp_path / "demo.db")
    session = open_demo(config, at=datetime(2026, 11, 25, 12, 30), now=datetime(2026, 11, 23, tzinfo=UTC))
    local = session.clock.now().astimezone(TZ)
    assert (local.day, local.hour, local.minute) == (25, 12, 30) and session.clock.simulated
    session.read_engine.dispose()
    session.counter.engine.dispose()


def test_a_restarted_demo_clock_continues_after_the_last_tap(tmp_path: Path) -> None:
    from dataclasses import replace

    from drivers.card import CardRead
    from tests.terminal.conftest import card_of

    config = replace(DEMO_DEFAULTS, db=tmp_path / "demo.db")
    evening = datetime.combine(DAY, time(21, 0), tzinfo=TZ)
    first = open_demo(config, now=evening)
    tapped_at = datetime.combine(DAY, time(8, 52), tzinfo=TZ)
    first.counter.tap(CardRead(uid=card_of(first.counter.engine, "s00001")), now=tapped_at)
    second = open_demo(config, now=evening)
    start = second.clock.now().astimezone(TZ)
    assert tapped_at < start < tapped_at.replace(minute=54)  # not back to 08:40: the journal never goes back
    for s in (first, second):
        s.read_engine.dispose()
        s.counter.engine.dispose()


def test_the_demo_never_rebuilds_or_deletes_a_real_terminals_store(tmp_path: Path) -> None:
    from dataclasses import replace

    import pytest
    from sqlalchemy import func, select

    from pos.models import Outbox
    from pos.store import StoreError, make_engine
    from tests.pos.school import make_school

    real = make_school(tmp_path)  # a real terminal's store, with an event waiting to be sent
    real.add_class("c1", "1а", 1)
    real.add_student("s1", "c1")
    real.counter().serve_by_hand("s1", reason="забыл карту", now=datetime(2026, 11, 23, 1, 45, tzinfo=UTC))
    real.engine.dispose()
    config = replace(DEMO_DEFAULTS, db=real.path)
    for fresh in (False, True):
        with pytest.raises(StoreError, match="это не демо-база"):
            open_demo(config, fresh=fresh, now=datetime(2026, 11, 22, 22, 0, tzinfo=TZ))
    engine = make_engine(real.path)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Outbox)).scalar() == 1
    engine.dispose()


def test_demo_flag_with_a_real_config_opens_the_demos_own_database(tmp_path: Path) -> None:
    from dataclasses import replace

    from pos.demo import default_db
    from terminal.cli import session_config

    real = replace(DEMO_DEFAULTS, demo=False, db=tmp_path / "terminal.db", staff="Петрова")
    assert session_config(real, demo=True, db=None, staff=None).db == default_db()
    assert session_config(real, demo=True, db=tmp_path / "x.db", staff=None).db == tmp_path / "x.db"
    assert session_config(real, demo=False, db=None, staff=None).db == tmp_path / "terminal.db"
    assert session_config(real, demo=False, db=None, staff="Иванова").staff == "Иванова"
