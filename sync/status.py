"""What the terminal shows about sync: a pure read of the `meta`, `outbox` and `rejected` tables.

`read_status(conn)` never writes and never touches the network, so the UI can call it on every
refresh. "Stale" means the reference data the counter serves from is old (older than
`STALE_AFTER`) or was not fetched today in the school's time zone; "clock trouble" means the
terminal's clock differs from the server's by more than `CLOCK_TROUBLE_S`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, func, select

from pos.models import Meta, Outbox, Rejected
from pos.settings import DEFAULT_TIMEZONE, zone
from sync import keys

STALE_AFTER = timedelta(hours=36)
CLONE_TEXT = ("Этот токен терминала используется на двух устройствах (скопирован диск или настройки): "
              "обратитесь к администратору")
CLOCK_TROUBLE_S = 120.0


@dataclass(frozen=True)
class SyncStatus:
    """The sync state of one terminal, as the status bar needs it."""

    online: bool  # the last attempt reached the server
    last_ok_at: datetime | None  # aware UTC
    offline_since: datetime | None  # aware UTC; None when online
    waiting: int  # events in the outbox
    rejected: int  # events the server refused, for staff to review
    drift_s: float | None  # terminal clock minus server clock
    data_as_of: datetime | None  # aware UTC of the server data last applied
    stale: bool  # data older than STALE_AFTER or not from today (school time)
    clock_trouble: bool  # |drift| > CLOCK_TROUBLE_S
    last_error: str  # Russian, empty when fine
    server_url: str = ""
    terminal_flags: tuple[str, ...] = ()  # what the server flagged on this terminal (`keys.FLAG_*`)

    @property
    def alarms(self) -> list[str]:
        """Russian alarms about the terminal itself that only staff with an administrator can clear."""
        return [CLONE_TEXT] if keys.FLAG_CLONE in self.terminal_flags else []


def parse_utc(text: str | None) -> datetime | None:
    """An ISO 8601 timestamp from `meta` as aware UTC; None for empty or garbled values."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """Aware (or naive UTC) datetime -> ``2026-11-23T08:40:05.123456+00:00``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def read_status(conn: Connection, *, now: datetime | None = None) -> SyncStatus:
    """The terminal's sync status from its store; `now` (aware) defaults to the wall clock."""
    now = now or datetime.now(UTC)
    meta = dict(conn.execute(select(Meta.key, Meta.value)).tuples().all())
    waiting = conn.execute(select(func.count()).select_from(Outbox)).scalar_one()
    rejected = conn.execute(select(func.count()).select_from(Rejected)).scalar_one()
    last_ok = parse_utc(meta.get(keys.LAST_OK_AT))
    last_attempt = parse_utc(meta.get(keys.LAST_ATTEMPT_AT))
    offline_since = parse_utc(meta.get(keys.OFFLINE_SINCE))
    data_as_of = parse_utc(meta.get(keys.DATA_AS_OF))
    try:
        drift: float | None = float(meta[keys.CLOCK_DRIFT_S]) if meta.get(keys.CLOCK_DRIFT_S) else None
    except ValueError:
        drift = None
    online = last_ok is not None and offline_since is None and (last_attempt is None or last_attempt <= last_ok)
    return SyncStatus(
        online=online,
        last_ok_at=last_ok,
        offline_since=None if online else offline_since,
        waiting=waiting,
        rejected=rejected,
        drift_s=drift,
        data_as_of=data_as_of,
        stale=_stale(data_as_of, now, meta.get("timezone", DEFAULT_TIMEZONE), drift),
        clock_trouble=drift is not None and abs(drift) > CLOCK_TROUBLE_S,
        last_error=meta.get(keys.LAST_ERROR, ""),
        server_url=meta.get(keys.SERVER_URL, ""),
        terminal_flags=tuple(f for f in meta.get(keys.TERMINAL_FLAGS, "").split(",") if f),
    )


def _stale(data_as_of: datetime | None, now: datetime, timezone: str, drift: float | None) -> bool:
    if data_as_of is None:
        return True
    # data_as_of is the server's clock; compare it with the terminal's clock corrected by the drift.
    now = now - timedelta(seconds=drift or 0.0)
    if now - data_as_of > STALE_AFTER:
        return True
    tz = zone(timezone)
    return data_as_of.astimezone(tz).date() != now.astimezone(tz).date()


def school_timezone(conn: Connection) -> ZoneInfo | None:
    """The school's time zone from `meta` (written by sync), or None before the first sync or if garbled."""
    name = conn.execute(select(Meta.value).where(Meta.key == "timezone")).scalar()
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def server_now(conn: Connection, *, now: datetime | None = None) -> datetime:
    """The wall clock corrected by the last measured drift: what the server's clock says now.

    A terminal left offline for days drifts; serving with ``now=server_now(conn)`` keeps the
    school's serving date right even then.
    """
    now = now or datetime.now(UTC)
    value = conn.execute(select(Meta.value).where(Meta.key == keys.CLOCK_DRIFT_S)).scalar()
    try:
        drift = float(value) if value else 0.0
    except ValueError:
        drift = 0.0
    return now - timedelta(seconds=drift)
