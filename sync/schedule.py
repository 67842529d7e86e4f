"""When the terminal syncs: every few minutes while the server answers, backing off exponentially
while it does not, and a full run (snapshot) nightly at a configured time of the school's day.

`SyncScheduler` runs `sync_once` in one background thread, backing off only while the server does
not answer (a sync whose pull went through counts as answered even if its push failed); `stop()`
sets a flag the thread polls between waits, so it ends within one wait slice even mid-backoff.
`on_applied` is called after a sync that changed the school's data (the terminal calls
`Counter.reload()` there).

The nightly time is read in the school's time zone (`tz`, from the store's `meta`), not the OS's:
a kiosk left in UTC must not reload its tables under the write lock during a morning break. A
failed nightly run is not repeated at once; the regular runs, backed off, catch up with deltas and
the next full run is the next night. A server busy with other terminals' full runs (503 ``busy``
with ``Retry-After``, `SyncResult.retry_after_s`) is no failure: the same run, full if it was, comes
again after the wait the server asked for, without backing off. Nothing that goes wrong in one pass ends the loop: a
terminal whose sync thread died would never sync again until restarted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta, tzinfo
from typing import Protocol

from sync.client import Progress, SyncResult

log = logging.getLogger(__name__)

# 2 ** 1024 overflows a float; far below that the backoff is at its maximum anyway.
MAX_BACKOFF_EXPONENT = 20


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
                 clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 tz: tzinfo | Callable[[], tzinfo | None] | None = None) -> None:
        """`tz`: the school's time zone for `nightly_at`, or a callable asked again after every run
        (the zone arrives with the first sync); None or unknown = the clock's own zone."""
        self.client = client
        self.interval_s = interval_s
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.nightly_at = time.fromisoformat(nightly_at) if nightly_at else None
        self.on_applied = on_applied
        self.on_result = on_result
        self.clock = clock
        self.failures = 0
        self.retry_after_s: float | None = None  # the wait the server asked for after the last run, if busy
        self.last: SyncResult | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._full_requested = False
        self._thread: threading.Thread | None = None
        self._tz_source = tz
        self._nightly_tz: tzinfo | None = None
        self._next_nightly: datetime | None = None
        self._plan_nightly()

    @property
    def next_full_at(self) -> datetime | None:
        """When the next nightly full run is due (aware, in the school's zone), or None if disabled."""
        return self._next_nightly

    def _tz(self) -> tzinfo | None:
        if self._tz_source is None or isinstance(self._tz_source, tzinfo):
            return self._tz_source
        try:
            return self._tz_source()
        except Exception:  # an unreadable store must not stop syncing; the clock's zone will do
            log.exception("cannot read the school's time zone")
            return None

    def _plan_nightly(self) -> None:
        """Schedule the next nightly run after now, in the school's zone as it is known now."""
        if self.nightly_at is None:
            return
        tz = self._tz()
        now = self.clock()
        self._nightly_tz = tz
        self._next_nightly = next_nightly(now.astimezone(tz) if tz is not None else now, self.nightly_at)

    def delay_s(self) -> float:
        """Seconds to the next regular run: the server's Retry-After when it was busy, the interval when
        online, else the backoff."""
        if self.retry_after_s is not None:
            return self.retry_after_s
        if not self.failures:
            return self.interval_s
        exponent = min(self.failures, MAX_BACKOFF_EXPONENT) - 1
        return float(min(self.max_backoff_s, self.min_backoff_s * 2.0 ** exponent))

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
        # A push the server keeps failing on while the pull goes through is retried at the usual
        # pace: the server answers, and narrowing down the event it fails on takes several syncs.
        # A busy server answered too: its wait replaces the backoff, and a refused full run is asked again.
        self.retry_after_s = result.retry_after_s
        if result.retry_after_s is not None:
            self._full_requested = self._full_requested or full
        else:
            self.failures = 0 if result.ok or result.pulled_ok else self.failures + 1
        self.last = result
        for callback in (self.on_result, self.on_applied if result.applied else None):
            if callback is not None:
                try:
                    callback(result)
                except Exception:
                    log.exception("sync callback failed")
        return result

    def _loop(self) -> None:
        due: datetime | None = None  # first run at start
        while not self._stop.is_set():
            try:
                due = self._pass(due)
            except Exception:  # a bug, a broken clock or store: log it, back off, keep the thread alive
                log.exception("sync scheduler pass failed")
                self.failures += 1
                self._wake.clear()  # a wake-up left set would turn the wait below into a spin
                if self._stop.is_set():  # checked after the clear, so a stop() is never slept through
                    break
                self._wake.wait(timeout=self.delay_s())  # stop() and run_now() still wake it

    def _pass(self, due: datetime | None) -> datetime | None:
        """One pass of the loop: run a sync if one is due, else wait a slice; returns the next due time."""
        now = self.clock()
        nightly = self._next_nightly is not None and now >= self._next_nightly
        if nightly or due is None or now >= due or self._wake.is_set():
            self._wake.clear()
            full, self._full_requested = nightly or self._full_requested, False
            self.run_once(full=full)
            # Whether it worked or not, the nightly run is next due tomorrow: repeating a failed one
            # at once spun without any backoff, and a full run later in the morning would reload the
            # tables during breakfast. The zone may also have just arrived with this sync.
            if nightly or self._tz() != self._nightly_tz:
                self._plan_nightly()
            return self.clock() + timedelta(seconds=self.delay_s())
        wait = (due - now).total_seconds()
        if self._next_nightly is not None:
            wait = min(wait, max(0.0, (self._next_nightly - now).total_seconds()))
        self._wake.wait(timeout=max(0.05, min(wait, 1.0)))
        return due
