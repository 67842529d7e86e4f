"""The driver-level ingest: what it stores matches what SQLAlchemy would, a delta pull does not send a
terminal its own serves back, and one bad event of a batch is refused alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from server.models import Event
from tests.server.kit import enroll, seed_school
from tests.server.test_api import bearer, event


def test_sqlite_rows_carry_times_and_dates_as_sqlalchemy_writes_them(client: FlaskClient, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the text form of times is SQLite's")
    seed_school(engine)
    terminal_id, token = enroll(engine)
    sent = [event(terminal_id, 1, at_utc="2026-03-02T08:40:05+07:00", local_date="2026-03-02"), event(terminal_id, 2)]
    assert len(client.post("/api/sync/push", json={"events": sent}, headers=bearer(token)).json["stored"]) == 2
    columns = Event.__table__.c

    def written(column: Any, value: object) -> object:  # the text SQLAlchemy's SQLite type writes
        return column.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)(value)

    with engine.connect() as conn:
        stored = conn.execute(select(Event.at_utc, Event.local_date, Event.received_at).order_by(Event.seq)).all()
        raw = conn.exec_driver_sql("SELECT at_utc, local_date, received_at FROM events ORDER BY seq").all()
    for row, (at_text, day_text, received_text) in zip(stored, raw, strict=True):
        assert at_text == written(columns.at_utc, row.at_utc)
        assert day_text == written(columns.local_date, row.local_date)
        assert received_text == written(columns.received_at, row.received_at)
    assert stored[0].at_utc.isoformat() == "2026-03-02T01:40:05"  # the offset turned into naive UTC


def test_delta_pull_leaves_out_the_terminals_own_serves_others_and_snapshots_carry_them(
        client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    a_id, a_token = enroll(engine)
    _, b_token = enroll(engine)
    cursors = {}
    for token in (a_token, b_token):
        cursors[token] = client.post("/api/sync/pull", json={}, headers=bearer(token)).json["cursor"]
    served = event(a_id, 1)
    client.post("/api/sync/push", json={"events": [served]}, headers=bearer(a_token))

    def served_ids(token: str, **body: object) -> list[str]:
        answer = client.post("/api/sync/pull", json={"cursor": cursors[token], **body}, headers=bearer(token)).json
        return [s["id"] for s in answer["served"]]

    assert served_ids(a_token) == []  # A's counter wrote it into A's served table when it served
    assert served_ids(b_token) == [served["id"]]
    assert served_ids(a_token, full=True) == [served["id"]]


# A change to the middle event of three, and the start of the Russian message it is refused with.
BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"note": "Ив\x00анова"}, "поле note: управляющий символ U+0000"),  # PostgreSQL cannot even store a NUL
    ({"message": "\x1b[31m"}, "поле message: управляющий символ U+001B"),
    ({"staff": "del\x7f"}, "поле staff: управляющий символ U+007F"),
    ({"note": "\ud800"}, "поле note: одиночный суррогат UTF-16 U+D800"),
    ({"at_utc": "0001-01-01T00:00:00+01:00"}, "поле at_utc: дата 01.01.0001 вне 2000–2099 годов"),
    ({"at_utc": "1970-01-01T03:00:00+00:00", "local_date": "1970-01-01"}, "поле at_utc: дата 01.01.1970 вне"),
    ({"at_utc": "2100-01-01T00:00:00Z", "local_date": "2100-01-01"}, "поле at_utc: дата 01.01.2100 вне"),
    ({"local_date": "0001-01-01"}, "поле local_date: дата 01.01.0001 вне 2000–2099 годов"),
    ({"local_date": "2026-01-01"}, "поле local_date: 01.01.2026 — не дата времени at_utc"),
    ({"seq": True}, "поле seq: ожидается целое число"),
    ({"seq": 2.0}, "поле seq: ожидается целое число"),
    ({"paid_kopecks": "75"}, "поле paid_kopecks: ожидается целое число"),
    ({"free_kopecks": 2**70}, "поле free_kopecks: ожидается целое число от -100000000 до 100000000"),
    ({"note": {"text": "x"}}, "поле note: ожидается строка до 2000 символов, а пришло: объект"),
    ({"student_id": ["s1"]}, "поле student_id: ожидается строка до 64 символов или null, а пришло: список"),
    ({"note": "я" * 2001}, "поле note: длиннее 2000 символов"),
    ({"card_uid": "E" * 65}, "поле card_uid: длиннее 64 символов"),
    ({"extra": 1}, "лишнее поле «extra»"),
    ({"id": "0123456789ABCDEF0123456789ABCDEF"}, "поле id: ожидается 32 шестнадцатеричные цифры"),
    ({"ref_event_id": "x" * 32}, "поле ref_event_id: ожидается 32 шестнадцатеричные цифры"),
    ({"kind": "supper"}, "поле kind: ожидается одно из: serve, refuse, override, reversal"),
    ({"kind": "reversal", "paid_kopecks": 0, "free_kopecks": 0}, "отмена выдачи без ссылки на выдачу"),
]


@pytest.mark.parametrize(("change", "message"), BAD_FIELDS)
def test_a_bad_field_refuses_its_event_alone_and_the_rest_of_the_batch_is_stored(
        client: FlaskClient, engine: Engine, change: dict[str, Any], message: str) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    batch = [event(terminal_id, 1), {**event(terminal_id, 2), **change}, event(terminal_id, 3)]
    body = json.dumps({"events": batch})  # ASCII escapes: a lone surrogate can travel only so
    response = client.post("/api/sync/push", data=body, headers={**bearer(token), "Content-Type": "application/json"})
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["stored"] == [batch[0]["id"], batch[2]["id"]] and answer["duplicate"] == []
    [rejected] = answer["rejected"]
    assert rejected["id"] == (batch[1]["id"] if "id" not in change else None)  # a malformed id is not echoed
    assert rejected["reason"] == "invalid" and rejected["message"].startswith(message), rejected
    with engine.connect() as conn:
        assert set(conn.execute(select(Event.id)).scalars()) == {batch[0]["id"], batch[2]["id"]}
