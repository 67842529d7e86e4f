"""The wire schema shared by the terminal and the server: journal events, push and pull bodies.

Everything that crosses the network is JSON. Events travel as flat objects with the fields of
`pos.models.Event` (dates and times as ISO 8601, money as integer kopecks); `parse_event` is the
one validator both sides trust, so the server refuses exactly what the client could have caught.
Bodies:

- push request  ``{"terminal_time": ISO, "events": [event, ...]}``
- push response ``{"server_time": ISO, "stored": [id], "duplicate": [id],
  "rejected": [{"id", "reason", "message"}]}``
- pull request  ``{"terminal_time": ISO, "cursor": str, "outbox_from": int | null, "full": bool}``
- pull response ``{"server_time", "cursor", "snapshot": bool, "terminal_id", "school": {...},
  "classes", "breaks", "meal_slots", "students", "cards", "entitlements", "orders", "menu_prices",
  "holidays", "served": [...], "deleted": {table: [key, ...]}, "acked": [id]}``

Pushes are big (thousands of events), so both sides take a fast path: `encode_push` writes the body
with msgspec, and `decode_push` decodes and validates a whole body in one pass into typed structs.
The fast path accepts only what `parse_event` accepts and yields the same values (a test holds it
to that); whatever it does not accept goes the slow way, through `parse_event` per event, so every
refusal keeps its exact reason and message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy import Date

from pos.decide import Outcome
from pos.domain import Meal
from pos.journal import NOTE_MAX, STAFF_MAX  # the journal's limits are the wire's
from pos.ledger import EventKind
from pos.models import REFERENCE, TERMINAL_MODELS, sent_columns

PROTOCOL = 1
PUSH_PATH = "/api/sync/push"
PULL_PATH = "/api/sync/pull"
HEALTH_PATH = "/api/health"
MAX_BATCH = 5000  # events per push; the server refuses more with 413
KINDS = frozenset(k.value for k in EventKind)
MEALS = frozenset(m.value for m in Meal)
OUTCOMES = frozenset(o.value for o in Outcome)
MONEY_LIMIT = 100_000_000  # a million roubles in kopecks: far beyond any meal, catches garbage

EVENT_FIELDS = ("id", "terminal_id", "seq", "kind", "at_utc", "local_date", "student_id", "card_uid", "meal",
                "outcome", "reason", "message", "paid_kopecks", "free_kopecks", "budget_line", "ref_event_id",
                "source", "staff", "note", "flags")

# The reference tables a pull carries, with their columns: the shared definitions of `pos.models`
# minus what the terminal derives itself (the cards' match keys).
PULL_TABLES: dict[str, tuple[str, ...]] = {name: sent_columns(columns) for name, columns in REFERENCE.items()}
DATE_COLUMNS: dict[str, frozenset[str]] = {  # columns sent as ISO dates, per table
    name: frozenset(c for c in PULL_TABLES[name] if isinstance(model.__table__.c[c].type, Date))
    for name, model in TERMINAL_MODELS.items()}

_HEX32 = re.compile(r"[0-9a-f]{32}")


class WireError(ValueError):
    """A value on the wire that does not fit the schema; `reason` is a code, the text is Russian."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def parse_datetime(value: Any, name: str) -> datetime:
    """ISO 8601 -> naive UTC (the way both stores keep timestamps)."""
    if not isinstance(value, str) or len(value) > 40:
        raise WireError("invalid", f"поле {name}: ожидается дата и время ISO 8601")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise WireError("invalid", f"поле {name}: неверная дата и время {value[:40]!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_date(value: Any, name: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise WireError("invalid", f"поле {name}: ожидается дата ГГГГ-ММ-ДД")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WireError("invalid", f"поле {name}: неверная дата {value!r}") from None


def _text(data: Mapping[str, Any], name: str, limit: int, *, optional: bool = False, default: str = "") -> Any:
    value = data.get(name, None if optional else default)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise WireError("invalid", f"поле {name}: ожидается строка")
    if len(value) > limit:
        raise WireError("invalid", f"поле {name}: длиннее {limit} символов")
    return value


def _int(data: Mapping[str, Any], name: str, lo: int, hi: int, default: int | None = None) -> int:
    value = data.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise WireError("invalid", f"поле {name}: ожидается целое от {lo} до {hi}")
    return value


def event_to_wire(row: Mapping[str, Any]) -> dict[str, Any]:
    """A journal row (mapping with `pos.models.Event` columns) -> its JSON object."""
    out = {name: row[name] for name in EVENT_FIELDS}
    out["at_utc"] = utc_iso(row["at_utc"])
    out["local_date"] = row["local_date"].isoformat()
    return out


def parse_event(data: Any) -> dict[str, Any]:
    """A JSON event -> a dict of `Event` columns with Python values; raises `WireError`."""
    if not isinstance(data, dict):
        raise WireError("invalid", "событие должно быть объектом JSON")
    event_id = data.get("id")
    if not isinstance(event_id, str) or not _HEX32.fullmatch(event_id):
        raise WireError("invalid", "поле id: ожидается 32 шестнадцатеричных символа")
    unknown = set(data) - set(EVENT_FIELDS)
    if unknown:
        raise WireError("invalid", f"лишние поля: {', '.join(sorted(unknown))[:200]}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise WireError("invalid", f"поле kind: одно из {', '.join(sorted(KINDS))}")
    meal = data.get("meal")
    if meal is not None and meal not in MEALS:
        raise WireError("invalid", f"поле meal: одно из {', '.join(sorted(MEALS))}")
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise WireError("invalid", f"поле outcome: одно из {', '.join(sorted(OUTCOMES))}")
    ref = data.get("ref_event_id")
    if ref is not None and (not isinstance(ref, str) or not _HEX32.fullmatch(ref)):
        raise WireError("invalid", "поле ref_event_id: ожидается 32 шестнадцатеричных символа")
    if kind == EventKind.REVERSAL and ref is None:
        raise WireError("invalid", "отмена выдачи без ссылки на выдачу (ref_event_id)")
    terminal_id = _text(data, "terminal_id", 64)
    if not terminal_id:
        raise WireError("invalid", "поле terminal_id: пусто")
    return {
        "id": event_id,
        "terminal_id": terminal_id,
        "seq": _int(data, "seq", 1, 2**62),
        "kind": kind,
        "at_utc": parse_datetime(data.get("at_utc"), "at_utc"),
        "local_date": parse_date(data.get("local_date"), "local_date"),
        "student_id": _text(data, "student_id", 64, optional=True),
        "card_uid": _text(data, "card_uid", 64, optional=True),
        "meal": meal,
        "outcome": outcome,
        "reason": _text(data, "reason", 32),
        "message": _text(data, "message", NOTE_MAX),
        "paid_kopecks": _int(data, "paid_kopecks", -MONEY_LIMIT, MONEY_LIMIT, 0),
        "free_kopecks": _int(data, "free_kopecks", -MONEY_LIMIT, MONEY_LIMIT, 0),
        "budget_line": _text(data, "budget_line", 64, optional=True),
        "ref_event_id": ref,
        "source": _text(data, "source", 16, default="card"),
        "staff": _text(data, "staff", STAFF_MAX),
        "note": _text(data, "note", NOTE_MAX),
        "flags": _text(data, "flags", 200),
    }


# -- the fast path of a push ----------------------------------------------------------------------------

# A row of a validated event: the values of EVENT_FIELDS in that order, as `parse_event` returns them.
EventRow = tuple[Any, ...]
ROW = {name: i for i, name in enumerate(EVENT_FIELDS)}  # column -> index in an EventRow

_Hex32 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32}$", max_length=32)]  # max_length: no trailing \n
_Money = Annotated[int, msgspec.Meta(ge=-MONEY_LIMIT, le=MONEY_LIMIT)]

_S16 = Annotated[str, msgspec.Meta(max_length=16)]
_S32 = Annotated[str, msgspec.Meta(max_length=32)]
_S64 = Annotated[str, msgspec.Meta(max_length=64)]
_STAFF = Annotated[str, msgspec.Meta(max_length=STAFF_MAX)]
_S200 = Annotated[str, msgspec.Meta(max_length=200)]
_NOTE = Annotated[str, msgspec.Meta(max_length=NOTE_MAX)]


class WireEvent(msgspec.Struct, forbid_unknown_fields=True):
    """The typed form of `parse_event`'s checks; enums, times and cross-field rules are checked after."""

    id: _Hex32
    terminal_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    seq: Annotated[int, msgspec.Meta(ge=1, le=2**62)]
    kind: str
    at_utc: Annotated[str, msgspec.Meta(max_length=40)]
    local_date: date  # msgspec takes only YYYY-MM-DD: a subset of what date.fromisoformat takes
    outcome: str
    student_id: _S64 | None = None
    card_uid: _S64 | None = None
    meal: str | None = None
    reason: _S32 = ""
    message: _NOTE = ""
    paid_kopecks: _Money = 0
    free_kopecks: _Money = 0
    budget_line: _S64 | None = None
    ref_event_id: _Hex32 | None = None
    source: _S16 = "card"
    staff: _STAFF = ""
    note: _NOTE = ""
    flags: _S200 = ""


class PushBody(msgspec.Struct):
    events: list[WireEvent]
    terminal_time: str | None = None


class PushAnswer(msgspec.Struct):
    server_time: str
    clock_drift_s: float | None
    stored: list[str]
    duplicate: list[str]
    rejected: list[dict[str, Any]]


class PullBody(msgspec.Struct):
    """A pull request; every field may be left out (an empty cursor asks for a snapshot)."""

    terminal_time: str | None = None
    cursor: Annotated[str, msgspec.Meta(max_length=64)] = ""
    outbox_from: Annotated[int, msgspec.Meta(ge=0, le=2**62)] | None = None  # an outbox seq: acks from it on
    full: bool = False


class SchoolSettings(msgspec.Struct):
    """The school's settings in a pull: sent with a snapshot and after they change."""

    school_id: str
    school_name: str
    timezone: str
    week_days: str
    window_early_min: int
    window_late_min: int
    refuse_outside_window: bool
    policy: str


class ServedMeal(msgspec.Struct):
    """A meal served today at some window of the school (or its reversal), in a pull."""

    id: str
    kind: str
    terminal_id: str
    student_id: str
    meal: str | None
    local_date: date
    at_utc: str
    paid_kopecks: int
    free_kopecks: int
    ref_event_id: str | None


def _row_struct(name: str) -> Any:
    """The struct of one row of a reference table as a pull sends it, from the table's shared columns."""
    table = TERMINAL_MODELS[name].__table__
    fields = []
    for column in (table.c[c] for c in PULL_TABLES[name]):
        kind: Any = column.type.python_type
        length = getattr(column.type, "length", None)
        if length:
            kind = Annotated[kind, msgspec.Meta(max_length=length)]
        fields.append((column.name, kind | None if column.nullable else kind))
    title = "".join(part.title() for part in name.split("_"))
    return msgspec.defstruct(f"{title}Row", fields, forbid_unknown_fields=True)


# The pull answer (see the module's docstring); the server builds it as a dict, this describes it.
PullAnswer: type[msgspec.Struct] = msgspec.defstruct("PullAnswer", [
    ("server_time", str), ("snapshot", bool), ("terminal_id", str), ("today", date), ("horizon", date),
    ("cursor", str), ("clock_drift_s", float | None),
    *((name, list[_row_struct(name)]) for name in PULL_TABLES),  # type: ignore[misc]
    ("served", list[ServedMeal]), ("deleted", dict[str, list[list[Any]]]), ("acked", list[str]),
    ("school", SchoolSettings | msgspec.UnsetType, msgspec.UNSET),
])


_push_decoder = msgspec.json.Decoder(PushBody)
_encoder = msgspec.json.Encoder()


def decode_push(body: bytes) -> tuple[str | None, list[EventRow]] | None:
    """(terminal_time, rows) when every event of the body is valid; None sends the body the slow way."""
    try:
        push = _push_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    rows: list[EventRow] = []
    append = rows.append
    fromisoformat = datetime.fromisoformat
    for e in push.events:
        if (e.kind not in KINDS or e.outcome not in OUTCOMES or (e.meal is not None and e.meal not in MEALS)
                or (e.kind == EventKind.REVERSAL and e.ref_event_id is None)):
            return None
        try:
            at = fromisoformat(e.at_utc)
        except ValueError:
            return None
        if at.tzinfo is not None:
            at = at.astimezone(UTC).replace(tzinfo=None)
        append((e.id, e.terminal_id, e.seq, e.kind, at, e.local_date, e.student_id, e.card_uid, e.meal, e.outcome,
                e.reason, e.message, e.paid_kopecks, e.free_kopecks, e.budget_line, e.ref_event_id, e.source,
                e.staff, e.note, e.flags))
    return push.terminal_time, rows


def encode_json(value: Any) -> bytes:
    """JSON bytes of plain values or structs (UTF-8, no ASCII escaping, as Flask's answers)."""
    return _encoder.encode(value)


def encode_push(terminal_time: str, events: list[str]) -> bytes:
    """A push body from events already encoded as JSON objects (the terminal's store makes them)."""
    head = _encoder.encode(terminal_time).decode()
    return f'{{"terminal_time":{head},"events":[{",".join(events)}]}}'.encode()


def parse_cursor(text: Any) -> tuple[int, date | None] | None:
    """``"<rev>:<horizon>"`` -> (rev, horizon date); None for an empty or garbled cursor (= snapshot)."""
    if not isinstance(text, str) or not text or len(text) > 64:
        return None
    rev, _, horizon = text.partition(":")
    try:
        return int(rev), date.fromisoformat(horizon) if horizon else None
    except ValueError:
        return None


def make_cursor(rev: int, horizon: date) -> str:
    return f"{rev}:{horizon.isoformat()}"
