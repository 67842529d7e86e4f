"""The sync scheduler's loop with a fake client and clock: it never dies, never spins, and reads the
nightly time in the school's time zone."""

from __future__ import annotations

import threading
import time as walltime
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pos.settings import write_meta
from pos.store import make_engine
from sync.client import Progress, SyncResult
from sync.schedule import SyncScheduler
from sync.status import school_timezone

KRASNOYARSK = ZoneInfo("Asia/Krasnoyarsk")  # UTC+7, no DST


class FailingClient:
    """A client whose every sync fails (the router is switched off); counts the calls and full runs."""

    def __init__(self) -> None:
        self.calls = 0
        self.full = 0
        self.called = threading.Event()

    def sync_once(self, progress: Progress | None = None, *, full: bool = False) -> SyncResult:
        self.calls += 1
        self.full += full
        self.called.set()
        return SyncResult(ok=False, error="нет связи с сервером")


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def wait_for(condition: threading.Event, timeout: float = 5.0) -> None:
    assert condition.wait(timeout), "the scheduler did not run"


def test_backoff_stays_bounded_after_thousands_of_failures() -> None:
    scheduler = SyncScheduler(FailingClient(), min_backoff_s=30.0, max_backoff_s=900.0, nightly_at=None)
    for failures in (1, 2, 6, 1024, 1025, 5000, 10**9):
        scheduler.failures = failures
        assert 30 <= scheduler.delay_s() <= 900


def test_many_failures_do_not_kill_the_thread() -> None:
    client = FailingClient()
    scheduler = SyncScheduler(client, min_backoff_s=0.01, max_backoff_s=0.05, nightly_at=None)
    scheduler.failures = 1100  # ~10 days offline at the regular backoff
    scheduler.start()
    try:
        wait_for(client.called)
        client.called.clear()
        wait_for(client.called)  # a second run: the loop survived the first run's bookkeeping
        assert scheduler._thread is not None and scheduler._thread.is_alive()
        assert scheduler.failures >= 1102
    finally:
        scheduler.stop(timeout=5)
    assert not scheduler._thread.is_alive()


def test_an_error_in_a_pass_is_logged_and_the_loop_goes_on() -> None:
    client = FailingClient()
    broken = {"times": 3}
    real = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)

    def clock() -> datetime:
        if broken["times"] > 0:
            broken["times"] -= 1
            raise OSError("clock unavailable")
        return real

    scheduler = SyncScheduler(client, min_backoff_s=0.01, max_backoff_s=0.02, nightly_at=None, clock=clock)
    scheduler.start()
    try:
        wait_for(client.called)
        assert scheduler._thread is not None and scheduler._thread.is_alive()
    finally:
        scheduler.stop(timeout=5)


def test_a_failed_nightly_run_does_not_spin() -> None:
    client = FailingClient()
    clock = FakeClock(datetime(2026, 1, 12, 19, 29, tzinfo=UTC))  # 02:29 on the 13th in Krasnoyarsk
    scheduler = SyncScheduler(client, interval_s=180, min_backoff_s=30, nightly_at="02:30", clock=clock,
                              tz=KRASNOYARSK)
    clock.now += timedelta(minutes=2)  # the nightly run is due; the regular one (due at start) too
    scheduler.start()
    try:
        wait_for(client.called)
        walltime.sleep(0.3)  # the fake clock stands still: nothing more may be due in this time
    finally:
        scheduler.stop(timeout=5)
    assert client.calls == 1 and client.full == 1
    assert scheduler.next_full_at == datetime(2026, 1, 14, 2, 30, tzinfo=KRASNOYARSK)  # the next night
    assert scheduler.delay_s() == 30  # the regular runs retry with the backoff meanwhile


def test_nightly_at_is_school_time_not_the_os_zone() -> None:
    utc_kiosk = FakeClock(datetime(2026, 1, 12, 12, 0, tzinfo=UTC))  # 19:00 in Krasnoyarsk
    scheduler = SyncScheduler(FailingClient(), nightly_at="02:30", clock=utc_kiosk, tz=KRASNOYARSK)
    assert scheduler.next_full_at == datetime(2026, 1, 13, 2, 30, tzinfo=KRASNOYARSK)
    assert scheduler.next_full_at == datetime(2026, 1, 12, 19, 30, tzinfo=UTC)  # not 02:30 UTC = 09:30 there


def test_the_zone_learnt_at_the_first_sync_moves_the_nightly_run(tmp_path: Path) -> None:
    store = make_engine(tmp_path / "t.db")
    client = FailingClient()
    clock = FakeClock(datetime(2026, 1, 12, 12, 0, tzinfo=UTC))

    def zone() -> ZoneInfo | None:
        with store.connect() as conn:
            return school_timezone(conn)

    scheduler = SyncScheduler(client, nightly_at="02:30", clock=clock, tz=zone)
    assert scheduler.next_full_at == datetime(2026, 1, 13, 2, 30, tzinfo=UTC)  # zone unknown yet: the clock's
    with store.begin() as conn:  # what the first sync writes
        write_meta(conn, {"timezone": "Asia/Krasnoyarsk"})
    scheduler.start()
    try:
        wait_for(client.called)
        deadline = walltime.monotonic() + 5
        while scheduler.next_full_at != datetime(2026, 1, 13, 2, 30, tzinfo=KRASNOYARSK):
            assert walltime.monotonic() < deadline, scheduler.next_full_at
            walltime.sleep(0.01)
    finally:
        scheduler.stop(timeout=5)
    store.dispose()


class PushFailingClient(FailingClient):
    """The server answers (the pull goes through) but keeps failing on the journal."""

    def sync_once(self, progress: Progress | None = None, *, full: bool = False) -> SyncResult:
        super().sync_once(progress, full=full)
        return SyncResult(ok=False, pulled_ok=True, push_error="ошибка сервера (код 500)",
                          error="журнал не отправлен: ошибка сервера (код 500)")


def test_a_push_failing_while_the_pull_works_keeps_the_usual_pace_not_the_backoff() -> None:
    scheduler = SyncScheduler(PushFailingClient(), interval_s=180, min_backoff_s=30, max_backoff_s=900,
                              nightly_at=None)
    for _ in range(4):
        assert not scheduler.run_once().ok
    assert scheduler.delay_s() == 180
    offline = SyncScheduler(FailingClient(), interval_s=180, min_backoff_s=30, max_backoff_s=900, nightly_at=None)
    for _ in range(4):
        offline.run_once()
    assert offline.delay_s() == 240
