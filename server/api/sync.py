"""Sync endpoints for terminals: push the journal, pull the school's data, check the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from server.api import engine, fail, json_body, principal, requires
from server.app import state
from server.ingest import PushOutcome, ingest, ingest_rows
from server.office import fleet
from server.pull import pull
from sync.wire import (
    HEALTH_PATH,
    PULL_PATH,
    PUSH_PATH,
    PushAnswer,
    WireError,
    decode_push,
    encode_json,
    parse_datetime,
    utc_iso,
)

bp = Blueprint("sync", __name__)


def _drift(body: dict[str, Any], now: datetime) -> float | None:
    """Terminal clock minus server clock, from the terminal's time in the request."""
    if body.get("terminal_time") is None:
        return None
    try:
        terminal = parse_datetime(body["terminal_time"], "terminal_time")
    except WireError as exc:
        fail(400, exc.message)
    return round((terminal - now.replace(tzinfo=None)).total_seconds(), 3)


@bp.get(HEALTH_PATH)
def health() -> Any:
    return jsonify(status="ok", server_time=utc_iso(datetime.now(UTC)))


@bp.post(PUSH_PATH)
@requires("terminal")
def push() -> Any:
    now = datetime.now(UTC)
    config = state(current_app).config
    fast = decode_push(request.get_data(cache=True))
    if fast is not None:  # every event valid: decoded and checked in one pass
        terminal_time, rows = fast
        _check_batch(len(rows), config.max_batch)
        drift = _drift({"terminal_time": terminal_time}, now)
        with engine().begin() as conn:
            out = ingest_rows(conn, principal(), rows, stale_hours=config.stale_hours, drift_s=drift)
    else:  # something is wrong somewhere: the slow path finds it and answers for each event
        body = json_body()
        events = body.get("events")
        if not isinstance(events, list):
            fail(400, "поле events: ожидается список событий")
        _check_batch(len(events), config.max_batch)
        drift = _drift(body, now)
        with engine().begin() as conn:
            out = ingest(conn, principal(), events, stale_hours=config.stale_hours, drift_s=drift)
    fleet.note_report(engine(), principal().name, request.get_data(cache=True))  # outbox_size, version
    return _answer(now, drift, out)


def _check_batch(size: int, limit: int) -> None:
    if size > limit:
        fail(413, f"в одной отправке не больше {limit} событий, а пришло {size}")


def _answer(now: datetime, drift: float | None, out: PushOutcome) -> Response:
    answer = PushAnswer(server_time=utc_iso(now), clock_drift_s=drift, stored=out.stored, duplicate=out.duplicate,
                        rejected=out.rejected, terminal_flags=out.terminal_flags)
    return Response(encode_json(answer), mimetype="application/json")


@bp.post(PULL_PATH)
@requires("terminal")
def pull_view() -> Any:
    now = datetime.now(UTC)
    body = json_body()
    outbox_from = body.get("outbox_from")
    if outbox_from is not None and (not isinstance(outbox_from, int) or isinstance(outbox_from, bool)
                                    or outbox_from < 0):
        fail(400, "поле outbox_from: ожидается целое число ≥ 0 или null")
    cursor = body.get("cursor", "")
    if not isinstance(cursor, str) or len(cursor) > 64:
        fail(400, "поле cursor: ожидается строка до 64 символов")
    drift = _drift(body, now)
    who = principal()
    assert who.school_id is not None
    with engine().begin() as conn:
        if conn.dialect.name == "postgresql":  # one consistent view of the school for the whole answer
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        answer = pull(conn, who.name, who.school_id, cursor=cursor, outbox_from=outbox_from,
                      full=bool(body.get("full")), now=now, drift_s=drift)
    answer["clock_drift_s"] = drift
    fleet.note_report(engine(), who.name, body)  # outbox_size, version
    return jsonify(answer)
