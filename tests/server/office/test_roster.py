"""The office's roster rules: finding students, a student's card, cards, the diet note, the account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from pos.counter import Counter
from pos.decide import Reason
from pos.domain import Meal
from pos.ledger import EventKind
from pos.store import make_engine
from server.models import Card, School, Student
from server.office import roster
from server.office.audit import history
from server.office.changes import OfficeError
from sync.client import SyncClient
from tests.server.kit import enroll, school_today, seed_school


def found(engine: Engine, query: str = "", **filters: Any) -> list[str]:
    with engine.connect() as conn:
        return [s["id"] for s in roster.search_students(conn, "sch1", query, day=school_today(), **filters)]


def test_name_search_ignores_case_yo_and_word_order(engine: Engine) -> None:
    seed_school(engine)
    assert found(engine, "петр СИДОРОВ") == ["s3"]  # «Сидоров Пётр»
    assert found(engine, "анна") == ["s2"]
    assert found(engine, "иван") == ["s1"]  # «Иванов Иван», and no one else has a word starting so
    assert found(engine, "петров") == ["s2"]
    assert found(engine, "нет такого") == []


def test_card_search_takes_the_number_in_any_form(engine: Engine) -> None:
    seed_school(engine)  # s3 holds EM:0000000003
    assert found(engine, "em:0000000003") == ["s3"]
    assert found(engine, "0000000003") == ["s3"]  # ten digits: the decimal form of the same 32 bits
    assert found(engine, "0000000099") == []


def test_search_filters_by_class_and_by_category_in_force(engine: Engine) -> None:
    seed_school(engine)  # s3 has low_income from 02.09.2020, open-ended
    assert found(engine, class_name="5 А") == ["s5", "s4", "s3"]  # by name: Козлов, Орлова, Сидоров
    assert found(engine, category="low_income") == ["s3"]
    assert found(engine, "орлова", class_name="1а") == []


def test_blocking_a_card_takes_a_rev_and_records_who_and_what_it_was(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        rev_before = conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one()
        roster.block_card(conn, "коорд", "sch1", "EM:0000000001", "сломана")
    with engine.connect() as conn:
        card = conn.execute(select(Card).where(Card.uid == "EM:0000000001")).one()
        rev_after = conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one()
        log = history(conn, "sch1", "card", "EM:0000000001")
    assert card.blocked and card.blocked_reason == "сломана"
    assert card.rev == rev_after > rev_before
    assert [(e["actor"], e["action"], e["before"]["blocked"], e["after"]["blocked"]) for e in log] == [
        ("коорд", "block", False, True)]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_blocking_without_a_reason_is_refused_and_changes_nothing(engine: Engine, reason: str) -> None:
    seed_school(engine)
    with engine.begin() as conn, pytest.raises(OfficeError, match="причину"):
        roster.block_card(conn, "коорд", "sch1", "EM:0000000001", reason)
    with engine.connect() as conn:
        assert not conn.execute(select(Card.blocked).where(Card.uid == "EM:0000000001")).scalar_one()


def test_a_lost_card_is_blocked_as_lost_and_the_new_one_issued(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        new = roster.replace_lost_card(conn, "коорд", "sch1", "EM:0000000001", "00000000AB")
    with engine.connect() as conn:
        cards = {c.uid: (c.student_id, c.blocked, c.blocked_reason) for c in conn.execute(
            select(Card).where(Card.student_id == "s1"))}
    assert new == "EM:00000000AB"
    assert cards == {"EM:0000000001": ("s1", True, roster.LOST), "EM:00000000AB": ("s1", False, "")}


def test_a_replacement_by_another_students_card_changes_nothing(engine: Engine) -> None:
    seed_school(engine)
    with pytest.raises(OfficeError, match="другому ученику"), engine.begin() as conn:
        roster.replace_lost_card(conn, "коорд", "sch1", "EM:0000000001", "EM:0000000004")
    with engine.connect() as conn:
        assert not conn.execute(select(Card.blocked).where(Card.uid == "EM:0000000001")).scalar_one()
        assert history(conn, "sch1", "card", "EM:0000000001") == []


def test_an_unreadable_card_number_is_refused_in_russian(engine: Engine) -> None:
    seed_school(engine)
    with pytest.raises(OfficeError, match="не распознан"), engine.begin() as conn:
        roster.issue_card(conn, "коорд", "sch1", "s5", "карта")


def test_diet_note_edit_reaches_the_student_row_with_a_rev(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        roster.set_diet_note(conn, "коорд", "sch1", "s5", "  без глютена ")
    with engine.connect() as conn:
        note, rev = conn.execute(select(Student.diet_note, Student.rev).where(Student.id == "s5")).one()
        school_rev = conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one()
        log = history(conn, "sch1", "student", "s5")
    assert note == "без глютена" and rev == school_rev
    assert log[0]["before"] == {"diet_note": ""} and log[0]["after"] == {"diet_note": "без глютена"}


def _event(terminal_id: str, seq: int, **over: Any) -> dict[str, Any]:
    base = {"id": uuid.uuid4().hex, "terminal_id": terminal_id, "seq": seq, "kind": EventKind.SERVE.value,
            "at_utc": (datetime.now(UTC) - timedelta(minutes=10 - seq)).isoformat(),
            "local_date": school_today().isoformat(), "student_id": "s4", "card_uid": "EM:0000000004",
            "meal": Meal.BREAKFAST.value, "outcome": "serve_paid", "reason": "ok", "message": "",
            "paid_kopecks": 7500, "free_kopecks": 0, "budget_line": None, "ref_event_id": None, "source": "card",
            "staff": "", "note": "", "flags": ""}
    return {**base, **over}


def test_statement_and_meals_follow_the_ledger(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)  # s4: top-up 500,00 ₽
    terminal_id, token = enroll(engine)
    breakfast = _event(terminal_id, 1)
    lunch = _event(terminal_id, 2, meal=Meal.LUNCH.value, paid_kopecks=11000)
    undo = _event(terminal_id, 3, kind=EventKind.REVERSAL.value, ref_event_id=lunch["id"], paid_kopecks=-11000,
                  outcome="serve_paid")
    answer = client.post("/api/sync/push", json={"events": [breakfast, lunch, undo]},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and len(answer.json["stored"]) == 3, answer.json
    with engine.connect() as conn:
        card = roster.student_card(conn, "sch1", "s4", day=school_today())
    lines = [(e["kind"], e["amount_kopecks"], e["balance_kopecks"]) for e in card["account"]["statement"]]
    assert lines == [("topup", 50000, 50000), ("debit", -7500, 42500), ("debit", -11000, 31500),
                     ("refund", 11000, 42500)]
    assert card["account"]["balance_kopecks"] == 42500
    assert card["meals"] == [{"day": school_today(), "meals": ["breakfast"]}]  # the reversed lunch is not a meal


def test_a_blocked_card_is_refused_at_the_terminal_after_its_next_pull(app: Flask, engine: Engine,
                                                                       tmp_path: Path) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    store = make_engine(tmp_path / "t.db")
    client = SyncClient(store, "http://server", token, transport=httpx.WSGITransport(app=app))
    assert client.sync_once().ok
    with engine.begin() as conn:
        roster.block_card(conn, "коорд", "sch1", "EM:0000000002", "утеряна")
    assert client.sync_once().ok
    verdict = Counter(store).tap_text("EM:0000000002", meal=Meal.BREAKFAST)
    assert not verdict.served and verdict.reason is Reason.BLOCKED_CARD


def test_a_card_whose_number_matches_another_students_card_is_not_issued(engine: Engine) -> None:
    seed_school(engine)  # s2 holds EM:0000000002; its decimal form reads as the same card at the window
    with pytest.raises(OfficeError, match="другому ученику"), engine.begin() as conn:
        roster.issue_card(conn, "коорд", "sch1", "s5", "0000000002")
    with engine.connect() as conn:
        assert conn.execute(select(Card.uid).where(Card.student_id == "s5")).scalars().all() == ["EM:0000000005"]
