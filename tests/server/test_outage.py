"""A database that is down, unreachable, dropped or locked: every request answers 503 with
Retry-After in the API's JSON error shape, never 500; the health check says so too."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.app import create_app, state
from server.migrate import upgrade
from tests.server.kit import PG_ADMIN_URL, enroll, free_port, make_admin, seed_school
from tests.server.test_api import bearer, event, login


def assert_unavailable(response: TestResponse) -> None:
    assert response.status_code == 503, response.data
    assert response.headers["Retry-After"] == "30"
    assert response.json == {"error": "unavailable", "message": "база данных сервера недоступна; повторите через 30 с"}


@pytest.fixture
def app_on() -> Iterator[list[Flask]]:
    """Apps made by the test (`apps.append(create_app(...))`), their engines disposed at the end."""
    apps: list[Flask] = []
    yield apps
    for app in apps:
        state(app).engine.dispose()


def make(apps: list[Flask], url: str) -> FlaskClient:
    app = create_app({"database_url": url, "secret_key": "test"})
    apps.append(app)
    return app.test_client()


@pytest.mark.postgres
def test_postgresql_that_does_not_answer_gets_503_on_every_request(app_on: list[Flask]) -> None:
    client = make(app_on, f"postgresql://postgres@127.0.0.1:{free_port()}/canteen")  # nothing listens there
    assert_unavailable(client.get("/api/health"))
    assert_unavailable(client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"}))
    assert_unavailable(client.get("/api/schools", headers=bearer("adm-0123456789abcdef.secret")))
    assert_unavailable(client.post("/api/sync/push", json={"events": []}, headers=bearer("sch1-T1.secret")))


def test_sqlite_file_that_cannot_be_opened_gets_503(app_on: list[Flask], tmp_path: Path) -> None:
    client = make(app_on, f"sqlite:///{tmp_path / 'no-such-dir' / 'server.db'}")
    assert_unavailable(client.get("/api/health"))
    assert_unavailable(client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"}))


def test_sqlite_locked_longer_than_the_wait_gets_503(app_on: list[Flask], tmp_path: Path) -> None:
    path = tmp_path / "server.db"
    upgrade(f"sqlite:///{path}")
    client = make(app_on, f"sqlite:///{path}?timeout=0.05")
    seed_school(state(app_on[0]).engine)
    terminal_id, token = enroll(state(app_on[0]).engine)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than the server waits
        assert_unavailable(client.post("/api/sync/push", json={"events": [event(terminal_id, 1)]},
                                       headers=bearer(token)))
    finally:
        holder.close()
    assert client.post("/api/sync/push", json={"events": [event(terminal_id, 1)]},
                       headers=bearer(token)).status_code == 200


@pytest.mark.postgres
def test_postgresql_database_dropped_mid_run_gets_503_and_lost_connections_are_replaced(
        app_on: list[Flask]) -> None:
    name = f"canteen_drop_{free_port()}"
    admin = psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    try:
        admin.execute(f"CREATE DATABASE {name}")
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        upgrade(url)
        client = make(app_on, url)
        make_admin(state(app_on[0]).engine)
        token = login(client)
        assert client.get("/api/schools", headers=bearer(token)).status_code == 200
        # The server restarted under us: the pool's connections are dead, new ones work.
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        assert client.get("/api/schools", headers=bearer(token)).status_code == 200
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        assert_unavailable(client.get("/api/health"))
        assert_unavailable(client.get("/api/schools", headers=bearer(token)))
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
