"""The one door of every office change: it takes a rev of the school (so terminals learn the change on
their next pull) and records who did it and what it was before."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from server.db import take_revs
from server.office.audit import record_change


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
