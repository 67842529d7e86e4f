"""Every route against inputs that used to raise: each answers 4xx with a Russian message, never 500."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from pos.policy import shipped_policies
from server.accounts import add_school
from server.models import Student
from tests.server.kit import TZ, enroll, make_admin, seed_school
from tests.server.test_api import bearer, event, login

RUSSIAN = re.compile("[а-яё]", re.IGNORECASE)
NUL = "a\x00b"

# (token kind, method, path, JSON body or None) -> every one a 4xx in the API's shape.
CASES: dict[str, tuple[str, str, str, Any]] = {
    "login name with NUL": ("", "post", "/api/auth/login", {"login": NUL, "password": "secret-pass"}),
    "login name not text": ("", "post", "/api/auth/login", {"login": 5, "password": "secret-pass"}),
    "login without password": ("", "post", "/api/auth/login", {"login": "admin"}),
    "school without fields": ("admin", "post", "/api/schools", {"id": "x"}),
    "school id upper case": ("admin", "post", "/api/schools", {"id": "Sch9", "name": "Ш", "timezone": "UTC",
                                                               "policy": "x"}),
    "school id like a token": ("admin", "post", "/api/schools", {"id": "adm-1", "name": "Ш", "timezone": "UTC",
                                                                 "policy": "x"}),
    "school id too long": ("admin", "post", "/api/schools", {"id": "a" * 33, "name": "Ш", "timezone": "UTC",
                                                             "policy": "x"}),
    "school name with NUL": ("admin", "post", "/api/schools", {"id": "sch9", "name": NUL, "timezone": "UTC",
                                                               "policy": "x"}),
    "school name too long": ("admin", "post", "/api/schools", {"id": "sch9", "name": "Ш" * 301,
                                                               "timezone": "UTC", "policy": "x"}),
    "time zone with NUL": ("admin", "post", "/api/schools", {"id": "sch9", "name": "Ш", "timezone": NUL,
                                                             "policy": "x"}),
    "policy with NUL": ("admin", "post", "/api/schools", {"id": "sch9", "name": "Ш", "timezone": "UTC",
                                                          "policy": "[policy]\nid = \"a\x00b\"\n"}),
    "week days not numbers": ("admin", "post", "/api/schools", {"id": "sch9", "name": "Ш", "timezone": "UTC",
                                                                "policy": "x", "week_days": "пн,вт"}),
    "school id route upper case": ("admin", "get", "/api/schools/SCH1", None),
    "school id route with NUL": ("admin", "get", "/api/schools/sch%001", None),
    "school id route too long": ("admin", "get", "/api/schools/" + "a" * 100, None),
    "terminals of a bad school id": ("admin", "post", "/api/schools/adm-x/terminals", {}),
    "terminal name with NUL": ("admin", "post", "/api/schools/sch1/terminals", {"name": NUL}),
    "terminal name not text": ("admin", "post", "/api/schools/sch1/terminals", {"name": ["окно"]}),
    "revoke a bad terminal id": ("admin", "post", "/api/terminals/sch1-T1%00/revoke", None),
    "revoke a long terminal id": ("admin", "post", "/api/terminals/" + "a" * 300 + "/revoke", None),
    "import of a bad kind": ("admin", "post", "/api/schools/sch1/import/%00", {"rows": []}),
    "import to a bad school id": ("admin", "post", "/api/schools/a.b/import/students", {"rows": []}),
    "import rows with NUL": ("admin", "post", "/api/schools/sch1/import/students",
                             {"rows": [{"student_id": NUL, "full_name": NUL, "class": "1а"}]}),
    "mismatches without to": ("admin", "get", "/api/schools/sch1/mismatches?from=2026-01-01", None),
    "mismatches with a bad date": ("admin", "get", "/api/schools/sch1/mismatches?from=2026-01-01&to=31.01.2026",
                                   None),
    "mismatches reversed": ("admin", "get", "/api/schools/sch1/mismatches?from=2026-02-01&to=2026-01-01", None),
    "mismatches with NUL": ("admin", "get", "/api/schools/sch1/mismatches?from=2026-01-01%00&to=2026-01-02", None),
    "pull with a huge outbox_from": ("terminal", "post", "/api/sync/pull", {"outbox_from": 10 ** 30}),
    "pull with a cursor with NUL": ("terminal", "post", "/api/sync/pull", {"cursor": NUL}),
    "pull with a time out of range": ("terminal", "post", "/api/sync/pull",
                                      {"terminal_time": "0001-01-01T00:00:00+14:00"}),
    "push with a bad time": ("terminal", "post", "/api/sync/push", {"terminal_time": NUL, "events": []}),
    "token with NUL": ("forged", "get", "/api/schools", None),
}


UPLOADS = {  # what is wrong -> (multipart body, its boundary)
    "a file with NUL": (b'--xx\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n\r\n'
                        b"student_id;full_name;class\nn1;\x00;2\n\r\n--xx--\r\n", "xx"),
    "a multipart body without a file": (b'--xx\r\nContent-Disposition: form-data; name="rows"\r\n\r\n[]\r\n--xx--\r\n',
                                        "xx"),
}


@pytest.mark.parametrize("case", list(UPLOADS))
def test_an_import_upload_it_cannot_read_gets_a_4xx_with_a_russian_message(client: FlaskClient, engine: Engine,
                                                                           case: str) -> None:
    seed_school(engine)
    make_admin(engine)
    body, boundary = UPLOADS[case]
    response = client.post("/api/schools/sch1/import/students", data=body, headers={
        **bearer(login(client)), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert 400 <= response.status_code < 500 and response.json is not None
    words = "управляющий символ" if "NUL" in case else "нет файла"  # a NUL in a cell is that row's error
    assert words in json.dumps(response.json, ensure_ascii=False)
    with engine.connect() as conn:
        assert conn.execute(select(Student.id).where(Student.id == "n1")).first() is None


# One bad event of a push is refused alone (the batch is answered per event, 200), never the whole push.
BAD_EVENTS = {
    "an event with NUL": {"note": NUL},
    "an event at a time out of range": {"at_utc": "0001-01-01T00:00:00+14:00"},
}


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_a_bad_event_of_a_push_is_rejected_alone_with_a_russian_message(client: FlaskClient, engine: Engine,
                                                                       case: str) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    events = [event(terminal_id, 1), event(terminal_id, 2, **BAD_EVENTS[case]), event(terminal_id, 3)]
    # A time no clock could show is ignored for the drift, not a reason to refuse the events.
    response = client.post("/api/sync/push", headers=bearer(token),
                           json={"terminal_time": "0001-01-01T00:00:00+14:00", "events": events})
    assert response.status_code == 200 and response.json is not None, response.data
    assert len(response.json["stored"]) == 2
    [rejected] = response.json["rejected"]
    assert rejected["id"] == events[1]["id"] and RUSSIAN.search(rejected["message"])


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_4xx_with_a_russian_message(client: FlaskClient, engine: Engine, case: str) -> None:
    kind, method, path, body = CASES[case]
    with engine.begin() as conn:  # a school without data is enough, and quick
        add_school(conn, school_id="sch1", name="Школа", timezone=TZ,
                   policy_text=shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8"))
    _, terminal_token = enroll(engine)
    headers = {"terminal": bearer(terminal_token), "forged": bearer("adm-\x00.secret")}.get(kind, {})
    if kind == "admin":
        make_admin(engine)
        headers = bearer(login(client))
    response = getattr(client, method)(path, headers=headers, **({} if body is None else {"json": body}))
    assert 400 <= response.status_code < 500, response.data
    assert response.json is not None and RUSSIAN.search(response.json["message"]), response.json
