"""Terminal flags the server sends (`"terminal_flags": ["clone"]` in the push and pull answers): kept in
`meta`, shown by `canteen sync status` and raised as an alarm on the terminal's status line.

The server side (clone detection) is another piece of work, so its answers are faked here with an
httpx MockTransport, exactly as the contract describes them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from click.testing import CliRunner
from sqlalchemy import Engine

from pos.store import make_engine
from sync import keys
from sync.cli import sync
from sync.client import SyncClient
from sync.status import CLONE_TEXT, read_status
from terminal.syncstatus import read_sync_status
from terminal.widgets.status import ReaderState, status_parts
from tests.sync.faults import fill_journal

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def fake_server(flags: list[str] | None) -> httpx.MockTransport:
    """Stores whatever is pushed and sends an empty delta; `flags` (if not None) ride on both answers."""
    def handle(request: httpx.Request) -> httpx.Response:
        body: dict[str, Any]
        if request.url.path == "/api/sync/push":
            events = json.loads(request.content)["events"]
            body = {"stored": [e["id"] for e in events], "duplicate": [], "rejected": []}
        else:
            body = {"snapshot": False, "today": "2026-11-23", "cursor": "7:2026-11-24",
                    "server_time": NOW.isoformat()}
        if flags is not None:
            body["terminal_flags"] = flags
        return httpx.Response(200, json=body)
    return httpx.MockTransport(handle)


def sync_with(store: Engine, flags: list[str] | None) -> None:
    with SyncClient(store, "http://server", "sch1-T1.secret", transport=fake_server(flags), clock=lambda: NOW) as c:
        assert c.sync_once().ok


def test_a_clone_flag_from_the_server_is_kept_shown_and_raised_then_cleared(tmp_path: Path) -> None:
    store = make_engine(tmp_path / "t.db")
    fill_journal(store, "sch1-T1", 3, start=NOW.date())
    sync_with(store, ["clone"])
    with store.connect() as conn:
        assert read_status(conn, now=NOW).terminal_flags == (keys.FLAG_CLONE,)
        view = read_sync_status(conn, configured=True, now=NOW)
    assert view.alarms == [CLONE_TEXT]
    items, alarms = status_parts(ReaderState(True, ""), view, ZoneInfo("UTC"), terminal_id="sch1-T1", staff="")
    assert "ТОКЕН НА ДВУХ УСТРОЙСТВАХ" in items and CLONE_TEXT.upper() in alarms
    shown = CliRunner().invoke(sync, ["status", "--db", str(tmp_path / "t.db")])
    assert shown.exit_code == 0 and CLONE_TEXT in shown.output

    sync_with(store, None)  # the administrator sorted it out: the answers carry no flags any more
    with store.connect() as conn:
        assert read_sync_status(conn, configured=True, now=NOW).alarms == []
    assert CLONE_TEXT not in CliRunner().invoke(sync, ["status", "--db", str(tmp_path / "t.db")]).output


def test_a_flag_on_the_push_answer_alone_is_kept_when_the_pull_fails(tmp_path: Path) -> None:
    store = make_engine(tmp_path / "t.db")
    fill_journal(store, "sch1-T1", 1, start=NOW.date())
    pushes = fake_server(["clone"])

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/sync/push":
            return pushes.handle_request(request)
        raise httpx.ConnectError("cut", request=request)

    with SyncClient(store, "http://server", "sch1-T1.secret", transport=httpx.MockTransport(handle),
                    clock=lambda: NOW) as client:
        result = client.sync_once()
    assert not result.ok and result.pull_error and not result.push_error
    with store.connect() as conn:
        assert read_status(conn, now=NOW).alarms == [CLONE_TEXT]
