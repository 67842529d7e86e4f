"""The school's terminals for the office: online or not, last seen, events waiting at the terminal,
clock drift, software version, events the server refused, the clone flag; add, rename, revoke.

A terminal reports of itself on every push and pull (`outbox_size`: its events not yet on the
server; `version`: the canteen package it runs); `read_report` takes them from a request body and
`note_report` keeps them on `terminals`. The fields are optional and a garbled value is ignored
rather than refused: a terminal's diagnostics must never cost it its push.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, func, select, update

from pos.ledger import Flag, split_flags
from server.accounts import AccountError, enroll_terminal, revoke_terminal, utcnow
from server.models import RejectedEvent, Terminal

ONLINE_WITHIN = timedelta(minutes=10)
NAME_MAX = 200
VERSION_MAX = 64
OUTBOX_MAX = 1_000_000_000  # a larger count is garbage, not a queue


class FleetError(ValueError):
    """A request about terminals that cannot be done: a Russian message and the HTTP status it means."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=UTC).isoformat() if moment else None


def terminals(conn: Connection, school_id: str, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The school's terminals, working ones first: what the office's terminals page shows."""
    now = now or utcnow()
    refused = dict(conn.execute(select(RejectedEvent.terminal_id, func.count()).where(
        RejectedEvent.school_id == school_id).group_by(RejectedEvent.terminal_id)).tuples().all())
    rows = conn.execute(select(Terminal).where(Terminal.school_id == school_id)).all()
    out = []
    for t in sorted(rows, key=lambda t: (t.revoked_at is not None, t.id)):
        flags = split_flags(t.flags or "")
        out.append({
            "id": t.id, "name": t.name, "revoked": t.revoked_at is not None,
            "online": t.revoked_at is None and t.last_seen_at is not None and now - t.last_seen_at <= ONLINE_WITHIN,
            "last_seen_at": _iso(t.last_seen_at), "last_pull_at": _iso(t.last_pull_at),
            "outbox_size": t.outbox_size, "clock_drift_s": t.clock_drift_s, "version": t.version,
            "rejected": int(refused.get(t.id, 0)), "clone": Flag.CLONE in flags, "flags": sorted(flags),
            "created_at": _iso(t.created_at), "revoked_at": _iso(t.revoked_at)})
    return out


def _name(name: Any) -> str:
    if not isinstance(name, str) or len(name.strip()) > NAME_MAX or not name.strip().isprintable():
        raise FleetError(f"название терминала: строка до {NAME_MAX} символов, без управляющих")
    return name.strip()


def _own(conn: Connection, school_id: str, terminal_id: str) -> Any:
    row = conn.execute(select(Terminal.id, Terminal.revoked_at).where(
        Terminal.id == terminal_id, Terminal.school_id == school_id)).first()
    if row is None:  # another school's terminal is "not found" too: its existence is not ours to tell
        raise FleetError(f"терминал {terminal_id} не найден в школе {school_id}", 404)
    return row


def add(conn: Connection, school_id: str, name: Any = "") -> tuple[str, str]:
    """A new terminal: (its id, its token). The token is shown once; the server keeps only its hash."""
    try:
        return enroll_terminal(conn, school_id, name=_name(name))
    except AccountError as exc:
        raise FleetError(str(exc), 404) from None


def rename(conn: Connection, school_id: str, terminal_id: str, name: Any) -> None:
    _own(conn, school_id, terminal_id)
    conn.execute(update(Terminal).where(Terminal.id == terminal_id).values(name=_name(name)))


def revoke(conn: Connection, school_id: str, terminal_id: str) -> None:
    """Revoke the terminal's token: it can no longer push or pull (its events already stored stay)."""
    if _own(conn, school_id, terminal_id).revoked_at is not None:
        raise FleetError(f"токен терминала {terminal_id} уже отозван", 409)
    revoke_terminal(conn, terminal_id)


# -- what a terminal reports of itself ---------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    outbox_size: int | None = None
    version: str | None = None


class _Fields(msgspec.Struct):
    outbox_size: Any = None
    version: Any = None


_PUSH_REST = b',"terminal_time":'  # where `sync.wire.encode_push`'s own body starts
_HEAD_MAX = 400


def _decode(data: bytes) -> _Fields | None:
    try:
        return msgspec.json.decode(data, type=_Fields)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def read_report(body: bytes | Mapping[str, Any]) -> Report:
    """The terminal's report from a push body (bytes: decoded without the events) or a pull body."""
    if isinstance(body, bytes | bytearray):
        # The client writes the report in front of `encode_push`'s body: read just that head, not the
        # thousands of events after it (a whole 5,000-event body costs ~5 ms to skip); else the whole.
        head, found, _rest = bytes(body[:_HEAD_MAX]).partition(_PUSH_REST)
        fields = _decode(head + b"}") if found else None
        if fields is None:
            fields = _decode(bytes(body)) or _Fields()
        size, version = fields.outbox_size, fields.version
    else:
        size, version = body.get("outbox_size"), body.get("version")
    ok_size = isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= OUTBOX_MAX
    ok_version = isinstance(version, str) and 0 < len(version) <= VERSION_MAX and version.isprintable()
    return Report(size if ok_size else None, version if ok_version else None)


def note_report(engine: Engine, terminal_id: str, body: bytes | Mapping[str, Any]) -> None:
    """Keep what the terminal reported (nothing happens for a terminal that reports nothing)."""
    report = read_report(body)
    values = {k: v for k, v in (("outbox_size", report.outbox_size), ("version", report.version)) if v is not None}
    if values:
        with engine.begin() as conn:
            conn.execute(update(Terminal).where(Terminal.id == terminal_id).values(**values))
