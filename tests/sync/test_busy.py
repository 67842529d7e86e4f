"""A server busy with the nightly wave answers a full pull 503 busy with Retry-After: the terminal comes
back then with the same full pull, is not marked offline and does not back off; a real outage still is."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from flask import Flask
from sqlalchemy import Engine, text

from pos.counter import Counter
from pos.domain import Meal
from pos.store import make_engine
from server import full_sync
from server.app import create_app, state
from sync.schedule import SyncScheduler
from sync.status import read_status
from tests.server.kit import enroll, seed_school
from tests.sync.test_client import client_for, outbox

BUSY = {"error": "busy", "message": "сервер занят полной загрузкой данных других терминалов"}


@pytest.fixture
def terminal(app: Flask, engine: Engine, tmp_path: Path) -> tuple[Engine, str]:
    seed_school(engine)
    _, token = enroll(engine)
    return make_engine(tmp_path / "t.db"), token


def test_a_busy_answer_is_honoured_not_counted_as_an_outage(app: Flask, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    assert client_for(app, store, token).sync_once().ok
    Counter(store).tap_text("EM:0000000001", meal=Meal.BREAKFAST)
    asked: list[bool] = []
    busy = {"value": True}

    def wave(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/api/sync/pull":
            full = bool(json.loads(request.content).get("full"))
            asked.append(full)
            if full and busy["value"]:
                return httpx.Response(503, json=BUSY, headers={"Retry-After": "45"})
        return None

    scheduler = SyncScheduler(client_for(app, store, token, wave), interval_s=180, min_backoff_s=30)
    result = scheduler.run_once(full=True)  # the nightly run
    assert result.retry_after_s == 45 and not result.ok and "повтор через 45 с" in result.error
    assert result.pushed == 1 and outbox(store) == 0  # the push went through before the refused pull
    assert scheduler.failures == 0 and scheduler.delay_s() == 45  # the server's wait, not a backoff
    with store.connect() as conn:
        status = read_status(conn)
    assert status.online and status.offline_since is None and "повтор через 45 с" in status.last_error
    busy["value"] = False
    scheduler._pass(None)  # the wait is over: the same run again, full as it was
    assert asked == [True, True] and scheduler.last is not None and scheduler.last.ok
    assert scheduler.last.snapshot and scheduler.delay_s() == 180
    scheduler._pass(None)  # and the next regular run is a delta again
    assert asked == [True, True, False]


@pytest.mark.parametrize("answer", [
    httpx.Response(503, json={"error": "unavailable", "message": "база данных недоступна"},
                   headers={"Retry-After": "30"}),  # the server's database is down: an outage
    httpx.Response(503, json=BUSY),  # busy without saying when: not believed
    httpx.Response(503, json=BUSY, headers={"Retry-After": "soon"}),
], ids=["database-down", "no-retry-after", "garbled-retry-after"])
def test_other_503s_still_back_off(app: Flask, terminal: tuple[Engine, str], answer: httpx.Response) -> None:
    store, token = terminal
    assert client_for(app, store, token).sync_once().ok
    scheduler = SyncScheduler(client_for(app, store, token, lambda request: answer), min_backoff_s=30)
    result = scheduler.run_once()
    assert result.retry_after_s is None and not result.ok
    assert scheduler.failures == 1 and scheduler.delay_s() == 30
    with store.connect() as conn:
        status = read_status(conn)
    assert not status.online and status.offline_since is not None


def test_an_http_date_retry_after_is_read(app: Flask, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    assert client_for(app, store, token).sync_once().ok
    later = httpx.Response(503, json=BUSY, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    result = client_for(app, store, token, lambda request: later).sync_once(full=True)
    assert result.retry_after_s == 1.0  # a date already past: come back at once (a second)


@pytest.mark.postgres
def test_the_real_refusal_reaches_the_scheduler(pg_database: str, tmp_path: Path) -> None:
    app = create_app({"database_url": pg_database, "secret_key": "test", "full_sync_slots": 1,
                      "full_sync_retry_s": 40})
    engine = state(app).engine
    try:
        from tests.server.kit import truncate_all

        truncate_all(engine)
        seed_school(engine)
        _, token = enroll(engine)
        store = make_engine(tmp_path / "t.db")
        scheduler = SyncScheduler(client_for(app, store, token))
        with engine.connect() as holder, holder.begin():
            holder.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": full_sync.LOCK_CLASS})
            result = scheduler.run_once(full=True)
        assert result.retry_after_s is not None and 40 <= result.retry_after_s <= 80
        assert scheduler.failures == 0 and scheduler.delay_s() == result.retry_after_s
        assert scheduler.run_once(full=True).ok
    finally:
        engine.dispose()
