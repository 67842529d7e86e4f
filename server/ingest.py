"""Push: store a terminal's journal events exactly once and answer for each one.

One batch is one transaction: insert-or-ignore on the event id (so a batch sent twice, or cut
halfway and sent again, changes nothing), debit the accounts for the paid meals that were newly
stored, and take revs so the other windows of the school learn of these meals on their next pull.
What the server cannot accept is rejected per event with a reason; what it can store but doubts
(unknown student or card, served on stale data) is stored and flagged, never dropped.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from drivers.card import match_keys
from server.accounts import Principal, utcnow
from server.db import insert_ignore, take_revs
from server.models import Card, Event, Student, SyncLog, Terminal
from sync.wire import SERVED_KINDS, WireError, parse_event

CHUNK = 900  # IN-list size that every SQLite build accepts


@dataclass
class PushOutcome:
    stored: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _known(conn: Connection, column: Any, school_column: Any, school_id: str, values: set[Any]) -> set[Any]:
    found: set[Any] = set()
    for chunk in _chunks(values):
        found.update(conn.execute(select(column).where(school_column == school_id, column.in_(chunk))).scalars())
    return found


def _known_cards(conn: Connection, school_id: str, uids: set[str]) -> set[str]:
    """Card ids the school knows, exactly or in another number format (the 32/24-bit keys)."""
    known = _known(conn, Card.uid, Card.school_id, school_id, uids)
    rest = {uid: match_keys(uid) for uid in uids - known}
    k32 = {k[0] for k in rest.values() if k[0] is not None}
    k24 = {k[1] for k in rest.values() if k[1] is not None}
    found32 = _known(conn, Card.key32, Card.school_id, school_id, k32) if k32 else set()
    found24 = _known(conn, Card.key24, Card.school_id, school_id, k24) if k24 else set()
    for uid, (key32, key24) in rest.items():
        if (key32 is not None and key32 in found32) or (key32 is None and key24 in found24):
            known.add(uid)
    return known


def _pull_times(conn: Connection, terminal_id: str, since: datetime, until: datetime) -> list[datetime]:
    return list(conn.execute(
        select(SyncLog.at).where(SyncLog.terminal_id == terminal_id, SyncLog.kind == "pull",
                                 SyncLog.at >= since, SyncLog.at <= until).order_by(SyncLog.at)).scalars())


def ingest(conn: Connection, who: Principal, raw_events: Sequence[Any], *, stale_hours: float = 36.0,
           drift_s: float | None = None) -> PushOutcome:
    """Validate, flag and store one batch from terminal `who`; returns the per-event answer."""
    assert who.kind == "terminal" and who.school_id is not None
    school_id = who.school_id
    out = PushOutcome()
    valid: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in raw_events:
        try:
            event = parse_event(raw)
        except WireError as exc:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            out.rejected.append({"id": raw_id if isinstance(raw_id, str) else None, "reason": exc.reason,
                                 "message": exc.message})
            continue
        if event["terminal_id"] != who.name:
            out.rejected.append({"id": event["id"], "reason": "wrong_terminal",
                                 "message": f"событие терминала {event['terminal_id']}, а токен — {who.name}"})
            continue
        if event["id"] in seen:
            out.duplicate.append(event["id"])
            continue
        seen.add(event["id"])
        valid.append(event)
    now = utcnow()
    if valid:
        _store(conn, school_id, who.name, valid, out, now, stale_hours)
    conn.execute(update(Terminal).where(Terminal.id == who.name).values(last_seen_at=now, clock_drift_s=drift_s))
    conn.execute(insert(SyncLog).values(terminal_id=who.name, at=now, kind="push", drift_s=drift_s,
                                        events=len(raw_events), stored=len(out.stored)))
    return out


def _store(conn: Connection, school_id: str, terminal_id: str, valid: list[dict[str, Any]], out: PushOutcome,
           now: datetime, stale_hours: float) -> None:
    last_rev = take_revs(conn, school_id, len(valid))
    students = _known(conn, Student.id, Student.school_id, school_id,
                      {e["student_id"] for e in valid if e["student_id"]})
    cards = _known_cards(conn, school_id, {e["card_uid"] for e in valid if e["card_uid"]})
    stale = timedelta(hours=stale_hours)
    served_at = [e["at_utc"] for e in valid if e["kind"] in SERVED_KINDS]
    pulls = _pull_times(conn, terminal_id, min(served_at) - stale, max(served_at)) if served_at else []
    first_rev = last_rev - len(valid) + 1
    for n, event in enumerate(valid):
        flags = []
        if event["student_id"] and event["student_id"] not in students:
            flags.append("unknown_student")
        if event["card_uid"] and event["card_uid"] not in cards:
            flags.append("unknown_card")
        if event["kind"] in SERVED_KINDS:
            i = bisect.bisect_right(pulls, event["at_utc"])
            if i == 0 or event["at_utc"] - pulls[i - 1] > stale:
                flags.append("stale_data")
        event.update(school_id=school_id, server_flags=",".join(flags), received_at=now, rev=first_rev + n)
    # take_revs above holds the school's row lock until COMMIT, so no other push of this school can
    # store these ids between the look-up and the insert; ON CONFLICT stays as a second guard.
    existing: set[str] = set()
    for chunk in _chunks(e["id"] for e in valid):  # ids are global: look in every school
        existing.update(conn.execute(select(Event.id).where(Event.id.in_(chunk))).scalars())
    fresh = [e for e in valid if e["id"] not in existing]
    if fresh:
        conn.execute(insert_ignore(Event.__table__, conn.dialect.name), fresh)
    stored = {e["id"] for e in fresh}
    debits: dict[str, int] = defaultdict(int)
    for event in valid:
        if event["id"] in stored:
            out.stored.append(event["id"])
            if event["paid_kopecks"] and event["student_id"] in students and event["kind"] != "refuse":
                debits[event["student_id"]] += event["paid_kopecks"]
        else:
            out.duplicate.append(event["id"])
    if debits:
        conn.execute(
            update(Student).where(Student.school_id == school_id, Student.id == bindparam("sid"))
            .values(balance_kopecks=Student.balance_kopecks - bindparam("amount"), rev=last_rev)
            .execution_options(synchronize_session=False),
            [{"sid": sid, "amount": amount} for sid, amount in debits.items() if amount])
