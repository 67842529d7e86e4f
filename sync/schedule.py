"""When the terminal syncs: every few minutes while the server answers, backing off exponentially
while it does not, and a full run (snapshot) nightly at a configured local time.

`SyncScheduler` runs `sync_once` in one background thread; `stop()` sets a flag the thread polls
between waits, so it ends within one wait slice even mid-backoff. `on_applied` is called after a
sync that changed the school's data (the terminal calls `Counter.reload()` there).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Protocol

from sync.client import Progress, SyncResult

log = logging.getLogger(__name__)


class Syncer(Protocol):
    def sync_once(self, progress: Progress | None = None, *, full: bool = False) -> SyncResult: ...


def next_nightly(now: datetime, at: time) -> datetime:
    """The next moment (after `now`, in now's time zone) the clock shows `at`."""
    candidate = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


class SyncScheduler:
    """Background sync loop; thread-safe `run_now()` for the "sync now" button."""

    def __init__(self, client: Syncer, *, interval_s: float = 180.0, min_backoff_s: float = 30.0,
                 max_backoff_s: float = 900.0, nightly_at: str | None = "02:30",
                 on_applied: Callable[[SyncResult], None] | None = None,
                 on_result: Callable[[SyncResult], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now().astimezone()) -> None:
        self.client = client
        self.interval_s = interval_s
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.nightly_at = time.fromisoformat(nightly_at) if nightly_at else None
        self.on_applied = on_applied
        self.on_result = on_result
        self.clock = clock
        self.failures = 0
        self.last: SyncResult | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._full_requested = False
        self._thread: threading.Thread | None = None
        self._next_nightly = next_nightly(clock(), self.nightly_at) if self.nightly_at else None

    def delay_s(self) -> float:
        """Seconds to the next regular run: the interval when online, else the backoff."""
        if not self.failures:
            return self.interval_s
        return float(min(self.max_backoff_s, self.min_backoff_s * 2 ** (self.failures - 1)))

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sync-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_now(self, *, full: bool = False) -> None:
        """Ask the loop to sync at once (it runs in the scheduler's thread)."""
        self._full_requested = self._full_requested or full
        self._wake.set()

    def run_once(self, *, full: bool = False) -> SyncResult:
        """One sync in the caller's thread, with the scheduler's bookkeeping (used by the loop and tests)."""
        try:
            result = self.client.sync_once(full=full)
        except Exception as exc:  # a bug must not kill the loop: count it as a failure and go on
            log.exception("sync failed")
            result = SyncResult(ok=False, error=f"внутренняя ошибка синхронизации: {exc}")
        self.failures = 0 if result.ok else self.failures + 1
        self.last = result
        for callback in (self.on_result, self.on_applied if result.applied else None):
            if callback is not None:
                try:
                    callback(result)
                except Exception:
                    log.exception("sync callback failed")
        return result

    def _loop(self) -> None:
        due = self.clock()  # first run at start
        while not self._stop.is_set():
            now = self.clock()
            nightly = self._next_nightly is not None and now >= self._next_nightly
            if nightly or now >= due or self._wake.is_set():
                self._wake.clear()
                full, self._full_requested = nightly or self._full_requested, False
                self.run_once(full=full)
                if nightly and self.nightly_at is not None and (self.last and self.last.ok):
                    self._next_nightly = next_nightly(self.clock(), self.nightly_at)
                due = self.clock() + timedelta(seconds=self.delay_s())
                continue
            wait = (due - now).total_seconds()
            if self._next_nightly is not None:
                wait = min(wait, max(0.0, (self._next_nightly - now).total_seconds()))
            self._wake.wait(timeout=max(0.05, min(wait, 1.0)))
