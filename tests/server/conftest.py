"""Fixtures: every server test runs on SQLite and, marked `postgres`, on a fresh PostgreSQL database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from server.app import create_app, state
from server.db import make_server_engine
from server.migrate import upgrade
from tests.server.kit import PG_ADMIN_URL, truncate_all


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of its own for this test session, migrated by Alembic, dropped at the end."""
    name = f"canteen_t_{os.getpid()}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql")
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not available: {exc}")
    conn.execute(f"DROP DATABASE IF EXISTS {name}")
    conn.execute(f"CREATE DATABASE {name}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.db'}"
        upgrade(url)  # every test database is made by the migrations, not by create_all
        yield url
        return
    url = request.getfixturevalue("pg_database")
    engine = make_server_engine(url)
    truncate_all(engine)
    engine.dispose()
    yield url


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    app = create_app({"database_url": db_url, "secret_key": "test"})
    yield app
    state(app).engine.dispose()


@pytest.fixture
def engine(app: Flask) -> Engine:
    return state(app).engine


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
