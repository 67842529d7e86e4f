"""The office's audit log: who changed what, when, and what it was before."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from server.accounts import utcnow
from server.models import AuditLog


def _json(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True,
                      default=lambda v: v.isoformat() if isinstance(v, date | datetime) else str(v))


def record_change(conn: Connection, actor: str, school_id: str, entity: str, entity_id: str, action: str,
                  before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Keep one change in the log, in the caller's transaction (so it is kept exactly when the change is)."""
    conn.execute(insert(AuditLog).values(school_id=school_id, at=utcnow(), actor=actor[:64], entity=entity,
                                         entity_id=entity_id[:200], action=action, before=_json(before),
                                         after=_json(after)))


def history(conn: Connection, school_id: str, entity: str, entity_id: str) -> list[dict[str, Any]]:
    """The changes of one thing, oldest first."""
    rows = conn.execute(select(AuditLog).where(AuditLog.school_id == school_id, AuditLog.entity == entity,
                                               AuditLog.entity_id == entity_id).order_by(AuditLog.id)).all()
    return [{"at": r.at, "actor": r.actor, "action": r.action,
             "before": json.loads(r.before) if r.before else None,
             "after": json.loads(r.after) if r.after else None} for r in rows]
