"""The published description agrees with the server: what the server accepts, its schemas accept; what the
server answers, its schemas describe. Checked with real requests: a terminal's sync client and an admin."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from pos.counter import Counter
from pos.domain import Meal
from pos.policy import shipped_policies
from pos.store import make_engine
from server.office.staff import add_staff
from sync.client import SyncClient
from sync.wire import PULL_PATH, PULL_TABLES, PUSH_PATH
from tests.server.kit import enroll, make_admin, school_today, seed_school


class Description:
    """The server's /api/openapi.json, to check bodies against the schemas it documents."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def _validator(self, schema: dict[str, Any]) -> Any:
        return jsonschema_rs.Draft202012Validator({**schema, "components": self.spec["components"]},
                                                  validate_formats=True)

    def _operation(self, path: str, method: str) -> dict[str, Any]:
        for template, operations in self.spec["paths"].items():
            parts, actual = template.split("/"), path.split("?")[0].split("/")
            if len(parts) == len(actual) and all(p == a or p.startswith("{") for p, a in zip(parts, actual,
                                                                                              strict=True)):
                operation: dict[str, Any] = operations[method.lower()]
                return operation
        raise AssertionError(f"{method} {path} is not documented")

    def request_problems(self, path: str, method: str, body: Any) -> list[str]:
        schema = self._operation(path, method)["requestBody"]["content"]["application/json"]["schema"]
        return [f"{e.instance_path}: {e.message}" for e in self._validator(schema).iter_errors(body)]

    def answer_problems(self, path: str, method: str, status: int, body: Any) -> list[str]:
        documented = self._operation(path, method)["responses"]
        if str(status) not in documented:
            return [f"status {status} is not documented (only {', '.join(documented)})"]
        schema = documented[str(status)]["content"]["application/json"].get("schema")
        if schema is None:
            return [f"status {status}: the answer's schema is not documented"]
        return [f"{e.instance_path}: {e.message}" for e in self._validator(schema).iter_errors(body)]


@pytest.fixture
def described(client: FlaskClient) -> Description:
    spec = client.get("/api/openapi.json").json
    assert isinstance(spec, dict)
    return Description(spec)


class Checked(httpx.BaseTransport):
    """Passes a sync client's requests to the app and records whatever does not fit the description."""

    def __init__(self, app: Flask, described: Description) -> None:
        self.wsgi = httpx.WSGITransport(app=app)
        self.described = described
        self.seen: list[tuple[str, int, dict[str, Any]]] = []
        self.problems: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.wsgi.handle_request(request)
        response.read()
        path, body, answer = request.url.path, json.loads(request.content), response.json()
        self.seen.append((path, response.status_code, answer))
        self.problems += [f"{path} request {p}" for p in self.described.request_problems(path, "post", body)]
        self.problems += [f"{path} answer {p}" for p in self.described.answer_problems(
            path, "post", response.status_code, answer)]
        return response


def test_real_sync_requests_and_answers_fit_the_documented_schemas(app: Flask, engine: Engine, tmp_path: Path,
                                                                    described: Description) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        add_staff(conn, "sch1", "Петрова", "2468")
    checked = Checked(app, described)
    stores = []
    for name in ("a", "b"):
        _, token = enroll(engine)
        stores.append((make_engine(tmp_path / f"{name}.db"), token))
    (store_a, token_a), (store_b, token_b) = stores
    client_a = SyncClient(store_a, "http://server", token_a, transport=checked)
    client_b = SyncClient(store_b, "http://server", token_b, transport=checked)
    assert client_a.sync_once().ok and client_b.sync_once().ok  # snapshots
    for card in ("EM:0000000001", "EM:0000000004"):
        assert Counter(store_a).tap_text(card, meal=Meal.BREAKFAST).served
    assert client_a.sync_once().ok  # a push with a free and a paid serve, then a delta
    assert Counter(store_a).undo_last(staff="Повар", reason="ошибка").served is False
    assert client_a.sync_once().ok  # a push with a reversal
    assert client_b.sync_once().ok  # a delta carrying the other window's meals
    pulls = [answer for path, _, answer in checked.seen if path == PULL_PATH]
    pushes = [answer for path, _, answer in checked.seen if path == PUSH_PATH]
    assert len(pulls) == 5 and len(pushes) == 2 and all(push["stored"] for push in pushes)
    assert pulls[-1]["served"], "the delta of the second window carries the first window's meals"
    assert all(pulls[0][table] for table in PULL_TABLES if table not in ("holidays", "class_days_off"))
    assert checked.problems == []


def test_the_pull_sends_no_document_numbers_nor_what_the_terminal_derives(app: Flask, engine: Engine,
                                                                          client: FlaskClient) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    answer = client.post(PULL_PATH, json={}, headers={"Authorization": f"Bearer {token}"}).json
    assert answer is not None
    [benefit] = answer["entitlements"]
    assert benefit["category"] == "low_income" and not {"order_no", "order_date", "reason"} & set(benefit)
    assert answer["cards"] and all(set(card) == {"uid", "student_id", "blocked", "blocked_reason"}
                                   for card in answer["cards"])


def event(terminal_id: str, seq: int) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "terminal_id": terminal_id, "seq": seq, "kind": "serve",
            "at_utc": datetime.now(UTC).isoformat(), "local_date": school_today().isoformat(), "student_id": "s1",
            "card_uid": "EM:0000000001", "meal": "breakfast", "outcome": "serve_free", "reason": "ok",
            "message": "Бесплатно: завтрак", "paid_kopecks": 0, "free_kopecks": 4858, "budget_line": None,
            "ref_event_id": None, "source": "card", "staff": "", "note": "", "flags": ""}


@pytest.mark.parametrize("path, body", [
    (PUSH_PATH, {"terminal_time": None, "events": []}),
    (PUSH_PATH, {"events": []}),
    (PULL_PATH, {}),
    (PULL_PATH, {"terminal_time": None, "cursor": "", "outbox_from": None, "full": True}),
])
def test_bodies_without_a_terminal_time_are_accepted_and_documented(
        engine: Engine, client: FlaskClient, described: Description, path: str, body: dict[str, Any]) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    if path == PUSH_PATH:
        body = {**body, "events": [event(terminal_id, 1)]}
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json is not None
    assert response.json["clock_drift_s"] is None
    assert described.request_problems(path, "post", body) == []
    assert described.answer_problems(path, "post", 200, response.json) == []


def test_real_admin_requests_and_answers_fit_the_documented_schemas(engine: Engine, client: FlaskClient,
                                                                     described: Description) -> None:
    seed_school(engine)
    make_admin(engine)
    day = school_today().isoformat()
    policy = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    token = ""
    problems: list[str] = []

    def call(method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == expect, response.json
        if body is not None:
            problems.extend(f"{path} request {p}" for p in described.request_problems(path, method, body))
        problems.extend(f"{path} answer {p}" for p in described.answer_problems(
            path, method, response.status_code, response.json))
        return response.json

    token = call("POST", "/api/auth/login", {"login": "admin", "password": "secret-pass"})["token"]
    call("GET", "/api/schools")
    school = {"id": "sch2", "name": "Школа 2", "timezone": "Asia/Krasnoyarsk", "policy": policy}
    call("POST", "/api/schools", school, expect=201)
    call("POST", "/api/schools", {**school, "timezone": "Марс/Олимп"}, expect=422)
    terminal = call("POST", "/api/schools/sch1/terminals", {"name": "Окно 2"}, expect=201)
    call("POST", "/api/schools/sch1/terminals", expect=201)  # the body may be left out
    call("GET", "/api/schools/sch1")
    call("POST", "/api/schools/sch1/import/holidays", {"rows": [{"day": day, "reason": "карантин"}]})
    call("POST", "/api/schools/sch1/import/holidays", {"rows": [{"day": "31.02.2026"}]}, expect=422)
    call("GET", f"/api/schools/sch1/mismatches?from={day}&to={day}")
    call("POST", f"/api/terminals/{terminal['terminal_id']}/revoke")
    call("POST", f"/api/terminals/{terminal['terminal_id']}/revoke", expect=409)
    call("GET", "/api/schools/nowhere", expect=404)
    assert problems == []
