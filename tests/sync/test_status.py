"""read_status: the status bar's view of sync, from the terminal store alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from pos.models import Outbox, Rejected
from pos.settings import write_meta
from pos.store import make_engine
from sync import keys
from sync.status import read_status, server_now

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 12:00 in Krasnoyarsk


def test_fresh_store_is_offline_and_stale(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "t.db")
    with engine.begin() as conn:
        status = read_status(conn, now=NOW)
    assert not status.online and status.stale and status.waiting == 0 and status.rejected == 0
    assert status.last_ok_at is None and status.drift_s is None and not status.clock_trouble


def test_recent_sync_is_online_fresh_and_counts_queue_and_rejected(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "t.db")
    with engine.begin() as conn:
        write_meta(conn, {"timezone": "Asia/Krasnoyarsk", keys.LAST_OK_AT: (NOW - timedelta(minutes=3)).isoformat(),
                          keys.LAST_ATTEMPT_AT: (NOW - timedelta(minutes=3)).isoformat(),
                          keys.DATA_AS_OF: (NOW - timedelta(minutes=3)).isoformat(), keys.CLOCK_DRIFT_S: "-130.5",
                          keys.OFFLINE_SINCE: "", keys.LAST_ERROR: ""})
        conn.execute(insert(Outbox), [{"seq": 1, "event_id": "a"}, {"seq": 2, "event_id": "b"}])
        conn.execute(insert(Rejected).values(event_id="c", seq=3, reason="bad", message="м", at=NOW))
        status = read_status(conn, now=NOW)
    assert status.online and not status.stale
    assert status.waiting == 2 and status.rejected == 1
    assert status.drift_s == -130.5 and status.clock_trouble


def test_data_from_yesterday_school_time_is_stale_even_if_recent(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "t.db")
    # 23:50 yesterday in Krasnoyarsk = 16:50 UTC; now is 00:10 today = 17:10 UTC.
    with engine.begin() as conn:
        write_meta(conn, {"timezone": "Asia/Krasnoyarsk", keys.DATA_AS_OF: "2026-11-22T16:50:00+00:00",
                          keys.LAST_OK_AT: "2026-11-22T16:50:00+00:00"})
        assert read_status(conn, now=datetime(2026, 11, 22, 17, 10, tzinfo=UTC)).stale
        assert not read_status(conn, now=datetime(2026, 11, 22, 16, 55, tzinfo=UTC)).stale


def test_failed_attempt_after_success_shows_offline_since(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "t.db")
    with engine.begin() as conn:
        write_meta(conn, {keys.LAST_OK_AT: "2026-11-23T04:00:00+00:00", keys.LAST_ATTEMPT_AT: "2026-11-23T04:50:00",
                          keys.OFFLINE_SINCE: "2026-11-23T04:03:00+00:00", keys.LAST_ERROR: "сервер не отвечает"})
        status = read_status(conn, now=NOW)
    assert not status.online
    assert status.offline_since == datetime(2026, 11, 23, 4, 3, tzinfo=UTC)
    assert status.last_error == "сервер не отвечает"


def test_server_now_corrects_the_wall_clock_by_the_drift(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "t.db")
    with engine.begin() as conn:
        write_meta(conn, {keys.CLOCK_DRIFT_S: "86400"})  # the terminal runs a day ahead
        assert server_now(conn, now=NOW) == NOW - timedelta(days=1)
