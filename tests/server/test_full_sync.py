"""The nightly wave of full pulls is spread by the server: few snapshots at once, the rest told when to
come back (503 busy, Retry-After); deltas and pushes never wait; a slot is freed even by a failed pull."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text

from server import full_sync
from server.app import create_app, state
from tests.server.kit import enroll, seed_school

RETRY_S = 20


@pytest.fixture
def one_slot(db_url: str) -> Iterator[Flask]:
    app = create_app({"database_url": db_url, "secret_key": "test", "full_sync_slots": 1,
                      "full_sync_retry_s": RETRY_S})
    yield app
    state(app).engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def slot_free(engine: Engine) -> bool:
    """Whether another process could take the one slot now (tried and let go at once)."""
    with engine.begin() as conn:
        return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:c, 0)"),
                                 {"c": full_sync.LOCK_CLASS}).scalar())


def pulls(client: FlaskClient, token: str, body: dict[str, Any]) -> Any:
    return client.post("/api/sync/pull", json=body, headers=bearer(token))


def test_a_full_pull_waits_for_a_slot_and_is_told_when_to_come_back(one_slot: Flask, db_url: str) -> None:
    engine = state(one_slot).engine
    seed_school(engine)
    _, token = enroll(engine)
    client = one_slot.test_client()
    cursor = pulls(client, token, {"cursor": ""}).json["cursor"]
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as other:  # another worker's full pull holds the only slot
        # (SQLite has no slots to hold, and a transaction left open there would lock the file)
        with other.begin() if postgres else nullcontext():
            if postgres:
                other.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": full_sync.LOCK_CLASS})
            full = pulls(client, token, {"cursor": cursor, "full": True})
            fresh = pulls(client, token, {"cursor": ""})  # a reset store asks for a snapshot too
            delta = pulls(client, token, {"cursor": cursor})
            push = client.post("/api/sync/push", json={"terminal_time": None, "events": []}, headers=bearer(token))
        if not postgres:  # one small server: always admitted (no locks to count with)
            assert full.status_code == fresh.status_code == 200
        else:
            for refused in (full, fresh):
                assert refused.status_code == 503 and refused.json["error"] == "busy"
                assert "сервер занят полной загрузкой" in refused.json["message"]
                assert RETRY_S <= int(refused.headers["Retry-After"]) <= 2 * RETRY_S
        assert delta.status_code == 200 and not delta.json["snapshot"]
        assert push.status_code == 200, push.json
    again = pulls(client, token, {"cursor": cursor, "full": True})  # the slot is free again
    assert again.status_code == 200 and again.json["snapshot"]


@pytest.mark.postgres
def test_the_retry_after_is_jittered(pg_database: str) -> None:
    app = create_app({"database_url": pg_database, "secret_key": "test", "full_sync_slots": 1,
                      "full_sync_retry_s": RETRY_S})
    engine = state(app).engine
    try:
        with engine.connect() as holder, holder.begin():
            holder.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": full_sync.LOCK_CLASS})
            waits = set()
            for _ in range(12):
                with engine.connect() as conn, conn.begin(), pytest.raises(full_sync.FullSyncBusy) as busy:
                    full_sync.take_slot(conn, 1, RETRY_S)
                waits.add(busy.value.retry_after_s)
        assert len(waits) > 1 and all(RETRY_S <= w <= 2 * RETRY_S for w in waits)
    finally:
        engine.dispose()


def test_a_slot_is_held_while_the_pull_runs_and_freed_when_it_fails(one_slot: Flask,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    engine = state(one_slot).engine
    seed_school(engine)
    _, token = enroll(engine)
    seen: list[bool] = []
    from server.api import sync as sync_api

    def failing_pull(conn: Connection, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if engine.dialect.name == "postgresql":
            seen.append(slot_free(engine))
        raise RuntimeError("the pull broke")

    client = one_slot.test_client()
    monkeypatch.setattr(sync_api, "pull", failing_pull)
    broken = pulls(client, token, {"cursor": "", "full": True})
    assert broken.status_code == 500
    monkeypatch.undo()
    if engine.dialect.name == "postgresql":
        assert seen == [False]  # taken while it ran…
        assert slot_free(engine)  # …and given back with the failed transaction
    assert pulls(client, token, {"cursor": "", "full": True}).status_code == 200
