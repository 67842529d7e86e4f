"""What the status line says about sync: online or not, since when, what waits to be sent, stale data.

A stand-in for ``sync.status.read_status`` until the sync package lands: it reads the same `meta`
keys (``sync.last_ok_at``, ``sync.offline_since``, ``sync.clock_drift_s``, ``sync.data_as_of``,
``sync.last_error``, ``sync.rejected``) and the outbox count. Replace `read_sync_status` with the real
one when it exists; the `SyncView` fields match its `SyncStatus`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from pos.queries import meta_values, outbox_count

CLOCK_TROUBLE_S = 120.0
"""Drift from the server's clock, at the last sync, beyond which the screen warns."""

KEYS = ("sync.last_ok_at", "sync.offline_since", "sync.clock_drift_s", "sync.data_as_of", "sync.last_error",
        "sync.rejected")


@dataclass(frozen=True)
class SyncView:
    configured: bool
    online: bool
    last_ok_at: datetime | None
    offline_since: datetime | None
    waiting: int
    rejected: int
    drift_s: float | None
    data_as_of: datetime | None
    stale: bool
    clock_trouble: bool
    last_error: str


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_sync_status(conn: Connection, *, configured: bool, now: datetime,
                     stale_after: timedelta = timedelta(hours=24)) -> SyncView:
    meta = meta_values(conn, KEYS)
    last_ok, offline_since = _when(meta.get("sync.last_ok_at")), _when(meta.get("sync.offline_since"))
    try:
        drift: float | None = float(meta["sync.clock_drift_s"]) if meta.get("sync.clock_drift_s") else None
    except ValueError:
        drift = None
    data_as_of = _when(meta.get("sync.data_as_of"))
    online = configured and last_ok is not None and offline_since is None
    # Without a server the data is whatever was loaded locally (the demo): nothing to be stale against.
    stale = configured and (data_as_of is None or now - data_as_of > stale_after)
    return SyncView(
        configured=configured, online=online, last_ok_at=last_ok,
        offline_since=offline_since if configured else None, waiting=outbox_count(conn),
        rejected=int(meta.get("sync.rejected") or 0) if (meta.get("sync.rejected") or "0").isdigit() else 0,
        drift_s=drift, data_as_of=data_as_of, stale=stale,
        clock_trouble=drift is not None and abs(drift) > CLOCK_TROUBLE_S, last_error=meta.get("sync.last_error", ""),
    )
