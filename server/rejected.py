"""What the server refused from terminals: kept in `rejected_events` with the reason, listed for the office.

Whatever a push carries is kept as sent, within reason: the event's JSON cut to `RAW_MAX` characters,
NULs and unpaired surrogates escaped (PostgreSQL text takes neither), so keeping it can never fail.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from server.models import RejectedEvent
from sync.wire import EVENT_FIELDS, utc_iso

RAW_MAX = 4000  # characters of an event's JSON kept
PAGE_MAX = 500  # rows of one listing


def safe_text(value: Any, limit: int) -> str:
    """`value` as text PostgreSQL and SQLite both store: cut to `limit`, NULs and lone surrogates escaped."""
    text = value if isinstance(value, str) else str(value)
    text = text[:limit].replace("\x00", "\\u0000")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def raw_json(raw: Any) -> str:
    """The JSON of an event as received (a decoded object, or an `EventRow` of `EVENT_FIELDS`)."""
    if isinstance(raw, tuple):
        raw = {name: value.isoformat() if isinstance(value, date | datetime) else value
               for name, value in zip(EVENT_FIELDS, raw, strict=False)}
    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):  # circular or absurdly deep: keep what repr shows
        text = repr(raw)[:RAW_MAX]
    return safe_text(text, RAW_MAX)


def keep(conn: Connection, school_id: str, terminal_id: str, rejected: list[dict[str, Any]],
         raws: dict[int, Any], now: datetime) -> None:
    """Store the answer's rejections; `raws` maps a rejection's position to the event as sent."""
    if not rejected:
        return
    conn.execute(insert(RejectedEvent), [
        {"school_id": school_id, "terminal_id": safe_text(terminal_id, 64),
         "event_id": None if r.get("id") is None else safe_text(r["id"], 64),
         "reason": safe_text(r.get("reason", ""), 32), "message": safe_text(r.get("message", ""), 2000),
         "raw": raw_json(raws[n]) if n in raws else "", "received_at": now}
        for n, r in enumerate(rejected)])


def listing(conn: Connection, school_id: str, *, limit: int = 100, before: int | None = None,
            terminal_id: str | None = None) -> list[dict[str, Any]]:
    """The school's rejected events (of one terminal, if given), newest first; `before` (a row's `n`)
    gives the next page."""
    query = select(RejectedEvent.id, RejectedEvent.terminal_id, RejectedEvent.event_id, RejectedEvent.reason,
                   RejectedEvent.message, RejectedEvent.raw, RejectedEvent.received_at
                   ).where(RejectedEvent.school_id == school_id)
    if terminal_id is not None:
        query = query.where(RejectedEvent.terminal_id == terminal_id)
    if before is not None:
        query = query.where(RejectedEvent.id < before)
    rows = conn.execute(query.order_by(RejectedEvent.id.desc()).limit(min(max(limit, 1), PAGE_MAX)))
    return [{"n": r.id, "terminal_id": r.terminal_id, "event_id": r.event_id, "reason": r.reason,
             "message": r.message, "raw": r.raw, "received_at": utc_iso(r.received_at)} for r in rows]
