"""The sync client against the real Flask app in-process (httpx WSGI transport): queue, rejects, acks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from pos.counter import Counter
from pos.domain import Meal
from pos.models import Event, Meta, Outbox, Rejected, Student
from pos.store import make_engine
from sync import keys
from sync.client import SyncClient, SyncFailure, reset_store
from sync.schedule import SyncScheduler
from sync.status import read_status
from tests.server.kit import enroll, seed_school


def client_for(app: Flask, store: Engine, token: str,
               handler: Callable[[httpx.Request], httpx.Response | None] | None = None) -> SyncClient:
    """A SyncClient whose requests reach `app`; `handler` may answer a request instead (faults)."""
    wsgi = httpx.WSGITransport(app=app)

    class Faulty(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if handler is not None:
                answer = handler(request)
                if answer is not None:
                    return answer
            return wsgi.handle_request(request)

    return SyncClient(store, "http://server", token, transport=Faulty(), batch_size=4)


def outbox(store: Engine) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Outbox)).scalar_one())


@pytest.fixture
def terminal(app: Flask, engine: Engine, tmp_path: Path) -> tuple[Engine, str]:
    seed_school(engine)
    _, token = enroll(engine)
    return make_engine(tmp_path / "t.db"), token


def test_fresh_terminal_gets_a_snapshot_and_can_serve(app: Flask, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    result = client_for(app, store, token).sync_once()
    assert result.ok and result.snapshot and result.applied
    verdict = Counter(store).tap_text("EM:0000000001", meal=Meal.BREAKFAST)
    assert verdict.served and verdict.student and verdict.student.full_name == "Иванов Иван"


def test_server_down_is_recorded_not_raised_and_nothing_is_lost(app: Flask, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    assert client_for(app, store, token).sync_once().ok
    Counter(store).tap_text("EM:0000000001", meal=Meal.BREAKFAST)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result = client_for(app, store, token, down).sync_once()
    assert not result.ok and "нет связи" in result.error and result.waiting == 1
    assert "Error" not in result.error  # staff read it on the status line: no English exception names
    with store.connect() as conn:
        status = read_status(conn)
    assert not status.online and status.offline_since is not None and "нет связи" in status.last_error
    assert client_for(app, store, token).sync_once().ok and outbox(store) == 0


def test_refused_event_moves_to_rejected_and_the_queue_drains(app: Flask, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    counter = Counter(store)
    for n in range(1, 7):
        counter.tap_text(f"EM:00000000{n:02d}", meal=Meal.BREAKFAST)
    with store.begin() as conn:  # a journal row the server cannot accept (a meal it does not know)
        conn.execute(Event.__table__.update().where(Event.seq == 3).values(meal="supper"))
    result = client_for(app, store, token).sync_once()
    assert result.ok and result.pushed == 5 and result.rejected == 1 and outbox(store) == 0
    with store.connect() as conn:
        rejected = conn.execute(select(Rejected)).all()
        assert [r.seq for r in rejected] == [3] and "meal" in rejected[0].message
        assert read_status(conn).rejected == 1


def test_batch_refused_as_a_whole_is_split_until_the_culprit_is_found(app: Flask,
                                                                      terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    counter = Counter(store)
    for n in range(1, 7):
        counter.tap_text(f"EM:00000000{n:02d}", meal=Meal.BREAKFAST)
    with store.connect() as conn:
        culprit = conn.execute(select(Event.id).where(Event.seq == 2)).scalar_one()

    def proxy_refuses_culprit(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/api/sync/push" and culprit.encode() in request.content:
            return httpx.Response(413, json={"error": "too_large", "message": "слишком большой запрос"})
        return None

    result = client_for(app, store, token, proxy_refuses_culprit).sync_once()
    assert result.ok and result.rejected == 1 and result.pushed == 5 and outbox(store) == 0
    with store.connect() as conn:
        assert conn.execute(select(Rejected.event_id)).scalars().all() == [culprit]


def test_lost_acknowledgement_is_recovered_by_the_same_syncs_pull_without_double_debit(
        app: Flask, engine: Engine, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    verdict = Counter(store).tap_text("EM:0000000004", meal=Meal.BREAKFAST)
    assert verdict.paid_kopecks == 7500
    wsgi = httpx.WSGITransport(app=app)

    def drop_push_answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/api/sync/push":
            wsgi.handle_request(request)  # the server commits ...
            raise httpx.ReadError("connection reset", request=request)  # ... and the answer is lost
        return None

    # The push fails, but the pull of the same sync learns the event was stored and settles it once.
    result = client_for(app, store, token, drop_push_answer).sync_once()
    assert not result.ok and result.push_error and not result.pull_error
    assert outbox(store) == 0
    with store.connect() as conn:
        assert conn.execute(select(Student.balance_kopecks).where(Student.id == "s4")).scalar() == 50000 - 7500


def test_pull_keeps_local_debits_still_waiting_in_the_outbox(app: Flask, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    Counter(store).tap_text("EM:0000000004", meal=Meal.BREAKFAST)

    def push_fails(request: httpx.Request) -> httpx.Response | None:
        return httpx.Response(503, json={}) if request.url.path == "/api/sync/push" else None

    client = client_for(app, store, token, push_fails)
    from sync.client import SyncResult

    client._pull(SyncResult(ok=False), lambda _t: None, True)  # a full snapshot while the debit waits
    with store.connect() as conn:
        assert conn.execute(select(Student.balance_kopecks).where(Student.id == "s4")).scalar() == 50000 - 7500
    assert outbox(store) == 1


def test_new_token_is_refused_while_events_wait_and_reset_too(app: Flask, engine: Engine,
                                                              terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    Counter(store).tap_text("EM:0000000001", meal=Meal.BREAKFAST)
    _, other_token = enroll(engine)
    result = client_for(app, store, other_token).sync_once()
    assert not result.ok and "перерегистрирован" in result.error and outbox(store) == 1
    with pytest.raises(SyncFailure):
        reset_store(store)
    assert client_for(app, store, token).sync_once().ok and outbox(store) == 0
    assert client_for(app, store, other_token).sync_once().ok  # now it may change hands
    with store.connect() as conn:
        terminal_id = conn.execute(select(Meta.value).where(Meta.key == "terminal_id")).scalar()
    assert terminal_id == other_token.rpartition(".")[0]


def test_clock_drift_is_measured_and_recorded(app: Flask, terminal: tuple[Engine, str]) -> None:
    from datetime import UTC, datetime, timedelta

    store, token = terminal
    client = client_for(app, store, token)
    client.clock = lambda: datetime.now(UTC) + timedelta(hours=3)
    result = client.sync_once()
    assert result.drift_s is not None and abs(result.drift_s - 3 * 3600) < 60
    with store.connect() as conn:
        status = read_status(conn)
        assert status.clock_trouble and float(conn.execute(select(Meta.value).where(
            Meta.key == keys.CLOCK_DRIFT_S)).scalar_one()) > 10000


def test_scheduler_backs_off_and_calls_on_applied(app: Flask, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    up = {"value": False}

    def maybe_down(request: httpx.Request) -> httpx.Response | None:
        if not up["value"]:
            raise httpx.ConnectError("down", request=request)
        return None

    applied: list[bool] = []
    scheduler = SyncScheduler(client_for(app, store, token, maybe_down), interval_s=180, min_backoff_s=30,
                              max_backoff_s=900, on_applied=lambda r: applied.append(r.applied))
    delays = []
    for _ in range(7):
        scheduler.run_once()
        delays.append(scheduler.delay_s())
    assert delays == [30, 60, 120, 240, 480, 900, 900] and applied == []
    up["value"] = True
    assert scheduler.run_once().ok and scheduler.delay_s() == 180 and applied == [True]
    scheduler.start()
    scheduler.run_now()
    scheduler.stop(timeout=5)
    assert scheduler._thread is not None and not scheduler._thread.is_alive()


@pytest.mark.parametrize("answer", [
    httpx.Response(404, text="<html>Not Found</html>"),
    httpx.Response(405, json={"error": "method_not_allowed", "message": "нельзя"}),
    httpx.Response(400, text="<html>Bad Request (proxy)</html>"),
], ids=["404-html", "405-json", "400-html"])
def test_a_wrong_address_or_proxy_page_keeps_the_whole_queue(app: Flask, terminal: tuple[Engine, str],
                                                             answer: httpx.Response) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    counter = Counter(store)
    for n in range(1, 7):
        counter.tap_text(f"EM:00000000{n:02d}", meal=Meal.BREAKFAST)

    def misconfigured(request: httpx.Request) -> httpx.Response | None:
        return answer if request.url.path == "/api/sync/push" else None

    result = client_for(app, store, token, misconfigured).sync_once()
    assert not result.ok and "проверьте адрес сервера" in result.error
    assert outbox(store) == 6
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Rejected)).scalar_one() == 0


def test_debits_of_rejected_events_stay_off_the_balance_after_a_pull(app: Flask, terminal: tuple[Engine, str]) -> None:
    store, token = terminal
    client_for(app, store, token).sync_once()
    with store.connect() as conn:
        payer = conn.execute(select(Student.id, Student.balance_kopecks).where(Student.balance_kopecks > 0)
                             .order_by(Student.id)).first()
    assert payer is not None
    verdict = Counter(store).serve_by_hand(payer.id, reason="забыл карту", meal=Meal.BREAKFAST)
    paid = verdict.paid_kopecks
    assert verdict.served and paid > 0
    with store.begin() as conn:  # make the server refuse it (a meal it does not know)
        conn.execute(Event.__table__.update().where(Event.id == verdict.event_id).values(meal="supper"))
    result = client_for(app, store, token).sync_once(full=True)
    assert result.rejected == 1
    with store.connect() as conn:
        balance = conn.execute(select(Student.balance_kopecks).where(Student.id == payer.id)).scalar_one()
    assert balance == payer.balance_kopecks - paid


def test_reset_is_refused_while_rejected_events_wait_and_requeue_puts_them_back(
        app: Flask, terminal: tuple[Engine, str]) -> None:
    from sync.client import requeue_rejected

    store, token = terminal
    client_for(app, store, token).sync_once()
    Counter(store).tap_text("EM:0000000001", meal=Meal.BREAKFAST)
    with store.begin() as conn:
        conn.execute(Event.__table__.update().values(meal="supper"))
    assert client_for(app, store, token).sync_once().rejected == 1
    with pytest.raises(SyncFailure, match="отклонены сервером"):
        reset_store(store)
    assert requeue_rejected(store) == 1
    assert outbox(store) == 1
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Rejected)).scalar_one() == 0


def test_a_pull_does_not_bring_back_a_meal_undone_since_the_push(app: Flask, terminal: tuple[Engine, str]) -> None:
    from pos.models import Served

    store, token = terminal
    client_for(app, store, token).sync_once()
    counter = Counter(store)
    served = counter.tap_text("EM:0000000001", meal=Meal.BREAKFAST)
    pushed_only = client_for(app, store, token)
    pushed_only._pull = lambda *args, **kwargs: None  # type: ignore[method-assign]
    pushed_only.sync_once()  # the serve is at the server now
    assert counter.undo_last().event_id
    with store.begin() as conn:  # the reversal has not gone up yet when the full pull arrives
        conn.execute(Outbox.__table__.delete())
    client_for(app, store, token).sync_once(full=True)
    with store.connect() as conn:
        assert conn.execute(select(Served.event_id).where(Served.event_id == served.event_id)).first() is None


def test_new_token_is_refused_while_rejected_events_wait_and_nothing_is_stuck(app: Flask, engine: Engine,
                                                                             terminal: tuple[Engine, str]) -> None:
    from sync.client import requeue_rejected

    store, token = terminal
    client_for(app, store, token).sync_once()
    Counter(store).tap_text("EM:0000000001", meal=Meal.BREAKFAST)

    def refuses(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/api/sync/push":
            return httpx.Response(422, json={"error": "invalid", "message": "событие не принято"})
        return None

    assert client_for(app, store, token, refuses).sync_once().rejected == 1 and outbox(store) == 0
    _, other_token = enroll(engine)
    refused = client_for(app, store, other_token).sync_once()
    assert not refused.ok and "перерегистрирован" in refused.error and "отклонено сервером 1" in refused.error
    assert "прежний токен" in refused.error and "canteen sync requeue" in refused.error
    # What the message says to do: requeue, sync with the old token, then the new one is taken.
    assert requeue_rejected(store) == 1
    assert client_for(app, store, token).sync_once().ok and outbox(store) == 0
    assert client_for(app, store, other_token).sync_once().ok
