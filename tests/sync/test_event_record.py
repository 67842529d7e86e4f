"""The journal event is defined once (`pos.models.EventFields`): the wire struct, the journal's INSERT and
`Entry`, the sync client's JSON, and the columns of both databases as their migrations make them, all
have its fields, in its order, with its types, lengths and nullability."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Date, DateTime, Integer, String, create_engine, inspect

from pos import journal
from pos.models import EVENT_COLUMNS
from pos.store import make_engine
from sync.client import _BATCH_SQL
from sync.wire import EVENT_FIELDS, WireEvent

NAMES = tuple(c.name for c in EVENT_COLUMNS)


def test_wire_journal_and_client_carry_the_columns_in_order() -> None:
    assert EVENT_FIELDS == NAMES and len(NAMES) == 22
    assert tuple(f.name for f in msgspec.structs.fields(WireEvent)) == NAMES
    assert journal._EVENT.startswith(f"INSERT INTO events ({', '.join(NAMES)}) VALUES (")
    assert tuple(journal.Entry.__dataclass_fields__) == tuple(n for n in NAMES if n != "seq")
    assert tuple(re.findall(r"'([a-z_]+)', ", _BATCH_SQL)) == NAMES  # json_object('id', e.id, ...)


def test_wire_fields_are_optional_exactly_where_the_column_is_nullable_or_has_a_default() -> None:
    fields = {f.name: f for f in msgspec.structs.fields(WireEvent)}
    for column in EVENT_COLUMNS:
        field = fields[column.name]
        if column.nullable:
            assert field.default is None
        elif column.default is not None:
            assert field.default == column.default.arg
        else:
            assert field.required, column.name


def test_enum_values_fit_their_columns() -> None:
    for column in EVENT_COLUMNS:
        if "enum" in column.info:
            assert max(len(m.value) for m in column.info["enum"]) <= column.type.length


def shape(columns: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """name -> (kind, length, nullable) of the event columns as a database reports them."""
    out = {}
    for c in columns:
        if c["name"] in NAMES:
            kind = next(k for k in (DateTime, Date, Integer, String) if isinstance(c["type"], k))
            out[c["name"]] = (kind.__name__, getattr(c["type"], "length", None), c["nullable"])
    return out


def test_both_databases_have_the_event_columns_as_defined(tmp_path: Path, db_url: str) -> None:
    defined = shape([{"name": c.name, "type": c.type, "nullable": c.nullable} for c in EVENT_COLUMNS])
    terminal = make_engine(tmp_path / "t.db")
    server = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        for engine in (terminal, server):  # the server's as its Alembic migrations made it, on SQLite and PostgreSQL
            assert shape(inspect(engine).get_columns("events")) == defined, engine.url
    finally:
        terminal.dispose()
        server.dispose()
