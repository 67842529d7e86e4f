"""The HTTP API: auth and school isolation, JSON errors for bad input, idempotent push, pull, OpenAPI."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, insert, select

from pos.policy import shipped_policies
from server.accounts import add_school
from server.app import create_app, state
from server.models import Event, School, Student, Terminal
from tests.server.kit import enroll, make_admin, school_today, seed_school


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def event(terminal_id: str, seq: int, **over: Any) -> dict[str, Any]:
    base = {"id": uuid.uuid4().hex, "terminal_id": terminal_id, "seq": seq, "kind": "serve",
            "at_utc": datetime.now(UTC).isoformat(), "local_date": school_today().isoformat(), "student_id": "s1",
            "card_uid": "EM:0000000001", "meal": "breakfast", "outcome": "serve_free", "reason": "ok",
            "message": "Бесплатно: завтрак", "paid_kopecks": 0, "free_kopecks": 4858, "budget_line": "01100L3040",
            "ref_event_id": None, "source": "card", "staff": "", "note": "", "flags": ""}
    return {**base, **over}


def login(client: FlaskClient, login_name: str = "admin", password: str = "secret-pass") -> str:
    response = client.post("/api/auth/login", json={"login": login_name, "password": password})
    assert response.status_code == 200, response.json
    token: str = response.json["token"]  # type: ignore[index]
    return token


def test_openapi_describes_exactly_the_routes(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    assert spec is not None
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = rule.rule.replace("<", "{").replace(">", "}")
            routed |= {(path, m) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    assert documented == routed


def test_nothing_is_open_without_a_token(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    for method, path in [("post", "/api/sync/push"), ("post", "/api/sync/pull"), ("get", "/api/schools"),
                         ("get", "/api/schools/sch1/mismatches?from=2026-01-01&to=2026-01-02")]:
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401 and response.json["message"]


def test_tokens_see_only_their_role_and_school(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine, "sch1")
    seed_school(engine, "sch2")
    _, terminal_token = enroll(engine, "sch1")
    make_admin(engine, "head1", school_id="sch1")
    admin_token = login(client, "head1")
    assert client.get("/api/schools/sch1", headers=bearer(admin_token)).status_code == 200
    assert client.get("/api/schools/sch2", headers=bearer(admin_token)).status_code == 403
    assert client.get("/api/schools/sch1", headers=bearer(terminal_token)).status_code == 403
    assert client.post("/api/sync/pull", json={}, headers=bearer(admin_token)).status_code == 403
    assert client.post("/api/sync/pull", json={}, headers=bearer(terminal_token + "x")).status_code == 401
    listed = client.get("/api/schools", headers=bearer(admin_token)).json
    assert [s["id"] for s in listed["schools"]] == ["sch1"]


def test_revoked_terminal_token_is_refused(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    make_admin(engine)
    admin = login(client)
    assert client.post("/api/sync/pull", json={}, headers=bearer(token)).status_code == 200
    assert client.post(f"/api/terminals/{terminal_id}/revoke", headers=bearer(admin)).status_code == 200
    assert client.post("/api/sync/pull", json={}, headers=bearer(token)).status_code == 401


def test_wrong_password_gets_401(client: FlaskClient, engine: Engine) -> None:
    make_admin(engine)
    assert client.post("/api/auth/login", json={"login": "admin", "password": "nope-nope"}).status_code == 401


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b'{"events": 5}', b'{"events": [1, "x", null]}',
                                  b'{"events": [], "terminal_time": "yesterday"}', b"\xff\xfe", b"{" * 5000])
def test_malformed_push_gets_a_json_4xx_never_500(client: FlaskClient, engine: Engine, body: bytes) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    response = client.post("/api/sync/push", data=body, headers={**bearer(token), "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500 or (response.status_code == 200 and response.json["rejected"])
    assert (response.json and response.json.get("message")) or response.json.get("rejected")


def test_oversized_push_gets_413_with_a_message(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    response = client.post("/api/sync/push", json={"events": [event(terminal_id, i + 1) for i in range(5001)]},
                           headers=bearer(token))
    assert response.status_code == 413 and "5000" in response.json["message"]


def test_push_twice_or_cut_halfway_stores_each_event_once(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    events = [event(terminal_id, i + 1, student_id=f"s{i % 6 + 1}") for i in range(10)]
    first = client.post("/api/sync/push", json={"events": events[:4]}, headers=bearer(token)).json
    assert len(first["stored"]) == 4
    again = client.post("/api/sync/push", json={"events": events + events[:2]}, headers=bearer(token)).json
    assert sorted(again["stored"]) == sorted(e["id"] for e in events[4:])
    assert len(again["duplicate"]) == 6
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Event)).scalar() == 10


def test_paid_serve_debits_the_account_and_its_reversal_refunds(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    paid = event(terminal_id, 1, student_id="s4", outcome="serve_paid", paid_kopecks=7500, free_kopecks=0)
    client.post("/api/sync/push", json={"events": [paid, paid]}, headers=bearer(token))

    def balance() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(Student.balance_kopecks).where(Student.id == "s4")).scalar_one())

    assert balance() == 50000 - 7500
    undo = event(terminal_id, 2, kind="reversal", student_id="s4", outcome="refuse", reason="reversal",
                 paid_kopecks=-7500, free_kopecks=0, ref_event_id=paid["id"])
    client.post("/api/sync/push", json={"events": [undo]}, headers=bearer(token))
    assert balance() == 50000


def test_unknown_student_and_card_are_stored_and_flagged(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    events = [event(terminal_id, 1, student_id="ghost"), event(terminal_id, 2, card_uid="EM:00DEADBEEF"),
              event(terminal_id, 3, card_uid="D10:0000000003"),  # card 3 registered as EM:0000000003
              event(terminal_id, 4, card_uid="EM:0100000003")]  # another EM card sharing its low bits
    answer = client.post("/api/sync/push", json={"events": events}, headers=bearer(token)).json
    assert len(answer["stored"]) == 4
    with engine.connect() as conn:
        flags = dict(conn.execute(select(Event.seq, Event.server_flags)).tuples().all())
    assert "unknown_student" in flags[1] and "unknown_card" in flags[2] and "unknown_card" not in flags[3]
    assert "unknown_card" in flags[4]


def test_bad_event_is_rejected_alone_and_the_rest_stored(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    good, bad, foreign = event(terminal_id, 1), event(terminal_id, 2, meal="dinner"), event("other-T1", 3)
    answer = client.post("/api/sync/push", json={"events": [good, bad, foreign]}, headers=bearer(token)).json
    assert answer["stored"] == [good["id"]]
    reasons = {r["id"]: r["reason"] for r in answer["rejected"]}
    assert reasons == {bad["id"]: "invalid", foreign["id"]: "wrong_terminal"}


def test_served_without_a_recent_pull_is_flagged_stale(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    early = event(terminal_id, 1)
    client.post("/api/sync/pull", json={}, headers=bearer(token))
    late = event(terminal_id, 2)
    client.post("/api/sync/push", json={"events": [early, late]}, headers=bearer(token))
    with engine.connect() as conn:
        flags = dict(conn.execute(select(Event.seq, Event.server_flags)).tuples().all())
    assert flags[1] == "stale_data" and flags[2] == ""


def test_pull_snapshot_then_delta_carries_only_changes(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    snap = client.post("/api/sync/pull", json={"cursor": ""}, headers=bearer(token)).json
    assert snap["snapshot"] and len(snap["students"]) == 6 and len(snap["orders"]) == 10
    assert set(snap["students"][0]) == {"id", "full_name", "class_id", "birth_date", "diet_note",
                                        "daily_limit_kopecks", "balance_kopecks", "active"}
    assert snap["school"]["timezone"] == "Asia/Krasnoyarsk" and "policy" in snap["school"]
    same = client.post("/api/sync/pull", json={"cursor": snap["cursor"]}, headers=bearer(token)).json
    assert not same["snapshot"] and same["students"] == [] and same["orders"] == [] and "school" not in same
    from server.importer import import_rows

    with engine.begin() as conn:
        import_rows(conn, "sch1", "orders", [{"student_id": "s1", "day": school_today().isoformat(), "meals": ""}])
    delta = client.post("/api/sync/pull", json={"cursor": snap["cursor"]}, headers=bearer(token)).json
    assert delta["deleted"] == {"orders": [["s1", school_today().isoformat(), "breakfast"]]}
    assert delta["students"] == [] and delta["cards"] == []


def test_birth_dates_leave_the_server_only_when_prices_depend_on_age(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    snap = client.post("/api/sync/pull", json={}, headers=bearer(token)).json
    assert all(s["birth_date"] for s in snap["students"])  # Nazarovo prices by age
    with engine.begin() as conn:
        add_school(conn, school_id="sch1", name="Школа", timezone="Asia/Krasnoyarsk",
                   policy_text=(__import__("pos.policy").policy.shipped_policies()["kirovsk-2020"]
                                .read_text(encoding="utf-8")), week_days="1,2,3,4,5,6,7")
    snap = client.post("/api/sync/pull", json={"full": True}, headers=bearer(token)).json
    assert not any(s["birth_date"] for s in snap["students"])


@pytest.fixture
def small(db_url: str) -> Iterator[Flask]:
    """The app taking bodies of at most 4 KB."""
    app = create_app({"database_url": db_url, "secret_key": "test", "max_content_length": 4096})
    yield app
    state(app).engine.dispose()


BAD_BODIES = {  # what is wrong -> (body, status, words of the message)
    "not JSON": (b"{'login': 'admin'}", 400, "не JSON"),
    "not UTF-8": (b'{"login": "\xff"}', 400, "не в UTF-8"),
    "too deep": (b"[" * 4000, 400, "вложено слишком глубоко"),
    "too deep inside": (b'{"zzz": ' + b"[" * 4000 + b', "events": []}', 400, "вложено слишком глубоко"),
    "too big": (b'{"events": [], "pad": "' + b"x" * 5000 + b'"}', 413, "тело запроса больше 4"),
}


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull", "/api/auth/login", "/api/schools",
                                  "/api/schools/sch1/terminals", "/api/schools/sch1/import/students"])
def test_a_body_not_json_too_deep_or_too_big_gets_400_or_413_saying_why(small: Flask, path: str) -> None:
    client, engine = small.test_client(), state(small).engine
    seed_school(engine)
    _, terminal_token = enroll(engine)
    make_admin(engine)
    token = terminal_token if path.startswith("/api/sync/") else login(client)
    for what, (body, status, words) in BAD_BODIES.items():
        response = client.post(path, data=body, headers={**bearer(token), "Content-Type": "application/json"})
        assert response.status_code == status, (what, response.json)
        assert response.json is not None and words in response.json["message"], (what, response.json)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("get", "/api/sync/push", {"POST", "OPTIONS"}), ("post", "/api/health", {"GET", "HEAD", "OPTIONS"}),
    ("delete", "/api/schools", {"GET", "HEAD", "OPTIONS", "POST"})])
def test_a_wrong_method_gets_405_with_the_allowed_methods(client: FlaskClient, method: str, path: str,
                                                          allowed: set[str]) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed


def nazarovo() -> str:
    return shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")


@pytest.mark.parametrize("school_id", ["", "Sch1", "школа", "a" * 33, "adm-1", "-x", "_x", "a.b", "a/b", "a b"])
def test_a_school_id_that_is_not_a_short_slug_is_refused(client: FlaskClient, engine: Engine,
                                                         school_id: str) -> None:
    make_admin(engine)
    response = client.post("/api/schools", headers=bearer(login(client)), json={
        "id": school_id, "name": "Школа", "timezone": "Asia/Krasnoyarsk", "policy": nazarovo()})
    assert response.status_code == 422 and "код школы: от 1 до 32 знаков" in response.json["message"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(School)).scalar() == 0


def test_the_longest_school_id_makes_terminal_ids_and_tokens_that_work(client: FlaskClient, engine: Engine) -> None:
    make_admin(engine)
    admin = bearer(login(client))
    school_id = "z" * 32
    assert client.post("/api/schools", headers=admin, json={
        "id": school_id, "name": "Школа", "timezone": "Asia/Krasnoyarsk", "policy": nazarovo()}).status_code == 201
    with engine.begin() as conn:  # one terminal, numbered 2: the next number is taken, so the id is random
        conn.execute(insert(Terminal).values(id=f"{school_id}-T2", school_id=school_id, token_hash="",
                                             created_at=datetime(2026, 1, 1)))
    enrolled = client.post(f"/api/schools/{school_id}/terminals", headers=admin, json={"name": "окно 1"}).json
    assert enrolled["terminal_id"].startswith(f"{school_id}-T") and len(enrolled["terminal_id"]) == 32 + 2 + 4
    pulled = client.post("/api/sync/pull", json={}, headers=bearer(enrolled["token"]))
    assert pulled.status_code == 200 and pulled.json["terminal_id"] == enrolled["terminal_id"]
    revoked = client.post(f"/api/terminals/{enrolled['terminal_id']}/revoke", headers=admin)
    assert revoked.status_code == 200


@pytest.mark.parametrize("path", ["/api/schools/SCH1", "/api/schools/adm-1/mismatches?from=2026-01-01&to=2026-01-02",
                                  "/api/schools/a%00b", "/api/schools/" + "a" * 65])
def test_a_route_with_an_impossible_school_id_gets_404(client: FlaskClient, engine: Engine, path: str) -> None:
    make_admin(engine)
    response = client.get(path, headers=bearer(login(client)))
    assert response.status_code == 404 and "такого кода школы не бывает" in response.json["message"]
