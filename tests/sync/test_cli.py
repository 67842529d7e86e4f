"""`canteen sync now` as staff run it by hand: against a live server process, and with the server down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from pos.counter import Counter
from pos.domain import Meal
from pos.models import Outbox
from pos.store import make_engine
from server.db import make_server_engine
from server.migrate import upgrade
from server.models import Event
from sync.cli import sync
from tests.server.kit import enroll, free_port, school_today, seed_school, server_process
from tests.sync.faults import fill_journal

pytestmark = pytest.mark.slow


def sync_cmd(*args: str) -> Result:
    return CliRunner().invoke(sync, list(args), catch_exceptions=False)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A real server on loopback with a seeded school: (server URL, terminal token, server database URL)."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    upgrade(url)
    engine = make_server_engine(url)
    seed_school(engine)
    _, token = enroll(engine)
    engine.dispose()
    with server_process(url) as (server_url, _proc):
        yield server_url, token, url


def test_sync_now_downloads_the_school_then_sends_a_served_meal(live: tuple[str, str, str], tmp_path: Path) -> None:
    server_url, token, db_url = live
    db = tmp_path / "terminal.db"
    first = sync_cmd("now", "--db", str(db), "--server", server_url, "--token", token)
    assert first.exit_code == 0, first.output
    assert "… Готово" in first.output and "Отправлено 0, отклонено 0, в очереди 0" in first.output
    assert Counter(make_engine(db)).tap_text("EM:0000000001", meal=Meal.BREAKFAST).served
    second = sync_cmd("now", "--db", str(db), "--server", server_url, "--token", token)
    assert second.exit_code == 0 and "Отправлено 1, отклонено 0, в очереди 0" in second.output
    server_db = make_server_engine(db_url)
    with server_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Event)).scalar() == 1
    server_db.dispose()


def test_sync_now_reads_server_token_and_store_from_the_config(live: tuple[str, str, str], tmp_path: Path) -> None:
    server_url, token, _ = live
    config = tmp_path / "terminal.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "t.db"}"\n\n[sync]\nserver_url = "{server_url}"\n'
                      f'token = "{token}"\n', encoding="utf-8")
    result = sync_cmd("now", "--config", str(config))
    assert result.exit_code == 0 and "получено записей" in result.output and (tmp_path / "t.db").exists()


def test_sync_now_with_the_server_down_says_so_in_russian_and_keeps_the_queue(tmp_path: Path) -> None:
    db = tmp_path / "terminal.db"
    store = make_engine(db)
    fill_journal(store, "sch1-T1", 1, start=school_today())
    result = sync_cmd("now", "--db", str(db), "--server", f"http://127.0.0.1:{free_port()}", "--token", "sch1-T1.x")
    assert result.exit_code == 1
    assert ("ОШИБКА: журнал не отправлен, данные школы не загружены: нет связи с сервером" in result.output
            and "повтор позже" in result.output)
    assert "в очереди 1" in result.output
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Outbox)).scalar() == 1


def test_sync_now_without_server_or_token_asks_for_them(tmp_path: Path) -> None:
    result = sync_cmd("now", "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 1 and "ОШИБКА: нужны --server и --token (или --config)" in result.output
