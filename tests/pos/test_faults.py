"""Faults at the window: a locked or read-only store, and a process killed while serving."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from drivers.card import CardRead
from pos.decide import Reason
from pos.domain import Meal
from pos.models import Event, Outbox, Served
from pos.store import StoreError, make_engine
from tests.pos.school import School, at, make_school

CARD = "EM:55007EE424"


@pytest.fixture
def school(tmp_path: Path) -> School:
    s = make_school(tmp_path)
    s.add_class("c1", "1а", 1, slots={Meal.BREAKFAST: (1, 1)})
    s.add_student("s1", "c1", card=CARD)
    s.add_student("s2", "c1", card="EM:0000000002")
    return s


def test_locked_database_refuses_the_tap_clearly_and_loses_nothing(school: School) -> None:
    counter = school.counter()
    first = counter.tap(CardRead("EM:0000000002"), now=at(8, 44))
    other = sqlite3.connect(school.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        v = counter.tap(CardRead(CARD), now=at(8, 45))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (v.reason, v.served, v.event_id) == (Reason.STORE_ERROR, False, None)
    assert "база данных терминала занята другой программой" in v.message
    again = counter.tap(CardRead(CARD), now=at(8, 45))  # retried at once: a store error is not debounced
    assert again.served
    with school.engine.connect() as conn:
        ids = conn.execute(select(Event.id).order_by(Event.seq)).scalars().all()
    assert ids == [first.event_id, again.event_id]


def test_read_only_database_is_refused_at_open_with_a_clear_message(school: School) -> None:
    school.engine.dispose()
    with pytest.raises(StoreError, match="только для чтения"):
        make_engine(school.path, readonly=True, create=True)


def test_read_only_database_refuses_to_serve_without_showing_served(school: School) -> None:
    school.counter().tap(CardRead("EM:0000000002"), now=at(8, 44))
    school.engine.dispose()
    readonly = make_engine(school.path, readonly=True, create=False)
    v = School(readonly, school.path).counter().tap(CardRead(CARD), now=at(8, 45))
    assert v.reason is Reason.STORE_ERROR and not v.served
    assert "только для чтения" in v.message


def test_corrupt_database_file_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="повреждён"):
        make_engine(path)


@pytest.mark.slow
def test_journal_survives_kill_9_of_a_serving_process(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pos.cli", "demo", "--db", str(db), "--delay", "0.01", "--date", "2026-11-23"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
    )
    assert proc.stdout is not None
    printed_served: list[str] = []
    for line in proc.stdout:
        if " ВЫДАТЬ " in line:
            printed_served.append(line.rsplit("#", 1)[1].strip())
        if len(printed_served) >= 25:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    engine = make_engine(db)
    with engine.connect() as conn:
        journal = conn.execute(select(Event.id, Event.kind)).all()
        outbox = set(conn.execute(select(Outbox.event_id)).scalars())
        served = conn.execute(select(func.count()).select_from(Served)).scalar()
    ids = [row.id for row in journal]
    assert len(ids) == len(set(ids))
    kinds = dict(journal)
    for event_id in printed_served:
        assert kinds[event_id] == "serve"
        assert event_id in outbox
    assert served == sum(1 for kind in kinds.values() if kind == "serve")


def test_checkpoints_wait_for_an_idle_window_not_for_every_250th_serve(school: School) -> None:
    from pos.store import WAL_AUTOCHECKPOINT_PAGES

    counter = school.counter()
    with school.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_AUTOCHECKPOINT_PAGES
    counter.tap(CardRead(CARD), now=at(8, 45))
    counter.tap(CardRead("EM:0000000002"), now=at(8, 46))
    frames, copied = counter.checkpoint()
    assert frames > 0 and copied == frames
    assert counter.tap(CardRead(CARD), now=at(8, 50)).reason is Reason.ALREADY_SERVED  # nothing lost
