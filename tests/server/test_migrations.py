"""The server's Alembic migrations, run on an empty database, produce exactly `server.models`."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from server.db import make_server_engine
from server.migrate import alembic_config
from server.models import Base
from tests.schema_diff import schema_differences


def test_migrations_from_empty_match_the_models(db_url: str) -> None:
    engine = make_server_engine(db_url)  # db_url: an empty database upgraded to head (SQLite, PostgreSQL)
    try:
        with engine.connect() as conn:
            assert schema_differences(conn, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_form_one_line() -> None:
    """Revisions added in parallel on branches must be chained again before a merge, not left as two heads."""
    assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1
