"""Administrators' logins: a new password ends the old sessions; failed logins are limited per login
name and per client address, in the database, with a 429 in Russian."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, update

from server import accounts
from server.app import create_app, state
from server.models import LoginFailure
from tests.server.kit import enroll, make_admin, seed_school
from tests.server.test_api import bearer, login


@pytest.fixture
def limited(db_url: str) -> Iterator[tuple[FlaskClient, Engine]]:
    """The app with small limits (3 per login, 5 per address) behind one proxy."""
    app = create_app({"database_url": db_url, "secret_key": "test", "login_max_failures": 3,
                      "login_ip_max_failures": 5, "proxies": 1})
    yield app.test_client(), state(app).engine
    state(app).engine.dispose()


def attempt(client: FlaskClient, name: str, password: str, ip: str = "10.0.0.1") -> int:
    response = client.post("/api/auth/login", json={"login": name, "password": password},
                           headers={"X-Forwarded-For": ip})
    return response.status_code


def test_setting_an_admins_password_ends_their_sessions(client: FlaskClient, engine: Engine) -> None:
    make_admin(engine)
    make_admin(engine, "other")
    token, others = login(client), login(client, "other")
    assert client.get("/api/schools", headers=bearer(token)).status_code == 200
    make_admin(engine, password="a-new-password")  # `canteen server admin add admin` again
    assert client.get("/api/schools", headers=bearer(token)).status_code == 401
    assert client.get("/api/schools", headers=bearer(others)).status_code == 200
    login(client, password="a-new-password")


def test_failed_logins_of_one_name_get_429_even_with_the_right_password(
        limited: tuple[FlaskClient, Engine]) -> None:
    client, engine = limited
    make_admin(engine)
    make_admin(engine, "other")
    assert [attempt(client, "admin", "wrong-pass") for _ in range(3)] == [401, 401, 401]
    response = client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"},
                           headers={"X-Forwarded-For": "10.0.0.2"})
    assert response.status_code == 429 and response.json is not None
    assert response.json["error"] == "too_many_requests"
    assert "слишком много неудачных попыток входа" in response.json["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 600
    assert attempt(client, "other", "secret-pass") == 200  # another name from the same address
    with engine.begin() as conn:  # the window passes
        conn.execute(update(LoginFailure).values(at=LoginFailure.at - timedelta(minutes=11)))
    assert attempt(client, "admin", "secret-pass") == 200


def test_failed_logins_from_one_address_get_429(limited: tuple[FlaskClient, Engine]) -> None:
    client, engine = limited
    make_admin(engine)
    assert {attempt(client, f"guess{i}", "wrong-pass") for i in range(5)} == {401}
    assert attempt(client, "admin", "secret-pass") == 429
    assert attempt(client, "admin", "secret-pass", ip="10.0.0.9") == 200  # another client behind the proxy


def test_logout_ends_only_that_session(client: FlaskClient, engine: Engine) -> None:
    make_admin(engine)
    token, other = login(client), login(client)
    response = client.post("/api/auth/logout", headers=bearer(token))
    assert response.status_code == 200 and response.json == {"logged_out": True}
    refused = client.get("/api/schools", headers=bearer(token))
    assert refused.status_code == 401 and refused.json is not None and refused.json["message"]
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 401
    assert client.get("/api/schools", headers=bearer(other)).status_code == 200


def test_a_terminal_cannot_log_out(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 403
    assert client.post("/api/sync/pull", json={}, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("name", ["admin", "nobody"])
def test_a_login_costs_one_password_hash_check_whether_or_not_the_login_exists(
        client: FlaskClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    make_admin(engine)
    checked: list[str] = []

    def counting(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", counting)
    assert attempt(client, name, "wrong-pass") == 401
    assert len(checked) == 1 and checked[0].startswith("scrypt:")
