"""The ledger at the server's boundary (SQLite and PostgreSQL): forged money, reversals of what does not
exist or was already reversed, ids reused with other content or by another school, cloned terminals —
and everything refused kept in `rejected_events`, readable by the office."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, MetaData, insert, select
from sqlalchemy.exc import IntegrityError

from pos.cli import main
from pos.counter import Counter
from pos.decide import Reason
from pos.domain import Meal
from pos.ledger import MAX_MEAL_KOPECKS, EventKind, Flag, split_flags
from pos.store import make_engine
from server.accounts import Principal
from server.db import make_server_engine
from server.ingest import ingest_rows
from server.migrate import upgrade
from server.mismatches import report
from server.models import Base, Event, RejectedEvent, Student, Terminal
from sync.wire import EVENT_FIELDS, check_event
from tests.server.kit import enroll, make_admin, school_today, seed_school
from tests.server.test_api import bearer, event, login
from tests.sync.test_client import client_for

PAID = {"student_id": "s4", "card_uid": "EM:0000000004", "outcome": "serve_paid", "paid_kopecks": 7500,
        "free_kopecks": 0, "budget_line": None}


def parse_event_dict(data: dict[str, Any]) -> dict[str, Any]:
    """An event's columns with Python values, as the validator hands them to ingest."""
    return dict(zip(EVENT_FIELDS, check_event(data), strict=True))


def push(client: FlaskClient, token: str, *events: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/sync/push", json={"events": list(events)}, headers=bearer(token))
    assert response.status_code == 200, response.json
    answer: dict[str, Any] = response.json  # type: ignore[assignment]
    return answer


def balance(engine: Engine, student: str = "s4", school: str = "sch1") -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(Student.balance_kopecks).where(
            Student.school_id == school, Student.id == student)).scalar_one())


def kept(engine: Engine) -> list[tuple[str | None, str]]:
    with engine.connect() as conn:
        return [(r.event_id, r.reason) for r in conn.execute(
            select(RejectedEvent.event_id, RejectedEvent.reason).order_by(RejectedEvent.id))]


def reversal_of(serve: dict[str, Any], seq: int, **over: Any) -> dict[str, Any]:
    return event(over.pop("terminal_id", serve["terminal_id"]), seq, **{
        "kind": "reversal", "student_id": serve["student_id"], "card_uid": serve["card_uid"], "outcome": "refuse",
        "reason": "reversal", "paid_kopecks": -serve["paid_kopecks"], "free_kopecks": -serve["free_kopecks"],
        "budget_line": serve["budget_line"], "ref_event_id": serve["id"], **over})


@pytest.mark.parametrize("over", [
    {"paid_kopecks": -100_000_000},  # a million roubles credited by a "serve"
    {"paid_kopecks": MAX_MEAL_KOPECKS + 1},
    {"kind": "refuse", "outcome": "refuse", "reason": "no_order"},  # a refusal carrying money
    {"kind": "override", "reason": "override", "source": "override", "staff": "Повар"},
], ids=["negative", "too_much", "refusal_with_money", "override_with_money"])
def test_forged_money_is_rejected_and_kept(client: FlaskClient, engine: Engine, over: dict[str, Any]) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    forged = event(terminal_id, 1, **{**PAID, **over})
    answer = push(client, token, forged)
    assert answer["stored"] == [] and [r["reason"] for r in answer["rejected"]] == ["amount"]
    assert answer["rejected"][0]["message"]  # the ledger's Russian reason
    assert balance(engine) == 50_000
    assert kept(engine) == [(forged["id"], "amount")]


def test_reversal_of_nothing_is_rejected_and_credits_nothing(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    ghost = reversal_of(event(terminal_id, 1, **PAID), 1)
    answer = push(client, token, ghost)
    assert [r["reason"] for r in answer["rejected"]] == ["reversal"] and balance(engine) == 50_000
    assert kept(engine) == [(ghost["id"], "reversal")]


def test_a_serve_is_reversed_once_across_pushes_and_within_one(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    serve = event(terminal_id, 1, **PAID)
    first, second, third = (reversal_of(serve, n) for n in (2, 3, 4))
    answer = push(client, token, serve, first)  # the target earlier in the same batch
    assert answer["stored"] == [serve["id"], first["id"]] and balance(engine) == 50_000
    answer = push(client, token, second, third)
    assert answer["stored"] == [] and [r["reason"] for r in answer["rejected"]] == ["reversal", "reversal"]
    assert push(client, token, first)["duplicate"] == [first["id"]]  # its own resend is no second reversal
    assert balance(engine) == 50_000


@pytest.mark.parametrize("over", [{"student_id": "s5"}, {"paid_kopecks": -100_000}, {"paid_kopecks": -1}],
                         ids=["other_student", "more_than_paid", "less_than_paid"])
def test_reversal_must_match_its_serve(client: FlaskClient, engine: Engine, over: dict[str, Any]) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    serve = event(terminal_id, 1, **PAID)
    answer = push(client, token, serve, reversal_of(serve, 2, **over))
    assert answer["stored"] == [serve["id"]] and [r["reason"] for r in answer["rejected"]] == ["reversal"]
    assert balance(engine) == 50_000 - 7500


def test_reversal_of_a_later_event_in_the_batch_is_rejected(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    serve = event(terminal_id, 2, **PAID)
    answer = push(client, token, reversal_of(serve, 1), serve)  # journal order: a reversal follows its serve
    assert answer["stored"] == [serve["id"]] and balance(engine) == 50_000 - 7500


def test_reversal_of_another_schools_serve_is_rejected(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine, "sch1")
    seed_school(engine, "sch2")
    a_id, a_token = enroll(engine, "sch1")
    b_id, b_token = enroll(engine, "sch2")
    serve = event(a_id, 1, **PAID)
    push(client, a_token, serve)
    answer = push(client, b_token, reversal_of(serve, 1, terminal_id=b_id))
    assert [r["reason"] for r in answer["rejected"]] == ["reversal"]
    assert balance(engine, school="sch2") == 50_000


def test_reversal_from_another_window_is_stored_and_flagged(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    a_id, a_token = enroll(engine)
    b_id, b_token = enroll(engine)
    serve = event(a_id, 1, **PAID)
    mine = reversal_of(serve, 2)
    push(client, a_token, serve)
    foreign = reversal_of(serve, 1, terminal_id=b_id)
    assert push(client, b_token, foreign)["stored"] == [foreign["id"]]
    assert push(client, a_token, mine)["rejected"][0]["reason"] == "reversal"  # already reversed at window B
    with engine.connect() as conn:
        flags = conn.execute(select(Event.server_flags).where(Event.id == foreign["id"])).scalar_one()
    assert Flag.FOREIGN_REVERSAL in split_flags(flags) and balance(engine) == 50_000


def test_the_database_itself_refuses_a_second_reversal(engine: Engine) -> None:
    seed_school(engine)
    row = {**{name: None for name in EVENT_FIELDS}, **parse_event_dict(reversal_of(event("sch1-T1", 1, **PAID), 2))}
    row.update(school_id="sch1", server_flags="", received_at=row["at_utc"], rev=1)
    with engine.begin() as conn:
        conn.execute(insert(Event), row)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Event), {**row, "id": "f" * 32, "seq": 3})


@pytest.mark.postgres
def test_two_pushes_reversing_one_serve_at_once_store_one(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    seed_school(engine)
    a_id, _ = enroll(engine)
    b_id, _ = enroll(engine)
    serve = event(a_id, 1, **PAID)
    with engine.begin() as conn:
        ingest_rows(conn, Principal("terminal", a_id, "sch1"), [_row(serve)])
    results: list[Any] = []
    start = threading.Barrier(2)

    def reverse(terminal_id: str) -> None:
        rev = reversal_of(serve, 2, terminal_id=terminal_id)
        with engine.begin() as conn:
            start.wait()
            results.append(ingest_rows(conn, Principal("terminal", terminal_id, "sch1"), [_row(rev)]))

    threads = [threading.Thread(target=reverse, args=(t,)) for t in (a_id, b_id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r.stored) for r in results) == [0, 1]
    assert sorted(len(r.rejected) for r in results) == [0, 1] and balance(engine) == 50_000
    with engine.connect() as conn:
        reversals = conn.execute(select(Event.id).where(Event.kind == EventKind.REVERSAL)).all()
    assert len(reversals) == 1


def _row(data: dict[str, Any]) -> tuple[Any, ...]:
    parsed = parse_event_dict(data)
    return tuple(parsed[name] for name in EVENT_FIELDS)


def test_same_id_same_content_is_duplicate_other_content_is_conflict(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    serve = event(terminal_id, 1, **PAID)
    push(client, token, serve)
    changed = {**serve, "student_id": "s5"}
    answer = push(client, token, serve, changed)
    assert answer["duplicate"] == [serve["id"]] and [r["reason"] for r in answer["rejected"]] == ["conflict"]
    answer = push(client, token, changed)
    assert answer["duplicate"] == [] and [r["reason"] for r in answer["rejected"]] == ["conflict"]
    assert kept(engine) == [(serve["id"], "conflict")] * 2
    with engine.connect() as conn:
        assert conn.execute(select(Event.student_id)).scalars().all() == ["s4"]


def test_same_id_in_two_schools_is_stored_twice(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine, "sch1")
    seed_school(engine, "sch2")
    a_id, a_token = enroll(engine, "sch1")
    b_id, b_token = enroll(engine, "sch2")
    serve = event(a_id, 1, **PAID)
    assert push(client, a_token, serve)["stored"] == [serve["id"]]
    assert push(client, b_token, {**serve, "terminal_id": b_id})["stored"] == [serve["id"]]
    with engine.connect() as conn:
        owners = sorted(conn.execute(select(Event.school_id).where(Event.id == serve["id"])).scalars())
    assert owners == ["sch1", "sch2"] and balance(engine, school="sch2") == 50_000 - 7500


def test_invalid_events_are_kept_raw_nuls_and_all(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    bad = event(terminal_id, 1, kind="teleport", note="a\u0000b", staff="\ud800")
    no_id = {"kind": "serve", "note": "x" * 20_000}
    body = json.dumps({"events": [bad, no_id]})  # ASCII JSON: "\ud800" travels escaped, as a client may send it
    answer = client.post("/api/sync/push", data=body, content_type="application/json", headers=bearer(token)).json
    assert [r["reason"] for r in answer["rejected"]] == ["invalid", "invalid"]
    with engine.connect() as conn:
        rows = conn.execute(select(RejectedEvent).order_by(RejectedEvent.id)).all()
    assert [(r.event_id, r.terminal_id, r.reason) for r in rows] == [(bad["id"], terminal_id, "invalid"),
                                                                     (None, terminal_id, "invalid")]
    assert "teleport" in rows[0].raw and "\\u0000" in rows[0].raw and "\x00" not in rows[0].raw
    assert len(rows[1].raw) <= 4000


def test_office_reads_its_own_schools_rejected_events_page_by_page(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine, "sch1")
    seed_school(engine, "sch2")
    terminal_id, token = enroll(engine)
    forged = [event(terminal_id, n, **{**PAID, "paid_kopecks": -n}) for n in (1, 2, 3)]
    push(client, token, *forged)
    make_admin(engine, "office", school_id="sch1")
    headers = bearer(login(client, "office"))
    page = client.get("/api/schools/sch1/rejected?limit=2", headers=headers).json
    assert [r["event_id"] for r in page["rejected"]] == [forged[2]["id"], forged[1]["id"]]
    assert page["rejected"][0]["reason"] == "amount" and page["rejected"][0]["terminal_id"] == terminal_id
    rest = client.get(f"/api/schools/sch1/rejected?limit=2&before={page['next_before']}", headers=headers).json
    assert [r["event_id"] for r in rest["rejected"]] == [forged[0]["id"]] and rest["next_before"] is None
    assert client.get("/api/schools/sch2/rejected", headers=headers).status_code == 403
    assert client.get("/api/schools/sch1/rejected?limit=x", headers=headers).status_code == 400
    assert client.get("/api/schools/sch1/rejected", headers=bearer(token)).status_code == 403


def test_one_token_on_two_devices_is_flagged_and_each_learns_the_others_serves(
        app: Flask, client: FlaskClient, engine: Engine, tmp_path: Path) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    first, second = make_engine(tmp_path / "a.db"), make_engine(tmp_path / "b.db")  # a copied config
    for store in (first, second):
        assert client_for(app, store, token).sync_once().ok
    assert Counter(first).tap_text("EM:0000000001", meal=Meal.BREAKFAST).served  # seq 1 on both devices
    assert Counter(second).tap_text("EM:0000000002", meal=Meal.BREAKFAST).served
    for store in (first, second, first):
        assert client_for(app, store, token).sync_once().ok
    assert Counter(first).tap_text("EM:0000000002", meal=Meal.BREAKFAST).reason == Reason.ALREADY_SERVED
    assert Counter(second).tap_text("EM:0000000001", meal=Meal.BREAKFAST).reason == Reason.ALREADY_SERVED
    with engine.connect() as conn:
        flags = [split_flags(f) for f in conn.execute(select(Event.server_flags).where(Event.seq == 1)).scalars()]
        terminal_flags = conn.execute(select(Terminal.flags).where(Terminal.id == terminal_id)).scalar_one()
    assert len(flags) == 2 and all(Flag.CLONE in f for f in flags) and terminal_flags == Flag.CLONE
    assert push(client, token)["terminal_flags"] == [Flag.CLONE]
    assert client.post("/api/sync/pull", json={}, headers=bearer(token)).json["terminal_flags"] == [Flag.CLONE]
    with engine.connect() as conn:
        items = [i for i in report(conn, "sch1", school_today(), school_today())["items"] if i["kind"] == "clone"]
    assert len(items) == 1 and items[0]["count"] == 2 and terminal_id in items[0]["student_name"]


def test_a_terminal_on_one_device_carries_no_flags(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    assert push(client, token, event(terminal_id, 1), event(terminal_id, 2))["terminal_flags"] == []
    with engine.connect() as conn:
        assert not any(Flag.CLONE in split_flags(f) for f in conn.execute(select(Event.server_flags)).scalars())


def test_cli_lists_the_schools_rejected_events(client: FlaskClient, engine: Engine, db_url: str) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    forged = event(terminal_id, 1, **{**PAID, "paid_kopecks": -100_000_000})
    push(client, token, forged)
    done = CliRunner().invoke(main, ["server", "rejected", "sch1"], env={"CANTEEN_DATABASE_URL": db_url},
                              catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert forged["id"] in done.output and "amount" in done.output and "отрицательной" in done.output
    empty = CliRunner().invoke(main, ["server", "rejected", "sch2"], env={"CANTEEN_DATABASE_URL": db_url})
    assert "нет" in empty.output


def test_a_clone_learns_the_serves_its_twin_pushed_before_the_clone_showed(client: FlaskClient,
                                                                            engine: Engine) -> None:
    seed_school(engine)
    terminal_id, token = enroll(engine)
    cursor = client.post("/api/sync/pull", json={}, headers=bearer(token)).json["cursor"]
    twin = event(terminal_id, 1)  # device B pushes first; device A is offline with its own seq 1
    push(client, token, twin)
    answer = client.post("/api/sync/pull", json={"cursor": cursor}, headers=bearer(token)).json
    assert answer["served"] == [] and answer["terminal_flags"] == []  # A's pull: nothing looks wrong yet
    mine = event(terminal_id, 1, student_id="s2", card_uid="EM:0000000002")
    assert push(client, token, mine)["terminal_flags"] == [Flag.CLONE]
    answer = client.post("/api/sync/pull", json={"cursor": answer["cursor"]}, headers=bearer(token)).json
    assert {s["id"] for s in answer["served"]} == {twin["id"], mine["id"]}


def seed_in_old_schema(tmp_path: Path, old: Engine, extra: dict[str, list[dict[str, Any]]]) -> None:
    """`seed_school` (s4 has 500 ₽) and `extra` rows, written into `old`'s tables with only their columns."""
    head_url = f"sqlite:///{tmp_path / 'head.db'}"
    upgrade(head_url)
    head = make_server_engine(head_url)
    seed_school(head)
    old_tables = MetaData()
    old_tables.reflect(old)
    with head.connect() as source, old.begin() as target:
        for table in old_tables.sorted_tables:
            if table.name in Base.metadata.tables and table.name != "alembic_version":
                rows = [dict(r._mapping) for r in source.execute(select(Base.metadata.tables[table.name]))]
                rows += extra.get(table.name, [])
                if rows:
                    target.execute(insert(table), [{c.name: row.get(c.name) for c in table.c} for row in rows])
    head.dispose()


def test_upgrade_keeps_the_first_reversal_of_a_serve_and_takes_back_the_second_refund(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    old = make_server_engine(url)
    serve = event("sch1-T1", 1, **PAID)
    twice = [reversal_of(serve, 2), reversal_of(serve, 3)]  # what the server used to accept
    events = [{**parse_event_dict(data), "school_id": "sch1", "server_flags": "", "rev": 1000 + n}
              for n, data in enumerate([serve, *twice], 1)]
    # The school is seeded by today's code on a database at head, then copied into the 0002 schema with
    # the columns that schema has (later releases add columns).
    seed_in_old_schema(tmp_path, old, extra={"events": [{**row, "received_at": row["at_utc"]} for row in events]})
    with old.begin() as conn:
        conn.exec_driver_sql("UPDATE students SET balance_kopecks = 50000 - 7500 + 7500 + 7500 WHERE id = 's4'")
    old.dispose()
    upgrade(url)
    new = make_server_engine(url)
    try:
        with new.connect() as conn:
            left = conn.execute(select(Event.id).where(Event.kind == EventKind.REVERSAL)).scalars().all()
            moved = conn.execute(select(RejectedEvent.event_id, RejectedEvent.reason)).all()
        assert left == [twice[0]["id"]] and [tuple(m) for m in moved] == [(twice[1]["id"], "reversal")]
        assert balance(new) == 50_000
    finally:
        new.dispose()


def test_the_history_upgrade_holds_each_student_s_class_since_the_beginning_and_the_policy_s_year(
        tmp_path: Path) -> None:
    from server.history import school_year_of
    from server.models import HISTORY_START, SchoolPolicy, StudentClassSpan
    from tests.server.kit import school_today

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0010_event_basis")
    old = make_server_engine(url)
    seed_in_old_schema(tmp_path, old, extra={})
    old.dispose()
    upgrade(url)
    new = make_server_engine(url)
    try:
        with new.connect() as conn:
            spans = set(conn.execute(select(StudentClassSpan.student_id, StudentClassSpan.starts,
                                            StudentClassSpan.class_id)).tuples())
            years = conn.execute(select(SchoolPolicy.school_id, SchoolPolicy.school_year)).tuples().all()
        assert ("s1", HISTORY_START, "1а") in spans and ("s4", HISTORY_START, "5а") in spans and len(spans) == 6
        # the seeded Nazarovo file states today's school year (tests.server.kit.policy_of_year)
        assert years == [("sch1", school_year_of(school_today()))]
    finally:
        new.dispose()
