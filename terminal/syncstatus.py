"""What the status line says about sync, and the background sync run while the window serves.

The status is `sync.status.read_status` plus one fact only the terminal knows: whether a server is
configured at all (without one, the terminal is offline by design and its data cannot be "stale"
against anything). The scheduler (`sync.schedule.SyncScheduler`) runs in its own thread; its
callbacks only post messages, and the app reloads the counter on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from sqlalchemy import Connection, Engine

from sync.client import SyncClient, SyncResult
from sync.config import SyncConfig
from sync.schedule import SyncScheduler
from sync.status import SyncStatus, read_status, school_timezone


@dataclass(frozen=True)
class SyncView:
    configured: bool
    status: SyncStatus

    @property
    def alarms(self) -> list[str]:
        """Alarms about the terminal the server raised (e.g. its token in use on two devices)."""
        return self.status.alarms if self.configured else []


def read_sync_status(conn: Connection, *, configured: bool, now: datetime) -> SyncView:
    status = read_status(conn, now=now)
    if not configured:
        status = replace(status, stale=False, online=False, offline_since=None)
    return SyncView(configured, status)


class BackgroundSync:
    """A sync client and its scheduler, started and stopped with the app."""

    def __init__(self, engine: Engine, config: SyncConfig, *, on_applied: Callable[[SyncResult], None],
                 on_result: Callable[[SyncResult], None]) -> None:
        self.client = SyncClient(engine, config.server_url, config.token)
        self.scheduler = SyncScheduler(self.client, interval_s=float(config.interval_s),
                                       nightly_at=config.nightly_at or None, on_applied=on_applied,
                                       on_result=on_result, tz=lambda: self._school_tz(engine))

    @staticmethod
    def _school_tz(engine: Engine) -> tzinfo | None:
        # `nightly_at` is school time; the kiosk's OS zone is often UTC. Read at every run, because
        # a fresh terminal learns its school's zone only with the first sync.
        with engine.connect() as conn:
            return school_timezone(conn)

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop(timeout=5.0)
        self.client.close()
