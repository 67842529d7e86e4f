"""The terminals page's data (SQLite and PostgreSQL): what terminals report of themselves on sync,
online or not, refused events, the clone flag; add, rename, revoke within the school."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, update

from pos.counter import Counter
from pos.domain import Meal
from pos.ledger import Flag
from pos.store import make_engine
from server.accounts import authenticate
from server.models import Terminal
from server.office import fleet
from sync.client import VERSION
from sync.wire import PUSH_PATH
from tests.server.kit import enroll, make_admin, seed_school
from tests.server.test_api import bearer, event
from tests.sync.test_client import client_for


def listing(engine: Engine, school_id: str = "sch1", now: datetime | None = None) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        return {t["id"]: t for t in fleet.terminals(conn, school_id, now=now)}


def test_a_syncing_terminal_reports_its_waiting_events_and_version(app: Flask, engine: Engine,
                                                                    tmp_path: Path) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    store = make_engine(tmp_path / "t.db")
    assert client_for(app, store, token).sync_once().ok
    assert VERSION and (listing(engine)[terminal_id]["outbox_size"], listing(engine)[terminal_id]["version"]) == (
        0, VERSION)
    counter = Counter(store)
    counter.tap_text("EM:0000000001", meal=Meal.BREAKFAST)
    counter.tap_text("EM:0000000002", meal=Meal.BREAKFAST)
    pushed: list[dict[str, object]] = []

    def push_down(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == PUSH_PATH:
            pushed.append(json.loads(request.content))
            return httpx.Response(503)
        return None

    assert not client_for(app, store, token, push_down).sync_once().ok  # the push fails, the pull goes through
    assert (pushed[0]["outbox_size"], pushed[0]["version"], len(pushed[0]["events"])) == (2, VERSION, 2)  # type: ignore[arg-type]
    assert listing(engine)[terminal_id]["outbox_size"] == 2
    assert client_for(app, store, token).sync_once().ok
    assert listing(engine)[terminal_id]["outbox_size"] == 0


def test_a_push_keeps_the_report_and_ignores_a_garbled_one(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    answer = client.post("/api/sync/push", headers=bearer(token),
                         json={"outbox_size": 7, "version": "0.9.1", "events": [event(terminal_id, 1)]})
    assert answer.status_code == 200 and len(answer.json["stored"]) == 1
    assert (listing(engine)[terminal_id]["outbox_size"], listing(engine)[terminal_id]["version"]) == (7, "0.9.1")
    answer = client.post("/api/sync/push", headers=bearer(token),
                         json={"outbox_size": "many", "version": "x" * 500, "events": [event(terminal_id, 2)]})
    assert answer.status_code == 200 and len(answer.json["stored"]) == 1  # diagnostics never cost the push
    assert (listing(engine)[terminal_id]["outbox_size"], listing(engine)[terminal_id]["version"]) == (7, "0.9.1")


def test_online_means_seen_within_ten_minutes_and_not_revoked(engine: Engine) -> None:
    seed_school(engine)
    now = datetime(2026, 3, 10, 5, 0)
    ids = [enroll(engine)[0] for _ in range(3)]
    with engine.begin() as conn:
        for terminal_id, ago in zip(ids, (9, 11, 1), strict=True):
            conn.execute(update(Terminal).where(Terminal.id == terminal_id)
                         .values(last_seen_at=now - timedelta(minutes=ago)))
        fleet.revoke(conn, "sch1", ids[2])
    seen = listing(engine, now=now)
    assert [(seen[i]["online"], seen[i]["revoked"]) for i in ids] == [(True, False), (False, False), (False, True)]
    assert list(seen) == ids  # working terminals first


def test_refused_events_and_the_clone_flag_are_shown_per_terminal(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    forger, token = enroll(engine)
    honest, _ = enroll(engine)
    client.post("/api/sync/push", headers=bearer(token), json={"events": [
        event(forger, 1, paid_kopecks=-100), event(forger, 2, free_kopecks=10**7)]})
    with engine.begin() as conn:
        conn.execute(update(Terminal).where(Terminal.id == honest).values(flags=Flag.CLONE.value))
    seen = listing(engine)
    assert (seen[forger]["rejected"], seen[forger]["clone"]) == (2, False)
    assert (seen[honest]["rejected"], seen[honest]["clone"]) == (0, True)


def test_add_rename_revoke_act_within_the_school_only(engine: Engine) -> None:
    seed_school(engine, "sch1")
    seed_school(engine, "sch2")
    with engine.begin() as conn:
        terminal_id, token = fleet.add(conn, "sch1", "  окно 1 ")
        assert authenticate(conn, token) is not None
        fleet.rename(conn, "sch1", terminal_id, "окно у буфета")
    assert listing(engine)[terminal_id]["name"] == "окно у буфета"
    for act in (lambda conn: fleet.rename(conn, "sch2", terminal_id, "чужое"),
                lambda conn: fleet.revoke(conn, "sch2", terminal_id)):
        with engine.begin() as conn, pytest.raises(fleet.FleetError) as caught:
            act(conn)
        assert caught.value.status == 404
    with engine.begin() as conn, pytest.raises(fleet.FleetError):
        fleet.rename(conn, "sch1", terminal_id, "x" * 201)
    with engine.begin() as conn:
        fleet.revoke(conn, "sch1", terminal_id)
        assert authenticate(conn, token) is None
    with engine.begin() as conn, pytest.raises(fleet.FleetError) as caught:
        fleet.revoke(conn, "sch1", terminal_id)
    assert caught.value.status == 409 and listing(engine)[terminal_id]["name"] == "окно у буфета"


def test_the_api_lists_renames_and_revokes_the_own_schools_terminals(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine, "sch1")
    seed_school(engine, "sch2")
    make_admin(engine, "zavuch", school_id="sch1")
    token = client.post("/api/auth/login", json={"login": "zavuch", "password": "secret-pass"}).json["token"]
    added = client.post("/api/schools/sch1/terminals", json={"name": "окно 1"}, headers=bearer(token)).json
    other, _ = enroll(engine, "sch2")
    listed = client.get("/api/schools/sch1/terminals", headers=bearer(token)).json["terminals"]
    assert [(t["id"], t["name"], t["online"]) for t in listed] == [(added["terminal_id"], "окно 1", False)]
    url = f"/api/schools/sch1/terminals/{added['terminal_id']}"
    assert client.patch(url, json={"name": "окно 2"}, headers=bearer(token)).status_code == 200
    assert client.patch(url, json={"name": 5}, headers=bearer(token)).status_code == 400
    assert client.patch(f"/api/schools/sch1/terminals/{other}", json={"name": "x"}, headers=bearer(token)
                        ).status_code == 404
    assert client.get("/api/schools/sch2/terminals", headers=bearer(token)).status_code == 403
    assert client.post(f"{url}/revoke", headers=bearer(token)).status_code == 200
    assert client.post(f"{url}/revoke", headers=bearer(token)).status_code == 409
    assert client.post("/api/sync/pull", json={}, headers=bearer(added["token"])).status_code == 401
    listed = client.get("/api/schools/sch1/terminals", headers=bearer(token)).json["terminals"]
    assert [(t["name"], t["revoked"]) for t in listed] == [("окно 2", True)]


def test_a_nul_or_control_character_is_a_clear_refusal_not_a_500(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, _ = enroll(engine)
    make_admin(engine, "district")
    token = client.post("/api/auth/login", json={"login": "district", "password": "secret-pass"}).json["token"]
    for method, url, body, status in (
            ("get", "/api/schools/sch%00/terminals", None, 404),
            ("post", "/api/schools/sch1/terminals/x%00/revoke", None, 404),
            ("patch", f"/api/schools/sch1/terminals/{terminal_id}", {"name": "окно\x00"}, 400),
            ("get", "/api/schools/sch1/reviews?class=1%00", None, 400),
            ("get", "/api/schools/sch1/reviews/history?day=2026-03-10&subject=s%00&meal=&kind=clone", None, 400)):
        answer = getattr(client, method)(url, json=body, headers=bearer(token))
        assert answer.status_code == status and answer.json["message"], url
