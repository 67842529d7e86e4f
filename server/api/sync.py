"""Sync endpoints for terminals: push the journal, pull the school's data, check the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import Connection
from werkzeug.exceptions import RequestEntityTooLarge

from server.api import engine, fail, json_body, principal, requires
from server.app import state
from server.db import run_transaction
from server.full_sync import BUSY, FullSyncBusy, is_full, take_slot
from server.ingest import PushOutcome, ingest, ingest_rows
from server.office import fleet
from server.pull import pull
from sync.wire import (
    HEALTH_PATH,
    PULL_PATH,
    PUSH_PATH,
    PushAnswer,
    WireError,
    clock_drift,
    decode_push,
    encode_json,
    parse_datetime,
    read_push,
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
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00 is before year 1 in UTC
        fail(400, "поле terminal_time: время вне допустимого диапазона")
    return round((terminal - now.replace(tzinfo=None)).total_seconds(), 3)


@bp.get(HEALTH_PATH)
def health() -> Any:
    """200 while the database answers; 503 (the app's handler for database errors) while it does not."""
    with engine().connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return jsonify(status="ok", server_time=utc_iso(datetime.now(UTC)))


@bp.post(PUSH_PATH)
@requires("terminal")
def push() -> Any:
    now = datetime.now(UTC)
    config = state(current_app).config
    body = _body()
    fast = decode_push(body)
    who = principal()
    if fast is not None:  # every event valid: decoded and checked in one pass
        terminal_time, rows = fast
        _check_batch(len(rows), config.max_batch)
        drift = clock_drift(terminal_time, now)
        out = run_transaction(engine(), lambda conn: ingest_rows(conn, who, rows, stale_hours=config.stale_hours,
                                                                 drift_s=drift))
    else:  # something is wrong somewhere: the slow path finds it and answers for each event
        try:
            terminal_time, events = read_push(body)
        except WireError as exc:
            fail(400, exc.message)
        _check_batch(len(events), config.max_batch)
        drift = clock_drift(terminal_time, now)
        out = run_transaction(engine(), lambda conn: ingest(conn, who, events, stale_hours=config.stale_hours,
                                                            drift_s=drift))
    fleet.note_report(engine(), who.name, body)  # outbox_size, version: what the terminal reports
    return _answer(now, drift, out)


def _body() -> bytes:
    """The request's bytes; 413 above the server's limit (CANTEEN_MAX_CONTENT_LENGTH)."""
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        fail(413, f"тело запроса больше {limit // 1024} КиБ; отправляйте события частями")


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
                                    or not 0 <= outbox_from < 2 ** 63):
        fail(400, "поле outbox_from: ожидается целое число от 0 до 2⁶³ − 1 или null")
    cursor = body.get("cursor", "")
    if not isinstance(cursor, str) or len(cursor) > 64:
        fail(400, "поле cursor: ожидается строка до 64 символов")
    drift = _drift(body, now)
    who = principal()
    assert who.school_id is not None
    school_id = who.school_id
    full = bool(body.get("full"))
    config = state(current_app).config

    def work(conn: Connection) -> dict[str, Any]:
        if is_full(full, cursor):  # a snapshot holds one of the few full-pull slots while it runs
            take_slot(conn, config.full_sync_slots, config.full_sync_retry_s)
        return pull(conn, who.name, school_id, cursor=cursor, outbox_from=outbox_from, full=full, now=now,
                    drift_s=drift)

    # One consistent view of the school for the whole answer; run again if a push of this terminal
    # committed meanwhile (both update the terminal's row).
    try:
        answer = run_transaction(engine(), work, isolation="REPEATABLE READ")
    except FullSyncBusy as busy:
        return (jsonify(error=BUSY, message=busy.message), 503,
                {"Retry-After": str(busy.retry_after_s)})
    answer["clock_drift_s"] = drift
    fleet.note_report(engine(), who.name, body)  # outbox_size, version
    return jsonify(answer)
