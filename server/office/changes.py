"""The one door of every office change: it takes a rev of the school (so terminals learn the change on
their next pull) and records who did it and what it was before."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from server.db import take_revs
from server.models import School
from server.office.audit import record_change
from server.pull import school_today


class OfficeError(ValueError):
    """An office request that cannot be done; the message (Russian) says why. Nothing was changed."""


class NotFound(OfficeError):
    """The student, card or application is not in this school."""


def change(conn: Connection, actor: str, school_id: str, entity: str, entity_id: str, action: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
    """Take a rev for a change about to be written and log it; returns the rev to stamp the rows with."""
    try:
        rev = take_revs(conn, school_id)
    except LookupError:
        raise NotFound(f"школа {school_id} не найдена") from None
    record_change(conn, actor, school_id, entity, entity_id, action, before, after)
    return rev


def today(conn: Connection, school_id: str) -> date:
    """The school's today in its own time zone (the server may run in another): what "in force" means."""
    tz = conn.execute(select(School.timezone).where(School.id == school_id)).scalar()
    if tz is None:
        raise NotFound(f"школа {school_id} не найдена")
    return school_today(tz, datetime.now(UTC))
