"""The push fast path is the slow path made fast: both read events with the one struct made from the
columns, the fast path gives up exactly where the slow path refuses, and the terminal's store writes the
same JSON as `event_to_wire`."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from pos.models import Event, Outbox
from pos.store import make_engine
from sync.client import _BATCH_SQL, FIRST_SEQ
from sync.wire import (
    _UNFIT_JSON,
    EVENT_FIELDS,
    WireError,
    check_event,
    decode_push,
    encode_push,
    event_to_wire,
    read_push,
)

BASE: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdef", "terminal_id": "sch1-T1", "seq": 7, "kind": "serve",
    "at_utc": "2026-03-02T01:40:05.123456+00:00", "local_date": "2026-03-02", "student_id": "s1",
    "card_uid": "EM:0000000001", "meal": "breakfast", "outcome": "serve_free", "reason": "ok",
    "message": "Бесплатно: завтрак", "paid_kopecks": 0, "free_kopecks": 4858, "budget_line": "01100L3040",
    "ref_event_id": None, "source": "card", "staff": "", "note": "", "flags": "",
    "free_category": "", "free_rule": "nazarovo-2021#1",
}
HEX = "fedcba9876543210fedcba9876543210"
TEXT = ["", "x", "Ж" * 16, "Ж" * 17, "a" * 32, "a" * 33, "a" * 64, "a" * 65, "a" * 200, "a" * 201, None, 5, True,
        "a\x00b", "\x1f", "tab\there", "line\n", "del\x7f", "\ud800", "\udc00x", "😀", {"a": 1}, ["a"]]
# For each field: values that are right, wrong, or right for another field only.
CANDIDATES: dict[str, list[Any]] = {
    "id": [HEX, HEX.upper(), HEX + "\n", HEX[:-1], "g" * 32, 5, None],
    "terminal_id": ["sch1-T1", "", "a" * 64, "a" * 65, None, 1, "T\x00"],
    "seq": [1, 0, -1, 2**62, 2**62 + 1, 2**70, 1.0, True, "1", None, [1]],
    "kind": ["serve", "refuse", "override", "reversal", "supper", "", None, 1],
    "at_utc": ["2026-03-02T01:40:05+00:00", "2026-03-02T08:40:05+07:00", "2026-03-02T01:40:05Z",
               "2026-03-02T01:40:05", "2026-03-02 01:40:05.5", "2026-03-02", "2026-03-02T01", "20260302T014005",
               "2026-03-02T01:40:05+00:00+00:00", "2026-02-30T01:40:05+00:00", "вчера", "", "9" * 41, None, 5,
               "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1970-01-01T00:00:00Z",
               "2100-01-01T00:00:00Z", "2099-12-31T23:59:59+00:00", "2026-03-04T00:00:00Z", "2026-02-28T23:00:00Z"],
    "local_date": ["2026-03-02", "2026-03-01", "2026-03-03", "2026-03-04", "2026-02-30", "20260302", "2026-W10-1",
                   "02.03.2026", "", None, 20260302, "0001-01-01", "2100-01-01"],
    "student_id": TEXT, "card_uid": TEXT, "budget_line": TEXT,
    "meal": ["breakfast", "lunch", "dinner", "supper", "", None, 1],
    "outcome": ["serve_free", "serve_paid", "refuse", "nonsense", "", None],
    "reason": TEXT, "message": [*TEXT, "a" * 2000, "a" * 2001], "source": TEXT, "staff": [*TEXT, "a" * 100, "a" * 101],
    "note": [*TEXT, "a" * 2001], "flags": TEXT, "free_category": TEXT, "free_rule": [*TEXT, "a" * 80, "a" * 81],
    "paid_kopecks": [0, 7500, -7500, 100_000_000, 100_000_001, -100_000_001, 1.5, True, "75", None, 2**64],
    "free_kopecks": [0, 4858, 100_000_001, None, False, {"x": 1}],
    "ref_event_id": [None, HEX, HEX.upper(), "x", 5],
}
MISSING = object()


def slow(event: Any) -> tuple[Any, ...] | None:
    try:
        return check_event(event)
    except WireError:
        return None


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


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(), st.booleans())
def test_fast_path_takes_exactly_what_the_slow_path_takes_with_the_same_values(event: dict[str, Any],
                                                                               ascii_only: bool) -> None:
    body = json.dumps({"terminal_time": None, "events": [event]}, ensure_ascii=ascii_only)
    if not ascii_only and any(0xD800 <= ord(c) <= 0xDFFF for c in body):
        return  # raw surrogates are not UTF-8: not a body a client can send (see the 400 test)
    fast = decode_push(body.encode())
    _, raw_events = read_push(body.encode())
    expected = slow(raw_events[0])
    if fast is not None:
        assert fast[1] == [expected], event
    else:  # the fast path gives up only on a bad event, or on an escape that might decode to a bad character
        assert expected is None or _UNFIT_JSON.search(body.encode()), event


def test_a_valid_batch_takes_the_fast_path_with_enums_and_naive_utc() -> None:
    batch = [{**BASE, "id": uuid.uuid4().hex, "seq": n + 1} for n in range(3)]
    batch[1]["at_utc"] = "2026-03-02T08:40:05+07:00"
    fast = decode_push(json.dumps({"terminal_time": "2026-03-02T01:40:05+00:00", "events": batch}).encode())
    assert fast is not None and fast[0] == datetime.fromisoformat("2026-03-02T01:40:05+00:00")
    assert fast[1] == [slow(e) for e in batch]
    assert fast[1][1][EVENT_FIELDS.index("at_utc")] == datetime(2026, 3, 2, 1, 40, 5)


def test_one_bad_event_sends_the_whole_body_the_slow_way() -> None:
    batch = [BASE, {**BASE, "id": HEX, "meal": "supper"}]
    assert decode_push(json.dumps({"events": batch}).encode()) is None
    assert decode_push(b"not json") is None and decode_push(b"[1, 2]") is None
    assert decode_push(b"[" * 10_000 + b"]" * 10_000) is None


@pytest.mark.parametrize(("change", "message"), [
    ({"note": 5}, "поле note: ожидается строка до 2000 символов, а пришло: целое число"),
    ({"note": {"a": 1}}, "поле note: ожидается строка до 2000 символов, а пришло: объект"),
    ({"student_id": ["s1"]}, "поле student_id: ожидается строка до 64 символов или null, а пришло: список"),
    ({"seq": True}, "поле seq: ожидается целое число от 1 до 4611686018427387904, а пришло: true/false"),
    ({"paid_kopecks": "75"}, "поле paid_kopecks: ожидается целое число от -100000000 до 100000000, а пришло: строка"),
    ({"free_kopecks": 1.0}, "поле free_kopecks: ожидается целое число от -100000000 до 100000000, а пришло: дробное"),
    ({"paid_kopecks": 100_000_001}, "поле paid_kopecks: ожидается целое число от -100000000 до 100000000"),
    ({"note": "a" * 2001}, "поле note: длиннее 2000 символов"),
    ({"card_uid": "a" * 65}, "поле card_uid: длиннее 64 символов"),
    ({"terminal_id": ""}, "поле terminal_id: пусто"),
    ({"id": HEX.upper()}, "поле id: ожидается 32 шестнадцатеричные цифры (0–9, a–f)"),
    ({"kind": "supper"}, "поле kind: ожидается одно из: serve, refuse, override, reversal"),
    ({"meal": 1}, "поле meal: ожидается одно из: breakfast, lunch, snack, milk или null, а пришло: целое число"),
    ({"at_utc": "вчера"}, "поле at_utc: ожидается дата и время ISO 8601"),
    ({"local_date": "02.03.2026"}, "поле local_date: ожидается дата ГГГГ-ММ-ДД"),
    ({"extra": 1}, "лишнее поле «extra»"),
    ({"extra\x00\ud800": 1}, "лишнее поле «extra\ufffd\ufffd»"),
    ({"note": "a\x00b"}, "поле note: управляющий символ U+0000 на месте 2"),
    ({"message": "строка\nвторая"}, "поле message: управляющий символ U+000A на месте 7"),
    ({"staff": "del\x7f"}, "поле staff: управляющий символ U+007F на месте 4"),
    ({"note": "\ud800"}, "поле note: одиночный суррогат UTF-16 U+D800 на месте 1"),
    ({"at_utc": "0001-01-01T00:00:00+01:00"}, "поле at_utc: дата 01.01.0001 вне 2000–2099 годов"),
    ({"at_utc": "1970-01-01T00:00:00Z", "local_date": "1970-01-01"}, "поле at_utc: дата 01.01.1970 вне 2000–2099"),
    ({"at_utc": "2099-12-31T23:00:00-05:00", "local_date": "2099-12-31"}, "поле at_utc: дата 01.01.2100 вне"),
    ({"local_date": "2026-03-04"}, "поле local_date: 04.03.2026 — не дата времени at_utc (02.03.2026 UTC)"),
    ({"kind": "reversal"}, "отмена выдачи без ссылки на выдачу (ref_event_id)"),
])
def test_each_bad_field_is_refused_with_a_russian_message_naming_it(change: dict[str, Any], message: str) -> None:
    body = json.dumps({"events": [{**BASE, **change}]})  # ASCII escapes, as any client may send them
    _, raw_events = read_push(body.encode())
    with pytest.raises(WireError) as refused:
        check_event(raw_events[0])
    assert refused.value.message.startswith(message)
    assert decode_push(body.encode()) is None


def test_missing_field_and_non_object_events_are_named() -> None:
    without_kind = {k: v for k, v in BASE.items() if k != "kind"}
    for event, message in [(without_kind, "нет поля kind"),
                           ([1], "событие должно быть объектом JSON, а пришло: список"),
                           (None, "событие должно быть объектом JSON, а пришло: null")]:
        with pytest.raises(WireError) as refused:
            check_event(event)
        assert refused.value.message == message


def test_tab_and_newline_in_free_text_are_refused_like_any_control_character() -> None:
    # No field needs them: the terminal's messages are one line and its journal turns a pasted tab into a space.
    for name in ("message", "note", "staff"):
        with pytest.raises(WireError, match=f"поле {name}: управляющий символ U\\+0009"):
            check_event({**BASE, name: "a\tb"})


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "тело запроса — не JSON: ожидается значение (строка 1, столбец 1)"),
    (b'{"events": [}', "тело запроса — не JSON: ожидается значение"),
    (b'{"events": [NaN]}', "тело запроса — не JSON: NaN и Infinity — не JSON"),
    (b"[" * 10_000 + b"]" * 10_000, "тело запроса вложено слишком глубоко"),
    (b"[1, 2]", "тело запроса должно быть объектом JSON"),
    (b'{"events": {}}', "поле events: ожидается список событий"),
    (b'{"terminal_time": "yesterday", "events": []}', "поле terminal_time: ожидается дата и время ISO 8601"),
    ('{"events": [{"note": "\ud800"}]}'.encode("utf-8", "surrogatepass"), "тело запроса не в UTF-8 (байт 23)"),
    (b'{"events": ["\xff"]}', "тело запроса не в UTF-8 (байт 14)"),
])
def test_a_body_that_is_not_a_push_is_refused_as_a_whole_saying_why(body: bytes, message: str) -> None:
    assert decode_push(body) is None
    with pytest.raises(WireError) as refused:
        read_push(body)
    assert refused.value.message.startswith(message)


def test_terminal_store_writes_the_same_json_as_event_to_wire(tmp_path: Path) -> None:
    store = make_engine(tmp_path / "t.db")
    at = datetime(2026, 3, 2, 1, 40, 5)
    rows = [{name: BASE[name] for name in EVENT_FIELDS} for _ in range(4)]
    for n, row in enumerate(rows):
        row.update(id=uuid.uuid4().hex, seq=n + 1, at_utc=at + timedelta(microseconds=n * 250_001),
                   local_date=at.date())
    rows[1].update(message='кав"ычки \\ ✓ 😀', student_id=None, card_uid=None, meal=None)
    rows[2].update(kind="reversal", ref_event_id=HEX, paid_kopecks=-7500)
    rows[3].update(note="\x01\t")  # written by hand: the journal itself never stores these (see test_journal)
    with store.begin() as conn:
        conn.execute(insert(Event), rows)
        conn.execute(insert(Outbox), [{"seq": r["seq"], "event_id": r["id"]} for r in rows])
        made = conn.exec_driver_sql(_BATCH_SQL, (FIRST_SEQ, 10)).all()
        expected = [event_to_wire(r) for r in conn.execute(select(Event.__table__).order_by(Event.seq)).mappings()]
    got = [json.loads(row[3]) for row in made]
    for mine, theirs in zip(got, expected, strict=True):
        assert datetime.fromisoformat(mine.pop("at_utc")) == datetime.fromisoformat(theirs.pop("at_utc"))
        assert mine == theirs
    body = encode_push("2026-03-02T01:40:05+00:00", [row[3] for row in made[:3]])
    fast = decode_push(body)
    assert fast is not None and [r[0] for r in fast[1]] == [r["id"] for r in rows[:3]]
    assert [r[4] for r in fast[1]] == [r["at_utc"] for r in rows[:3]]  # the exact instants, microseconds too
