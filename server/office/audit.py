"""The audit log: every change made in the office, with who made it, when, and the values before and
after. Every service function that changes something calls `record_change` in its own transaction,
so a change and its record commit together or not at all."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from server.accounts import utcnow
from server.models import AuditEntry


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record_change(conn: Connection, actor: str, school_id: str | None, entity: str, entity_id: str | int,
                  action: str, before: Any, after: Any) -> None:
    """Record one change; `before`/`after` are JSON-able values (None: the thing did not exist / is gone)."""
    conn.execute(insert(AuditEntry).values(at=utcnow(), actor=actor[:64], school_id=school_id, entity=entity[:32],
                                           entity_id=str(entity_id)[:200], action=action[:32],
                                           before=_json(before), after=_json(after)))


@dataclass(frozen=True)
class Change:
    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    before: Any
    after: Any


def changes(conn: Connection, school_id: str, *, entity: str | None = None, limit: int = 100) -> list[Change]:
    """A school's latest changes, newest first."""
    query = select(AuditEntry.__table__).where(AuditEntry.school_id == school_id)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    rows = conn.execute(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
    return [Change(r.at, r.actor, r.entity, r.entity_id, r.action,
                   None if r.before is None else json.loads(r.before),
                   None if r.after is None else json.loads(r.after)) for r in rows]


def history(conn: Connection, school_id: str, entity: str, entity_id: str) -> list[dict[str, Any]]:
    """The changes of one thing, oldest first."""
    rows = conn.execute(select(AuditEntry.__table__).where(
        AuditEntry.school_id == school_id, AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)).all()
    return [{"at": r.at, "actor": r.actor, "action": r.action,
             "before": None if r.before is None else json.loads(r.before),
             "after": None if r.after is None else json.loads(r.after)} for r in rows]
