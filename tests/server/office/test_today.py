"""Today's counts per meal, break and class: ordered, served (a reversal undoes a serve), to come, unordered."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from server.models import Event
from server.office.today import today
from tests.server.kit import school_today
from tests.server.office.conftest import Office


def event(seq: int, day: date, student_id: str, kind: str = "serve", **over: Any) -> dict[str, Any]:
    at = datetime(day.year, day.month, day.day, 1, 40) + timedelta(minutes=seq)
    base = {"id": uuid.uuid4().hex, "terminal_id": "sch1-T1", "school_id": "sch1", "seq": seq, "kind": kind,
            "at_utc": at, "local_date": day, "student_id": student_id, "card_uid": None, "meal": "breakfast",
            "outcome": "serve_free", "reason": "ok", "message": "", "paid_kopecks": 0, "free_kopecks": 4858,
            "budget_line": "01100L3040", "ref_event_id": None, "source": "card", "staff": "", "note": "",
            "flags": "", "server_flags": "", "received_at": datetime.now(UTC).replace(tzinfo=None), "rev": seq}
    return {**base, **over}


def _store(engine: Engine, *events: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Event), list(events))


def test_counts_take_reversals_repeats_and_unordered_meals_into_account(office: Office) -> None:
    day = school_today()
    s2 = event(2, day, "s2")
    _store(office.engine, event(1, day, "s1"), event(3, day, "s1"), s2,
           event(4, day, "s2", "reversal", ref_event_id=s2["id"], outcome="reversal", free_kopecks=-4858),
           event(5, day, "s5"), event(6, day - timedelta(days=1), "s6"))
    with office.engine.connect() as conn:
        [brk] = today(conn, "sch1", day)
    assert (brk.meal.value, brk.starts, brk.ends) == ("breakfast", "08:40", "09:00")
    got = [(c.name, c.ordered, c.served, c.to_come, c.extra) for c in brk.classes]
    # 1а: s1, s2, s6 ordered; s1 served (twice: one student), s2's serve reversed, s6 served yesterday.
    # 5а: s3, s4 ordered, none served; s5 served without an order.
    assert got == [("1А", 3, 1, 2, 0), ("5А", 2, 0, 2, 1)]
    assert (brk.ordered, brk.served, brk.to_come, brk.extra) == (5, 1, 4, 1)


def test_a_reversal_made_the_next_day_still_cancels_the_serve(office: Office) -> None:
    day = school_today()
    serve = event(1, day, "s1")
    _store(office.engine, serve, event(2, day + timedelta(days=1), "s1", "reversal", ref_event_id=serve["id"],
                                       outcome="reversal", free_kopecks=-4858))
    with office.engine.connect() as conn:
        [brk] = today(conn, "sch1", day)
    assert brk.served == 0


def test_a_teacher_page_counts_only_the_classes_asked_for(office: Office) -> None:
    with office.engine.connect() as conn:
        [brk] = today(conn, "sch1", school_today(), class_ids=["1а"])
    assert [c.name for c in brk.classes] == ["1А"]
