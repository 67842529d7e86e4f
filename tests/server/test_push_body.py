"""Whatever bytes a push carries, the server answers 4xx for the body as a whole (saying why) or 200 with
an answer for every event; never a 500."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from server.app import create_app, state
from sync.wire import EVENT_FIELDS
from tests.server.kit import enroll, seed_school
from tests.server.test_api import bearer, event

PUSH = "/api/sync/push"


def post(client: FlaskClient, token: str, body: bytes) -> Any:
    return client.post(PUSH, data=body, headers={**bearer(token), "Content-Type": "application/json"})


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "тело запроса — не JSON: ожидается значение (строка 1, столбец 1)"),
    (b'{"events": [', "тело запроса — не JSON"),
    (b"[" * 10_000 + b"]" * 10_000, "тело запроса вложено слишком глубоко"),
    (b'{"events": [' + b"[" * 10_000 + b"]" * 10_000 + b"]}", "тело запроса вложено слишком глубоко"),
    (b"[1, 2]", "тело запроса должно быть объектом JSON"),
    (b'"events"', "тело запроса должно быть объектом JSON"),
    (b'{"events": 5}', "поле events: ожидается список событий"),
    (b'{"events": [], "terminal_time": 5}', "поле terminal_time: ожидается дата и время ISO 8601"),
    (b'{"events": [{"note": "\xed\xa0\x80"}]}', "тело запроса не в UTF-8"),
    (b"\xff\xfe{}", "тело запроса не в UTF-8 (байт 1)"),
])
def test_a_body_that_is_not_a_push_gets_400_naming_why(client: FlaskClient, engine: Engine, body: bytes,
                                                       message: str) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    response = post(client, token, body)
    assert response.status_code == 400 and response.json["error"] == "bad_request"
    assert response.json["message"].startswith(message), response.json


@pytest.fixture
def small_app(db_url: str) -> Iterator[Flask]:
    app = create_app({"database_url": db_url, "secret_key": "test", "max_content_length": 4096})
    yield app
    state(app).engine.dispose()


def test_a_body_over_the_size_limit_gets_413_naming_the_limit(small_app: Flask) -> None:
    engine = state(small_app).engine
    seed_school(engine)
    terminal_id, token = enroll(engine)
    client = small_app.test_client()
    small = json.dumps({"events": [event(terminal_id, 1)]}).encode()
    assert post(client, token, small).status_code == 200
    big = json.dumps({"events": [event(terminal_id, n + 2) for n in range(20)]}).encode()
    response = post(client, token, big)
    assert response.status_code == 413 and response.json["message"].startswith("тело запроса больше 4 КиБ")


def test_a_terminal_clock_outside_the_years_gives_no_drift_and_no_error(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    for clock in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        body = json.dumps({"terminal_time": clock, "events": [event(terminal_id, 1)]}).encode()
        response = post(client, token, body)
        assert response.status_code == 200 and response.json["clock_drift_s"] is None


STRANGE = ["", "\x00", "\ud800", "\udfff\ud800", "\x7f", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59",
           "2026-03-02", "ж" * 3000, "0123456789abcdef0123456789abcdef", "serve", "reversal", "1e999", 2**64, -(2**63),
           2**31, 10**400, 1e308, -0.0, True, None, [], {}, [[[[]]]], {"id": None}]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from(STRANGE),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)


Window = tuple[str, str, Iterator[int]]


@pytest.fixture
def window(engine: Engine) -> Window:
    """A terminal of a seeded school: its id, its token and its next sequence numbers."""
    seed_school(engine)
    terminal_id, token = enroll(engine)
    return terminal_id, token, itertools.count(1)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from([*EVENT_FIELDS, "extra"]), JSON, min_size=1, max_size=3),
       ascii_only=st.booleans())
def test_any_json_value_in_any_event_field_never_gives_a_500(client: FlaskClient, window: Window,
                                                              fields: dict[str, Any], ascii_only: bool) -> None:
    terminal_id, token, seqs = window
    first, middle, last = (event(terminal_id, next(seqs)) for _ in range(3))
    batch = [first, {**middle, **fields}, last]
    body = json.dumps({"events": batch}, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    response = post(client, token, body)
    assert response.status_code in (200, 400), response.json
    if response.status_code == 200:
        answer = response.json
        assert {batch[0]["id"], batch[2]["id"]} <= set(answer["stored"])
        assert len(answer["stored"]) + len(answer["duplicate"]) + len(answer["rejected"]) == 3
    else:  # only a body with raw surrogates, which is not UTF-8, is refused as a whole
        assert not ascii_only and response.json["message"].startswith("тело запроса не в UTF-8")
