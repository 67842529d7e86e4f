"""The served-vs-ordered report on its own (SQLite and PostgreSQL): each extra meal counted once,
reversals found whatever day they came, a refused reversal cancelling nothing, cloned terminals listed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, insert

from pos.ledger import Flag, join_flags
from server.importer import import_rows
from server.mismatches import report, to_csv
from server.models import Event
from tests.server.kit import enroll, school_today, seed_school
from tests.server.test_api import bearer
from tests.server.test_api import event as api_event

DAY = date(2026, 3, 10)


def store(engine: Engine, *events: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Event), list(events))


def event(seq: int, kind: str = "serve", *, day: date = DAY, student_id: str = "s1", **over: Any) -> dict[str, Any]:
    at = datetime(day.year, day.month, day.day, 1, 40) + timedelta(minutes=seq)  # 08:40+ in Krasnoyarsk
    base = {"id": uuid.uuid4().hex, "terminal_id": "sch1-T1", "school_id": "sch1", "seq": seq, "kind": kind,
            "at_utc": at, "local_date": day, "student_id": student_id, "card_uid": None, "meal": "breakfast",
            "outcome": "serve_free", "reason": "ok", "message": "", "paid_kopecks": 0, "free_kopecks": 4858,
            "budget_line": "01100L3040", "ref_event_id": None, "source": "card", "staff": "", "note": "",
            "flags": "", "server_flags": "", "received_at": datetime.now(UTC).replace(tzinfo=None), "rev": seq}
    return {**base, **over}


def found(engine: Engine, start: date = DAY, end: date = DAY) -> list[tuple[str, str, int, int]]:
    """The report's items of s1 and s5 (the seeded school's other ordered students never come)."""
    with engine.connect() as conn:
        data = report(conn, "sch1", start, end)
    return sorted((i["student_id"], i["kind"], i["count"], i["kopecks"]) for i in data["items"]
                  if i["student_id"] in ("s1", "s5"))


def test_an_override_of_already_served_is_counted_once_as_override(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    first = event(1)
    refusal = event(2, "refuse", outcome="refuse", reason="already_served", free_kopecks=0, budget_line=None)
    override = event(3, "override", reason="override", free_kopecks=0, budget_line=None, ref_event_id=refusal["id"],
                     source="override", staff="Повар", note="просыпал кашу")
    store(engine, first, refusal, override)
    assert found(engine) == [("s1", "override", 1, 4858)]


def test_a_duplicate_nobody_decided_on_is_still_served_twice(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    store(engine, event(1), event(2, terminal_id="sch1-T2"))  # two windows, one offline
    assert found(engine) == [("s1", "served_twice", 1, 4858)]


def test_a_reversal_made_on_a_later_day_cancels_the_serve(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    ordered = event(1)  # s1 ordered breakfast
    unordered = event(2, student_id="s5", outcome="serve_paid", paid_kopecks=7500, free_kopecks=0, budget_line=None)
    later = DAY + timedelta(days=1)
    store(engine, ordered, unordered,
          event(3, "reversal", day=later, outcome="refuse", reason="reversal", free_kopecks=-4858,
                ref_event_id=ordered["id"]),
          event(4, "reversal", day=later, student_id="s5", outcome="refuse", reason="reversal", paid_kopecks=-7500,
                free_kopecks=0, ref_event_id=unordered["id"]))
    assert found(engine) == [("s1", "ordered_not_served", 1, 4858)]
    # The orders of the next day are not served either; the reversals themselves count as nothing.
    assert found(engine, later, later) == [("s1", "ordered_not_served", 1, 4858)]


def test_a_forged_reversal_leaves_served_twice_in_the_report(client: FlaskClient, engine: Engine) -> None:
    day = school_today()
    seed_school(engine, day=day)
    a_id, a_token = enroll(engine)
    b_id, b_token = enroll(engine)
    first, second = api_event(a_id, 1), api_event(b_id, 1)  # two windows served s1 while offline
    for serve, token in ((first, a_token), (second, b_token)):
        client.post("/api/sync/push", json={"events": [serve]}, headers=bearer(token))
    forged = [api_event(b_id, 2, kind="reversal", outcome="refuse", reason="reversal", free_kopecks=0,
                        ref_event_id=second["id"]),  # cancels the meal but gives back nothing
              api_event(b_id, 3, kind="reversal", outcome="refuse", reason="reversal", free_kopecks=-4858,
                        ref_event_id="0" * 32)]  # a serve that never was
    answer = client.post("/api/sync/push", json={"events": forged}, headers=bearer(b_token)).json
    assert [r["reason"] for r in answer["rejected"]] == ["reversal", "reversal"]
    with engine.connect() as conn:
        data = report(conn, "sch1", day, day)
    assert [(i["student_id"], i["kind"], i["event_ids"]) for i in data["items"] if i["student_id"] == "s1"] == [
        ("s1", "served_twice", [second["id"]])]


def test_a_cloned_terminal_is_listed_with_its_events(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    mine = event(1, server_flags=Flag.CLONE.value)
    other = event(2, student_id="s2", server_flags=join_flags((Flag.STALE_DATA, Flag.CLONE)))  # the other device
    store(engine, mine, other, event(3, student_id="s3"))
    with engine.connect() as conn:
        data = report(conn, "sch1", DAY, DAY)
    clones = [i for i in data["items"] if i["kind"] == "clone"]
    assert [(i["count"], i["event_ids"]) for i in clones] == [(2, [mine["id"], other["id"]])]
    assert "sch1-T1" in clones[0]["student_name"] and data["totals"]["clone"]["count"] == 2
    assert "терминал-двойник" in to_csv(data)


def test_free_meals_are_judged_per_student_and_day_with_the_policy_answers_reused(engine: Engine) -> None:
    """The policy's answer is reused across students alike (grade, shift, benefits in force, age): a
    classmate without the benefit, or the day after a benefit ends, is still judged on its own."""
    seed_school(engine, day=DAY)
    later = DAY + timedelta(days=1)
    with engine.begin() as conn:
        import_rows(conn, "sch1", "benefits", [{"student_id": "s4", "category": "low_income", "order_no": "01-04-2",
                                                "order_date": "2020-09-01", "starts": "2020-09-02",
                                                "ends": DAY.isoformat()}])
    store(engine, *(event(n, day=d, student_id=s) for n, (s, d) in enumerate(
        ((s, d) for d in (DAY, later) for s in ("s3", "s4", "s5")), 1)))
    with engine.connect() as conn:
        data = report(conn, "sch1", DAY, later)
    assert sorted((i["student_id"], i["day"]) for i in data["items"] if i["kind"] == "without_entitlement") == [
        ("s4", later.isoformat()), ("s5", DAY.isoformat()), ("s5", later.isoformat())]
