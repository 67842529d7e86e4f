"""Two requests of one terminal at once (the scheduler's sync and `canteen sync now`) against a live
server: a push and a pull, or two pushes of overlapping batches, all answer 200 on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from werkzeug.serving import make_server

from server.models import Event
from tests.server.kit import enroll, seed_school
from tests.server.test_api import bearer, event

ROUNDS = 25


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app served by werkzeug's threaded server on loopback, in a thread of this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def at_once(http: httpx.Client, *posts: tuple[str, dict[str, Any]]) -> list[httpx.Response]:
    """POST each (path, JSON body) from its own thread, the threads released together; answers in order."""
    barrier = threading.Barrier(len(posts))
    answers: list[Any] = [None] * len(posts)

    def run(n: int) -> None:
        path, body = posts[n]
        barrier.wait()
        answers[n] = http.post(path, json=body)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(posts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_a_push_and_a_pull_of_one_terminal_at_once_both_succeed(live: str, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    seq = 0
    with httpx.Client(base_url=live, headers=bearer(token), timeout=60) as http:
        cursor = http.post("/api/sync/pull", json={}).json()["cursor"]
        for _ in range(ROUNDS):
            batch = [event(terminal_id, seq + i + 1, student_id=f"s{i % 6 + 1}") for i in range(200)]
            seq += len(batch)
            push, pull = at_once(http, ("/api/sync/push", {"events": batch}),
                                 ("/api/sync/pull", {"cursor": cursor}))
            assert (push.status_code, pull.status_code) == (200, 200), (push.text, pull.text)
            assert len(push.json()["stored"]) == len(batch)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Event)).scalar() == seq


def test_two_pushes_of_overlapping_batches_at_once_store_each_event_once(live: str, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    seq = 0
    with httpx.Client(base_url=live, headers=bearer(token), timeout=60) as http:
        for _ in range(ROUNDS):
            batch = [event(terminal_id, seq + i + 1, student_id=f"s{i % 6 + 1}") for i in range(200)]
            seq += len(batch)
            first, second = at_once(http, ("/api/sync/push", {"events": batch[:150]}),
                                    ("/api/sync/push", {"events": batch[50:]}))
            assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
            stored = first.json()["stored"] + second.json()["stored"]
            assert sorted(stored) == sorted(e["id"] for e in batch)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Event)).scalar() == seq
