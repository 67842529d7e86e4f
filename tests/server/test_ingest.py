"""The driver-level ingest: what it stores matches what SQLAlchemy would, and a delta pull does not send
a terminal its own serves back."""

from __future__ import annotations

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
    sent = [event(terminal_id, 1, at_utc="2026-03-02T08:40:05+07:00"), event(terminal_id, 2)]
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
