"""One event the server chokes on never makes the terminal stale: the pull always runs, and a batch the
server keeps failing on is narrowed down to the event at fault, while an outage moves nothing aside.

The server is the real Flask app (SQLite and PostgreSQL); the faults are answers a real server gives
when one event trips a bug in it (a 500, or a worker dying mid-request), injected per request.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from flask import Flask
from sqlalchemy import Engine, func, select, update

from pos.counter import Counter
from pos.domain import Meal
from pos.models import Event, Meta, Rejected, Student
from pos.store import make_engine
from server.db import take_revs
from server.models import Event as ServerEvent
from server.models import Student as ServerStudent
from sync import keys
from sync.client import POISON_ATTEMPTS, SERVER_ERROR
from tests.server.kit import enroll, seed_school
from tests.sync.test_client import client_for, outbox

PUSH = "/api/sync/push"
Handler = Callable[[httpx.Request], httpx.Response | None]


@pytest.fixture
def served(app: Flask, engine: Engine, tmp_path: Path) -> tuple[Engine, str, list[str]]:
    """A synced terminal with six meals served, not yet pushed: (store, token, event ids in journal order)."""
    seed_school(engine)
    _, token = enroll(engine)
    store = make_engine(tmp_path / "t.db")
    assert client_for(app, store, token).sync_once().ok
    counter = Counter(store)
    for n in range(1, 7):
        counter.tap_text(f"EM:00000000{n:02d}", meal=Meal.BREAKFAST)
    with store.connect() as conn:
        ids = list(conn.execute(select(Event.id).order_by(Event.seq)).scalars())
    return store, token, ids


def rejected(store: Engine) -> list[tuple[str, str, str]]:
    with store.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Rejected.event_id, Rejected.reason, Rejected.message))]


def at_server(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(ServerEvent.id)).scalars())


@pytest.mark.parametrize("failure", ["503", "429", "connect"])
def test_a_failed_push_still_pulls_and_the_result_says_which_half_failed(
        app: Flask, engine: Engine, served: tuple[Engine, str, list[str]], failure: str) -> None:
    store, token, _ = served
    with engine.begin() as conn:  # the office renames a student: only a pull brings it to the window
        conn.execute(update(ServerStudent).where(ServerStudent.id == "s1")
                     .values(full_name="Иванов Пётр", rev=take_revs(conn, "sch1")))

    def push_fails(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != PUSH:
            return None
        if failure == "connect":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(int(failure), json={"error": "busy", "message": "занят"})

    result = client_for(app, store, token, push_fails).sync_once()
    assert not result.ok and result.push_error and not result.pull_error and result.pulled_ok
    assert result.error.startswith("журнал не отправлен:") and "данные школы не загружены" not in result.error
    assert outbox(store) == 6
    with store.connect() as conn:
        assert conn.execute(select(Student.full_name).where(Student.id == "s1")).scalar() == "Иванов Пётр"


def test_a_refused_token_stops_the_pull_too(app: Flask, served: tuple[Engine, str, list[str]]) -> None:
    store, token, _ = served
    asked: list[str] = []

    def refused(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(401, json={"error": "unauthorized", "message": "токен отозван"})

    result = client_for(app, store, token, refused).sync_once()
    assert not result.ok and "токен" in result.error and asked == [PUSH]


def poison(event_id: str, how: str) -> Handler:
    """A server that fails on every push holding this one event, whatever else the batch holds."""
    def handler(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == PUSH and event_id.encode() in request.content:
            if how == "drop":  # the worker dies on it: the connection closes without an answer
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            return httpx.Response(500, json={"error": "internal", "message": "внутренняя ошибка сервера"})
        return None
    return handler


@pytest.mark.parametrize("how", ["500", "drop"])
def test_an_event_the_server_always_fails_on_is_found_and_set_aside_and_the_rest_goes_through(
        app: Flask, engine: Engine, served: tuple[Engine, str, list[str]], how: str) -> None:
    store, token, ids = served
    bad = ids[2]  # in the first batch of four, with good events before and after it
    for _ in range(POISON_ATTEMPTS - 1):  # a new client each time: the count lives in the store
        result = client_for(app, store, token, poison(bad, how)).sync_once()
        assert not result.ok and result.pulled_ok
    assert rejected(store) == [] and outbox(store) == 6  # not yet: it may still be a passing fault
    for _ in range(3 * POISON_ATTEMPTS):
        client_for(app, store, token, poison(bad, how)).sync_once()
        if not outbox(store):
            break
    assert outbox(store) == 0
    [(event_id, reason, message)] = rejected(store)
    assert (event_id, reason) == (bad, SERVER_ERROR) and "ошибка сервера" in message and "requeue" in message
    assert at_server(engine) == set(ids) - {bad}
    with store.connect() as conn:  # the journal keeps it; nothing is left of the narrowing
        assert conn.execute(select(func.count()).select_from(Event).where(Event.id == bad)).scalar_one() == 1
        assert not conn.execute(select(Meta.value).where(Meta.key == keys.PUSH_TROUBLE)).scalar()
    assert client_for(app, store, token).sync_once().ok


def test_a_server_down_for_a_while_then_back_moves_nothing_aside(app: Flask, engine: Engine,
                                                                 served: tuple[Engine, str, list[str]]) -> None:
    store, token, ids = served
    phase = {"now": "refused"}

    def outage(request: httpx.Request) -> httpx.Response | None:
        if phase["now"] == "refused":
            raise httpx.ConnectError("connection refused", request=request)
        if phase["now"] == "5xx":  # up, but its database is not: every request fails
            return httpx.Response(503, json={"error": "unavailable", "message": "база недоступна"})
        if phase["now"] == "push 5xx" and request.url.path == PUSH:
            return httpx.Response(500, json={"error": "internal", "message": "внутренняя ошибка сервера"})
        return None

    for now in ("refused", "5xx", "push 5xx"):  # one after the other, each longer than the narrowing needs
        phase["now"] = now
        for _ in range(3 * POISON_ATTEMPTS):
            assert not client_for(app, store, token, outage).sync_once().ok
        assert rejected(store) == [] and outbox(store) == 6
    phase["now"] = "healed"
    result = client_for(app, store, token, outage).sync_once()
    assert result.ok and rejected(store) == [] and outbox(store) == 0 and at_server(engine) == set(ids)
