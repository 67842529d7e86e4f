"""The terminal store migrates in place at open: a store made by release 28a093d keeps its journal,
outbox, rejected list and settings; a newer or foreign store is refused untouched; a killed upgrade
leaves the old schema."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from pos.counter import Counter
from pos.decide import Reason
from pos.migrations import HEAD, VERSION_TABLE, alembic_config
from pos.models import Base
from pos.store import StoreError, make_engine
from tests.schema_diff import schema_differences

FIXTURE = Path(__file__).parent / "fixtures" / "store-0001_baseline.sqlite"
FIXTURE_DAY = date(2026, 12, 3)  # the day the fixture's school served (Asia/Krasnoyarsk)
ROOT = Path(__file__).resolve().parents[2]


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def columns(path: Path, table: str) -> list[str]:
    return [r[1] for r in rows(path, f"PRAGMA table_info({table})")]


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


@pytest.fixture
def release_store(tmp_path: Path) -> Path:
    path = tmp_path / "terminal.db"
    shutil.copy(FIXTURE, path)
    return path


def test_release_store_keeps_every_event_outbox_row_rejected_row_and_setting(release_store: Path) -> None:
    kept = ("events", "outbox", "rejected", "meta", "served", "students", "cards", "orders", "classes")
    before = {t: rows(release_store, f"SELECT * FROM {t} ORDER BY 1") for t in kept}
    entitlements = rows(release_store, "SELECT id, student_id, category, starts, ends FROM entitlements ORDER BY id")
    assert len(before["events"]) == 8 and before["outbox"] and before["rejected"] and entitlements  # what it tests
    assert {r[0] for r in rows(release_store, "SELECT kind FROM events")} == {"serve", "refuse", "override", "reversal"}

    make_engine(release_store).dispose()

    after = {t: rows(release_store, f"SELECT * FROM {t} ORDER BY 1") for t in kept}
    # events gained what made a meal free (0005): empty on the release's events, the rest untouched
    assert [row[-2:] for row in after["events"]] == [("", "")] * len(before["events"])
    after["events"] = [row[:-2] for row in after["events"]]
    assert after == before
    assert rows(release_store, "SELECT * FROM entitlements ORDER BY id") == entitlements
    assert rows(release_store, f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
    meta = dict(rows(release_store, "SELECT key, value FROM meta"))
    assert meta["sync.cursor"] and meta["sync.token_terminal"] == "sch1-T1" and "Назарово" in meta["policy"]


def test_release_store_drops_the_benefits_documents(release_store: Path) -> None:
    assert {"order_no", "reason"} <= set(columns(release_store, "entitlements"))
    make_engine(release_store).dispose()
    assert columns(release_store, "entitlements") == ["id", "student_id", "category", "starts", "ends"]


def test_migrated_release_store_serves_and_remembers_who_was_served(release_store: Path) -> None:
    counter = Counter(make_engine(release_store))
    moment = datetime.combine(FIXTURE_DAY, time(8, 55), ZoneInfo("Asia/Krasnoyarsk")).astimezone(UTC)
    served = counter.tap_text("EM:0000000006", now=moment)  # ordered, grade 1, benefit: not served yet
    assert served.served and served.event_id
    again = counter.tap_text("EM:0000000003", now=moment)  # served before the update
    assert not again.served and again.reason is Reason.ALREADY_SERVED
    seqs = [r[0] for r in rows(release_store, "SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, 11))  # the journal goes on from the release's sequence numbers
    assert (served.event_id,) in rows(release_store, "SELECT event_id FROM outbox")


def test_migrated_fresh_and_from_scratch_stores_match_the_models(release_store: Path, tmp_path: Path) -> None:
    make_engine(release_store).dispose()
    fresh = tmp_path / "fresh.db"
    make_engine(fresh).dispose()
    scratch = tmp_path / "scratch.db"  # every revision from an empty file: the chain itself
    command.upgrade(alembic_config(f"sqlite:///{scratch}"), "head")
    for path in (release_store, fresh, scratch):
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            assert schema_differences(conn, Base.metadata, version_table=VERSION_TABLE) == [], path.name
        engine.dispose()


def test_head_is_the_newest_revision_script() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD]


def test_store_of_a_newer_release_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "terminal.db"
    make_engine(path).dispose()
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099_from_the_future'")
    before = dump(path)
    with pytest.raises(StoreError, match="более новой версией программы"):
        make_engine(path)
    assert dump(path) == before


def test_file_that_is_not_a_terminal_store_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "server.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id TEXT PRIMARY KEY)")
    before = dump(path)
    with pytest.raises(StoreError, match="не похож на базу терминала"):
        make_engine(path)
    assert dump(path) == before


KILL_AT_DROP = """
import os, signal, sys
from sqlalchemy import Engine, event
from pos.store import make_engine

@event.listens_for(Engine, "before_cursor_execute")
def die(conn, cursor, statement, *args):
    if statement.strip().upper().startswith("DROP TABLE ENTITLEMENTS"):
        os.kill(os.getpid(), signal.SIGKILL)  # the table is copied, the original not yet dropped

make_engine(sys.argv[1])
"""


@pytest.mark.slow
def test_upgrade_killed_midway_leaves_the_release_schema_and_the_next_open_finishes(release_store: Path) -> None:
    events = rows(release_store, "SELECT * FROM events ORDER BY seq")
    done = subprocess.run([sys.executable, "-c", KILL_AT_DROP, str(release_store)], cwd=ROOT, timeout=60)
    assert done.returncode == -9
    tables = {r[0] for r in rows(release_store, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert VERSION_TABLE not in tables and not any(t.startswith("_alembic_tmp") for t in tables)
    assert "order_no" in columns(release_store, "entitlements")
    make_engine(release_store).dispose()
    assert rows(release_store, f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
    assert [row[:-2] for row in rows(release_store, "SELECT * FROM events ORDER BY seq")] == events
    assert len(rows(release_store, "SELECT * FROM entitlements")) == 2


OPEN_AND_LIST_MODULES = """
import sys
from pos.store import make_engine
make_engine(sys.argv[1]).dispose()
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] == "alembic")))
"""


@pytest.mark.slow
def test_store_at_head_opens_without_loading_alembic(tmp_path: Path) -> None:
    path = tmp_path / "terminal.db"
    make_engine(path).dispose()
    done = subprocess.run([sys.executable, "-c", OPEN_AND_LIST_MODULES, str(path)], cwd=ROOT, timeout=60,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_release_store_gets_an_empty_staff_list_so_the_configured_name_serves(release_store: Path) -> None:
    assert "staff" not in {r[0] for r in rows(release_store, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    make_engine(release_store).dispose()
    assert columns(release_store, "staff") == ["id", "name", "pin_hash", "active"]
    assert rows(release_store, "SELECT * FROM staff") == []
