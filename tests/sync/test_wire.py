"""The push fast path is the slow path made fast: it accepts only what `parse_event` accepts, with the
same values, and the terminal's store writes the same JSON as `event_to_wire`."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from pos.models import Event, Outbox
from pos.store import make_engine
from sync.client import _BATCH_SQL, FIRST_SEQ
from sync.wire import EVENT_FIELDS, WireError, decode_push, encode_push, event_to_wire, parse_event

BASE: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdef", "terminal_id": "sch1-T1", "seq": 7, "kind": "serve",
    "at_utc": "2026-03-02T01:40:05.123456+00:00", "local_date": "2026-03-02", "student_id": "s1",
    "card_uid": "EM:0000000001", "meal": "breakfast", "outcome": "serve_free", "reason": "ok",
    "message": "Бесплатно: завтрак", "paid_kopecks": 0, "free_kopecks": 4858, "budget_line": "01100L3040",
    "ref_event_id": None, "source": "card", "staff": "", "note": "", "flags": "",
}
HEX = "fedcba9876543210fedcba9876543210"
TEXT = ["", "x", "Ж" * 16, "Ж" * 17, "a" * 32, "a" * 33, "a" * 64, "a" * 65, "a" * 200, "a" * 201, None, 5, True]
# For each field: values that are right, wrong, or right for another field only.
CANDIDATES: dict[str, list[Any]] = {
    "id": [HEX, HEX.upper(), HEX + "\n", HEX[:-1], "g" * 32, 5, None],
    "terminal_id": ["sch1-T1", "", "a" * 64, "a" * 65, None, 1],
    "seq": [1, 0, -1, 2**62, 2**62 + 1, 2**70, 1.0, True, "1", None],
    "kind": ["serve", "refuse", "override", "reversal", "supper", "", None, 1],
    "at_utc": ["2026-03-02T01:40:05+00:00", "2026-03-02T08:40:05+07:00", "2026-03-02T01:40:05Z",
               "2026-03-02T01:40:05", "2026-03-02 01:40:05.5", "2026-03-02", "2026-03-02T01", "20260302T014005",
               "2026-03-02T01:40:05+00:00+00:00", "2026-02-30T01:40:05+00:00", "вчера", "", "9" * 41, None, 5],
    "local_date": ["2026-03-02", "2026-02-30", "20260302", "2026-W10-1", "02.03.2026", "", None, 20260302],
    "student_id": TEXT, "card_uid": TEXT, "budget_line": TEXT,
    "meal": ["breakfast", "lunch", "dinner", "supper", "", None, 1],
    "outcome": ["serve_free", "serve_paid", "refuse", "nonsense", "", None],
    "reason": TEXT, "message": [*TEXT, "a" * 2000, "a" * 2001], "source": TEXT, "staff": [*TEXT, "a" * 100, "a" * 101],
    "note": [*TEXT, "a" * 2001], "flags": TEXT,
    "paid_kopecks": [0, 7500, -7500, 100_000_000, 100_000_001, -100_000_001, 1.5, True, "75", None],
    "free_kopecks": [0, 4858, 100_000_001, None, False],
    "ref_event_id": [None, HEX, HEX.upper(), "x", 5],
}
MISSING = object()


def slow(event: Any) -> tuple[Any, ...] | None:
    try:
        parsed = parse_event(event)
    except WireError:
        return None
    return tuple(parsed[name] for name in EVENT_FIELDS)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event = dict(BASE)
    for name in draw(st.lists(st.sampled_from(EVENT_FIELDS), max_size=4, unique=True)):
        value = draw(st.sampled_from([*CANDIDATES[name], MISSING]))
        if value is MISSING:
            del event[name]
        else:
            event[name] = value
    if draw(st.booleans()) and draw(st.booleans()):
        event["extra"] = 1
    return event


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_fast_path_accepts_only_what_parse_event_accepts_with_the_same_values(event: dict[str, Any]) -> None:
    body = json.dumps({"terminal_time": None, "events": [event]}, ensure_ascii=False).encode()
    fast = decode_push(body)
    expected = slow(json.loads(body)["events"][0])
    if fast is not None:
        assert expected is not None, event
        assert fast[1] == [expected]


def test_a_valid_batch_takes_the_fast_path() -> None:
    batch = [{**BASE, "id": uuid.uuid4().hex, "seq": n + 1} for n in range(3)]
    fast = decode_push(json.dumps({"terminal_time": "2026-03-02T01:40:05+00:00", "events": batch}).encode())
    assert fast is not None and fast[0] == "2026-03-02T01:40:05+00:00"
    assert fast[1] == [slow(e) for e in batch]


def test_one_bad_event_sends_the_whole_body_the_slow_way() -> None:
    batch = [BASE, {**BASE, "id": HEX, "meal": "supper"}]
    assert decode_push(json.dumps({"events": batch}).encode()) is None
    assert decode_push(b"not json") is None and decode_push(b"[1, 2]") is None


def test_terminal_store_writes_the_same_json_as_event_to_wire(tmp_path: Path) -> None:
    store = make_engine(tmp_path / "t.db")
    at = datetime(2026, 3, 2, 1, 40, 5)
    rows = [{name: BASE[name] for name in EVENT_FIELDS} for _ in range(4)]
    for n, row in enumerate(rows):
        row.update(id=uuid.uuid4().hex, seq=n + 1, at_utc=at + timedelta(microseconds=n * 250_001),
                   local_date=at.date())
    rows[1].update(message='кав"ычки \\ \n\t\x01 ✓ 😀', student_id=None, card_uid=None, meal=None)
    rows[2].update(kind="reversal", ref_event_id=HEX, paid_kopecks=-7500)
    with store.begin() as conn:
        conn.execute(insert(Event), rows)
        conn.execute(insert(Outbox), [{"seq": r["seq"], "event_id": r["id"]} for r in rows])
        made = conn.exec_driver_sql(_BATCH_SQL, (FIRST_SEQ, 10)).all()
        expected = [event_to_wire(r) for r in conn.execute(select(Event.__table__).order_by(Event.seq)).mappings()]
    got = [json.loads(row[3]) for row in made]
    for mine, theirs in zip(got, expected, strict=True):
        assert datetime.fromisoformat(mine.pop("at_utc")) == datetime.fromisoformat(theirs.pop("at_utc"))
        assert mine == theirs
    body = encode_push("2026-03-02T01:40:05+00:00", [row[3] for row in made])
    fast = decode_push(body)
    assert fast is not None and [r[0] for r in fast[1]] == [r["id"] for r in rows]
    assert [r[4] for r in fast[1]] == [r["at_utc"] for r in rows]  # the exact instants, microseconds too
