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


def test_sync_status_command_reads_the_config_and_shows_school_time(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sync.cli import sync

    engine = make_engine(tmp_path / "t.db")
    with engine.begin() as conn:
        write_meta(conn, {"timezone": "Asia/Krasnoyarsk", keys.LAST_OK_AT: "2026-11-23T04:00:00+00:00",
                          keys.LAST_ATTEMPT_AT: "2026-11-23T04:00:00+00:00",
                          keys.DATA_AS_OF: "2026-11-23T03:59:00+00:00", keys.OFFLINE_SINCE: ""})
        conn.execute(insert(Rejected).values(event_id="c", seq=3, reason="server_error", message="м",
                                             at=datetime(2026, 11, 23, 4, 30)))
    config = tmp_path / "terminal.toml"
    config.write_text('db = "t.db"\n[sync]\nserver_url = "http://127.0.0.1:1"\ntoken = "sch1-T1.x"\n',
                      encoding="utf-8")
    result = CliRunner().invoke(sync, ["status", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Последняя удачная синхронизация: 23.11.2026 11:00; данные на 23.11.2026 10:59" in result.output
    assert "отклонено #3 c (23.11.2026 11:30): server_error — м" in result.output
    assert "2026-11-23" not in result.output
