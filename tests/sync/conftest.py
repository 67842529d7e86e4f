"""Sync tests use the same server databases as tests/server: SQLite, and PostgreSQL marked `postgres`."""

from tests.server.conftest import app, client, db_url, engine, pg_database

__all__ = ["app", "client", "db_url", "engine", "pg_database"]
