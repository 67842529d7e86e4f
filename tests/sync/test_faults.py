"""Faults with a real server process on loopback: killed mid-push, connection cut mid-pull, a week offline."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pos.models import Meta, Outbox, Student
from pos.store import make_engine
from server.db import make_server_engine
from server.models import Event
from sync import keys
from sync.client import SyncClient
from tests.server.kit import enroll, free_port, school_today, seed_school, server_process
from tests.sync.faults import CuttingProxy, fill_journal

pytestmark = pytest.mark.slow


def count(engine: object, model: object) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())  # type: ignore[arg-type]


def test_server_killed_mid_push_then_restarted_stores_every_event_once(db_url: str, tmp_path: Path) -> None:
    server_db = make_server_engine(db_url)
    seed_school(server_db)
    terminal_id, token = enroll(server_db)
    store = make_engine(tmp_path / "t.db")
    port = free_port()
    with server_process(db_url, port) as (url, proc):
        assert SyncClient(store, url, token).sync_once().ok
        ids = fill_journal(store, terminal_id, 8_000, start=school_today())
        client = SyncClient(store, url, token, batch_size=200)
        results = []
        worker = threading.Thread(target=lambda: results.append(client.sync_once()))
        worker.start()
        deadline = time.monotonic() + 60
        while count(store, Outbox) > 7_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.kill()  # SIGKILL in the middle of the push
        worker.join(60)
    assert results and not results[0].ok and count(store, Outbox) > 0
    with server_process(db_url, port) as (url, _proc):
        assert SyncClient(store, url, token).sync_once().ok
    assert count(store, Outbox) == 0
    with server_db.connect() as conn:
        stored = set(conn.execute(select(Event.id).where(Event.terminal_id == terminal_id)).scalars())
    assert stored == set(ids)
    server_db.dispose()


def test_connection_cut_mid_pull_applies_nothing_and_the_next_pull_succeeds(db_url: str, tmp_path: Path) -> None:
    server_db = make_server_engine(db_url)
    seed_school(server_db)
    _, token = enroll(server_db)
    store = make_engine(tmp_path / "t.db")
    with server_process(db_url) as (url, _proc):
        proxy = CuttingProxy(int(url.rsplit(":", 1)[1]))
        try:
            proxy.cut_after = 1500  # headers and part of the snapshot
            result = SyncClient(store, proxy.url, token).sync_once()
            assert not result.ok and result.error
            assert count(store, Student) == 0
            with store.connect() as conn:
                assert not conn.execute(select(Meta.value).where(Meta.key == keys.CURSOR)).scalar()
            proxy.cut_after = None
            assert SyncClient(store, proxy.url, token).sync_once().ok
            assert count(store, Student) == 6
        finally:
            proxy.close()
    server_db.dispose()


def test_terminal_offline_for_a_week_drains_thousands_of_events(db_url: str, tmp_path: Path) -> None:
    server_db = make_server_engine(db_url)
    seed_school(server_db)
    terminal_id, token = enroll(server_db)
    store = make_engine(tmp_path / "t.db")
    with server_process(db_url) as (url, _proc):
        assert SyncClient(store, url, token).sync_once().ok
        week_ago = school_today() - timedelta(days=7)
        ids = fill_journal(store, terminal_id, 5_000, start=week_ago, days=7)
        started = time.monotonic()
        result = SyncClient(store, url, token).sync_once()
        assert result.ok and result.pushed == 5_000 and time.monotonic() - started < 30
    assert count(store, Outbox) == 0
    with server_db.connect() as conn:
        rows = conn.execute(select(Event.local_date, Event.server_flags).where(Event.id.in_(ids[:7]))).all()
    # served days before the last pull happened on data older than the stale bound: flagged, still stored
    assert len(rows) == 7 and any("stale_data" in flags for _, flags in rows)
    server_db.dispose()


def test_a_server_down_for_a_while_then_back_moves_nothing_aside_and_drains(db_url: str, tmp_path: Path) -> None:
    from pos.models import Rejected

    server_db = make_server_engine(db_url)
    seed_school(server_db)
    terminal_id, token = enroll(server_db)
    store = make_engine(tmp_path / "t.db")
    port = free_port()
    with server_process(db_url, port) as (url, _proc):
        assert SyncClient(store, url, token).sync_once().ok
    ids = fill_journal(store, terminal_id, 50, start=school_today())
    for _ in range(10):  # connection refused, sync after sync, across restarts of the client
        result = SyncClient(store, url, token, batch_size=8).sync_once()
        assert not result.ok and "нет связи" in result.error
    assert count(store, Rejected) == 0 and count(store, Outbox) == 50
    with server_process(db_url, port) as (url, _proc):
        assert SyncClient(store, url, token, batch_size=8).sync_once().ok
    assert count(store, Outbox) == 0 and count(store, Rejected) == 0
    with server_db.connect() as conn:
        assert set(conn.execute(select(Event.id).where(Event.terminal_id == terminal_id)).scalars()) == set(ids)
    server_db.dispose()
