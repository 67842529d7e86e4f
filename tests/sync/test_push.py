"""The push pipeline: batch k is settled while batch k+1 is at the server, and a failure of k+1
leaves exactly its events waiting."""

from __future__ import annotations

import httpx
from flask import Flask
from sqlalchemy import Engine, func, select

from pos.counter import Counter
from pos.domain import Meal
from pos.models import Event as LocalEvent
from server.models import Event as ServerEvent
from tests.sync.test_client import client_for, outbox, terminal

__all__ = ["terminal"]


def test_second_batch_failing_leaves_only_its_events_waiting(app: Flask, engine: Engine,
                                                            terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    counter = Counter(store)
    for n in range(1, 7):
        counter.tap_text(f"EM:00000000{n:02d}", meal=Meal.BREAKFAST)
    pushes = []

    def second_push_fails(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/api/sync/push":
            pushes.append(request)
            if len(pushes) == 2:
                return httpx.Response(503, json={"error": "internal_error", "message": "сбой"})
        return None

    result = client_for(app, store, token, second_push_fails).sync_once()  # batches of 4 and 2
    assert not result.ok and "код 503" in result.error and result.pushed == 4 and outbox(store) == 2
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ServerEvent)).scalar() == 4
    assert client_for(app, store, token).sync_once().ok and outbox(store) == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ServerEvent)).scalar() == 6


def test_control_characters_typed_at_the_window_are_journaled_clean_and_the_server_stores_the_event(
        app: Flask, engine: Engine, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    verdict = Counter(store).serve_by_hand("s1", reason="карта\tзабыта\x00", staff="Ив\ud800анова",
                                           meal=Meal.BREAKFAST)
    assert verdict.served
    with store.connect() as conn:
        local = conn.execute(select(LocalEvent.note, LocalEvent.staff)).one()
    assert tuple(local) == ("карта забыта\ufffd", "Ив\ufffdанова")
    result = client_for(app, store, token).sync_once()
    assert result.ok and result.pushed == 1 and result.rejected == 0 and outbox(store) == 0
    with engine.connect() as conn:
        assert tuple(conn.execute(select(ServerEvent.note, ServerEvent.staff)).one()) == tuple(local)
