"""The wire schema shared by the terminal and the server: journal events, push and pull bodies.

Everything that crosses the network is JSON. Events travel as flat objects with the fields of
`pos.models.EventFields` (dates and times as ISO 8601, money as integer kopecks). `WireEvent` is
generated from those columns and is the one validator both sides trust, so the server refuses exactly
what the client could have caught. Bodies:

- push request  ``{"terminal_time": ISO, "events": [event, ...]}``
- push response ``{"server_time": ISO, "stored": [id], "duplicate": [id],
  "rejected": [{"id", "reason", "message"}]}``
- pull request  ``{"terminal_time": ISO, "cursor": str, "outbox_from": int | null, "full": bool}``
- pull response ``{"server_time", "cursor", "snapshot": bool, "terminal_id", "school": {...},
  "classes", "breaks", "meal_slots", "students", "cards", "entitlements", "orders", "menu_prices",
  "holidays", "served": [...], "deleted": {table: [key, ...]}, "acked": [id]}``

Pushes are big (thousands of events), so a push is read in one of two ways with the same checks.
The fast path (`decode_push`) decodes and validates a whole body in one pass into `WireEvent`s; it
gives up on any doubt. The slow path (`read_push`, then `check_event` per event) finds the doubtful
events and refuses each with a Russian message naming the field, so the rest of the batch is stored.
What msgspec's types cannot say is checked after decoding, by the same function on both paths
(`_finish`: times within 2000–2099, the local date next to the UTC one, a reversal's reference), and
text is checked for control characters, DEL and lone surrogates: per field on the slow path, and on
the fast path by one search over the raw body, which finds every escape or byte that could decode
to one (JSON forbids raw control characters; a raw surrogate is not UTF-8).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy import Date

from pos.ledger import EventKind
from pos.models import EVENT_COLUMNS, HEX32, REFERENCE, TERMINAL_MODELS, sent_columns

PROTOCOL = 1
PUSH_PATH = "/api/sync/push"
PULL_PATH = "/api/sync/pull"
HEALTH_PATH = "/api/health"
MAX_BATCH = 5000  # events per push; the server refuses more with 413

EVENT_FIELDS = tuple(c.name for c in EVENT_COLUMNS)  # the event's columns, in order

# The reference tables a pull carries, with their columns: the shared definitions of `pos.models`
# minus what the terminal derives itself (the cards' match keys).
PULL_TABLES: dict[str, tuple[str, ...]] = {name: sent_columns(columns) for name, columns in REFERENCE.items()}
DATE_COLUMNS: dict[str, frozenset[str]] = {  # columns sent as ISO dates, per table
    name: frozenset(c for c in PULL_TABLES[name] if isinstance(model.__table__.c[c].type, Date))
    for name, model in TERMINAL_MODELS.items()}

# The years an event's time and date may fall in: anything else is a terminal clock gone wrong
# (a dead RTC battery says 1970 or 2000) or garbage, and would not even convert to UTC near year 1.
FIRST_YEAR, END_YEAR = 2000, 2100
_AT_MIN, _AT_END = datetime(FIRST_YEAR, 1, 1), datetime(END_YEAR, 1, 1)
_DAY_MIN, _DAY_END = date(FIRST_YEAR, 1, 1), date(END_YEAR, 1, 1)
_HEX32 = re.compile(HEX32)
# Characters no field may hold: C0 controls (a NUL even stops PostgreSQL), DEL, lone surrogates.
_UNFIT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# Every JSON spelling that could decode to one of them: the escapes \u0000-\u001f, \u007f,
# \ud800-\udfff, \b \f \n \r \t, and a raw DEL. (An escaped backslash before "n" also matches:
# such a body merely takes the slow path.)
_UNFIT_JSON = re.compile(rb"\\(?:u00[01]|u007[fF]|u[dD][89a-fA-F]|[bfnrt])|\x7f")


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
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: year 1 east of UTC, year 9999 west of it
        raise WireError("invalid", f"поле {name}: неверная дата и время {_shown(value)}") from None
    return moment


def event_to_wire(row: Mapping[str, Any]) -> dict[str, Any]:
    """A journal row (mapping with `pos.models.Event` columns) -> its JSON object."""
    out = {name: row[name] for name in EVENT_FIELDS}
    out["at_utc"] = utc_iso(row["at_utc"])
    out["local_date"] = row["local_date"].isoformat()
    return out


# -- the event's wire struct, from its columns ----------------------------------------------------------

_CONSTRAINTS = ("pattern", "min_length", "max_length", "ge", "le")
_INT_RANGE = {"INTEGER": 2**31, "BIGINT": 2**63}  # what each database column can hold at least


def _constraints(column: Any) -> dict[str, Any]:
    """The msgspec.Meta constraints of one event column: its `info`, a string's length, an int's range."""
    info = column.info
    meta = {key: info[key] for key in _CONSTRAINTS if key in info}
    if column.type.python_type is str and "enum" not in info and getattr(column.type, "length", None):
        meta.setdefault("max_length", column.type.length)
    if column.type.python_type is int:
        bound = _INT_RANGE[column.type.compile()]
        meta.setdefault("ge", -bound)
        meta.setdefault("le", bound - 1)
    return meta


_META = {c.name: _constraints(c) for c in EVENT_COLUMNS}
_COLUMN = {c.name: c for c in EVENT_COLUMNS}


def _wire_field(column: Any) -> tuple[Any, ...]:
    """(name, type[, default]) of the msgspec field for one event column."""
    kind = column.info.get("enum") or column.type.python_type
    meta = _META[column.name]
    wire_type: Any = Annotated[kind, msgspec.Meta(**meta)] if meta else kind
    if column.nullable:
        return column.name, wire_type | None, None
    if column.default is not None:
        return column.name, wire_type, column.default.arg
    return (column.name, wire_type)


WireEvent: Any = msgspec.defstruct("WireEvent", [_wire_field(c) for c in EVENT_COLUMNS], kw_only=True,
                                   forbid_unknown_fields=True, gc=False, module=__name__)
# What a terminal reports of itself on push and pull, for the office's terminals page (both optional).
_OutboxSize = Annotated[int, msgspec.Meta(ge=0, le=2**62, description="событий ждёт отправки")] | None
_Version = Annotated[str, msgspec.Meta(max_length=64, description="версия программы терминала")] | None

PushBody: Any = msgspec.defstruct("PushBody", [("events", list[WireEvent]), ("terminal_time", datetime | None, None),
                                               ("outbox_size", _OutboxSize, None), ("version", _Version, None)],
                                  module=__name__)


class PushAnswer(msgspec.Struct):
    server_time: str
    clock_drift_s: float | None
    stored: list[str]
    duplicate: list[str]
    rejected: list[dict[str, Any]]
    terminal_flags: list[str] = []  # what the server found about the terminal itself, e.g. "clone"


class PullBody(msgspec.Struct):
    """A pull request; every field may be left out (an empty cursor asks for a snapshot)."""

    terminal_time: str | None = None
    cursor: Annotated[str, msgspec.Meta(max_length=64)] = ""
    outbox_from: Annotated[int, msgspec.Meta(ge=0, le=2**62)] | None = None  # an outbox seq: acks from it on
    full: bool = False
    outbox_size: _OutboxSize = None
    version: _Version = None


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
    year_starts: str = ""  # ISO date of the school year's first day; "" when the office has not set it
    year_ends: str = ""
    order_deadline: str = "10:00"  # school time, on the school day before the ordered day


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
    ("terminal_flags", list[str], []),
    ("school", SchoolSettings | msgspec.UnsetType, msgspec.UNSET),
])


# -- checking an event ----------------------------------------------------------------------------------

# A row of a validated event: the values of EVENT_FIELDS in that order (naive UTC `at_utc`, `date`
# local_date, kind/meal/outcome as the ledger's and domain's enums, which are `str`).
EventRow = tuple[Any, ...]
ROW = {name: i for i, name in enumerate(EVENT_FIELDS)}  # column -> index in an EventRow
_AT = ROW["at_utc"]
_astuple = msgspec.structs.astuple


def _ru_date(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"  # strftime does not pad years before 1000


def _finish(event: Any) -> EventRow:
    """What the types cannot say, the same on both paths; the event's row, or WireError."""
    at = event.at_utc
    if at.tzinfo is UTC:  # what terminals send: no conversion needed
        at = at.replace(tzinfo=None)
    elif at.tzinfo is not None:
        if not FIRST_YEAR <= at.year < END_YEAR:  # before converting: year 1 at +01:00 overflows
            raise _out_of_years("at_utc", at.date())
        at = at.astimezone(UTC).replace(tzinfo=None)
    if not _AT_MIN <= at < _AT_END:
        raise _out_of_years("at_utc", at.date())
    day = event.local_date
    if not _DAY_MIN <= day < _DAY_END:
        raise _out_of_years("local_date", day)
    if not -1 <= day.toordinal() - at.toordinal() <= 1:  # time zones span UTC-12..UTC+14
        raise WireError("invalid", f"поле local_date: {_ru_date(day)} — не дата времени at_utc "
                                   f"({_ru_date(at.date())} UTC) и не соседняя с ней")
    if event.kind is EventKind.REVERSAL and event.ref_event_id is None:
        raise WireError("invalid", "отмена выдачи без ссылки на выдачу (ref_event_id)")
    event.at_utc = at  # the struct is ours and used once: its tuple is the row
    return _astuple(event)


def _out_of_years(name: str, day: date) -> WireError:
    return WireError("invalid", f"поле {name}: дата {_ru_date(day)} вне {FIRST_YEAR}–{END_YEAR - 1} годов; "
                                "проверьте часы терминала")


def check_event(data: Any) -> EventRow:
    """One JSON event (plain values) -> its row; raises WireError with a Russian message naming the field."""
    if isinstance(data, dict):
        for name, value in data.items():
            if name not in _COLUMN:
                raise WireError("invalid", f"лишнее поле {_shown(str(name))}")
            if isinstance(value, str) and (bad := _UNFIT.search(value)):
                code = ord(bad.group())
                what = "одиночный суррогат UTF-16" if code >= 0xD800 else "управляющий символ"
                raise WireError("invalid", f"поле {name}: {what} U+{code:04X} на месте {bad.start() + 1}")
    try:
        event = msgspec.convert(data, WireEvent)
    except msgspec.ValidationError as exc:
        raise WireError("invalid", _russian(str(exc))) from None
    except UnicodeEncodeError:  # a lone surrogate deeper down, which msgspec cannot read
        raise WireError("invalid", "событие: одиночный суррогат UTF-16 во вложенном значении") from None
    return _finish(event)


def event_id(data: Any) -> str | None:
    """The id of a JSON event for its answer, when it is a well-formed id (anything else is not echoed)."""
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) == 32 and _HEX32.match(value) else None


# msgspec's English -> Russian. What each field expects is said from its column.
_GOT = {"int": "целое число", "float": "дробное число", "str": "строка", "bool": "true/false", "null": "null",
        "array": "список", "object": "объект", "bytes": "байты"}
_AT_FIELD = re.compile(r" - at `\$\.([a-z_]+)`$")
_NAMED = re.compile(r"^Object (missing required|contains unknown) field `(.*)`", re.DOTALL)
_GOT_TYPE = re.compile(r"^Expected `[^`]*`, got `([a-z]+)`")


def _expects(name: str) -> str:
    column, meta = _COLUMN[name], _META[name]
    kind = column.type.python_type
    if "enum" in column.info:
        text = "одно из: " + ", ".join(m.value for m in column.info["enum"])
    elif "pattern" in meta:
        text = "32 шестнадцатеричные цифры (0–9, a–f)"  # the one pattern there is, HEX32
    elif kind is str:
        text = f"строка до {meta['max_length']} символов"
    elif kind is int:
        text = f"целое число от {meta['ge']} до {meta['le']}"
    elif kind is datetime:
        text = "дата и время ISO 8601, например 2026-03-02T08:40:05+07:00"
    else:
        text = "дата ГГГГ-ММ-ДД"
    return text + (" или null" if column.nullable else "")


def _russian(message: str) -> str:
    """A msgspec ValidationError about one event, in Russian, naming the field."""
    named = _NAMED.match(message)
    if named:
        what, name = named.groups()
        if what == "missing required":
            return f"нет поля {name}"
        return f"лишнее поле {_shown(name)}"
    at = _AT_FIELD.search(message)
    if at is None:
        got = _GOT_TYPE.match(message)
        return "событие должно быть объектом JSON" + (f", а пришло: {_GOT[got.group(1)]}" if got else "")
    name = at.group(1)
    if "of length <=" in message:
        return f"поле {name}: длиннее {_META[name]['max_length']} символов"
    if "of length >=" in message:
        return f"поле {name}: пусто"
    got = _GOT_TYPE.match(message)
    return f"поле {name}: ожидается {_expects(name)}" + (f", а пришло: {_GOT.get(got.group(1), got.group(1))}"
                                                          if got else "")


def _shown(text: str, limit: int = 40) -> str:
    """A piece of the sender's text fit to quote in an answer: no unfit characters, not too long."""
    return "«" + _UNFIT.sub("\ufffd", text[:limit]) + ("…»" if len(text) > limit else "»")


# -- reading a push ------------------------------------------------------------------------------------

_push_decoder = msgspec.json.Decoder(PushBody)
_encoder = msgspec.json.Encoder()


def decode_push(body: bytes) -> tuple[datetime | None, list[EventRow]] | None:
    """(terminal_time, rows) when every event of the body is valid; None sends the body the slow way."""
    if (b"\\" in body or b"\x7f" in body) and _UNFIT_JSON.search(body):  # `in` is a far faster scan than re
        return None
    try:
        push = _push_decoder.decode(body)
        return push.terminal_time, [_finish(e) for e in push.events]
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError, WireError):
        return None


def read_json_object(body: bytes) -> dict[str, Any]:
    """A request body as a JSON object, or WireError saying in Russian why it is not one (every body the
    server reads goes through here, so the reasons are worded once)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError("not_utf8", f"тело запроса не в UTF-8 (байт {exc.start + 1})") from None
    try:
        # The standard parser, not msgspec: it keeps a lone surrogate escape ("\ud800"), so that only
        # its event is refused, where msgspec refuses the whole body.
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise WireError("too_deep", "тело запроса вложено слишком глубоко") from None
    except json.JSONDecodeError as exc:
        raise WireError("not_json", f"тело запроса — не JSON: {_JSON_ERRORS.get(exc.msg, exc.msg)} "
                                    f"(строка {exc.lineno}, столбец {exc.colno})") from None
    except ValueError:  # an integer of more than 4300 digits
        raise WireError("not_json", "тело запроса: слишком длинное число") from None
    if not isinstance(data, dict):
        raise WireError("not_object", "тело запроса должно быть объектом JSON { … }")
    return data


def read_push(body: bytes) -> tuple[datetime | None, list[Any]]:
    """The slow way: (terminal_time, the events as plain JSON values), or WireError saying why the body
    as a whole is not a push. The events are then checked one by one (`check_event`)."""
    data = read_json_object(body)
    events = data.get("events")
    if not isinstance(events, list):
        raise WireError("no_events", "поле events: ожидается список событий")
    try:
        terminal_time = msgspec.convert(data.get("terminal_time"), datetime | None)
    except msgspec.ValidationError:
        raise WireError("invalid", "поле terminal_time: ожидается дата и время ISO 8601 или null") from None
    return terminal_time, events


def _no_constant(name: str) -> None:
    raise json.JSONDecodeError("constant", name, 0)


_JSON_ERRORS = {
    "Expecting value": "ожидается значение", "Extra data": "лишние данные после конца",
    "Expecting ',' delimiter": "ожидается запятая", "Expecting ':' delimiter": "ожидается двоеточие",
    "Expecting property name enclosed in double quotes": "ожидается имя поля в двойных кавычках",
    "Unterminated string starting at": "незакрытая строка",
    "Invalid control character at": "управляющий символ в строке",
    "Invalid \\escape": "неверная escape-последовательность",
    "Invalid \\uXXXX escape": "неверная escape-последовательность \\uXXXX",
    "constant": "NaN и Infinity — не JSON",
}


def clock_drift(terminal_time: datetime | None, now: datetime) -> float | None:
    """Terminal clock minus server clock in seconds; None without a terminal time or with one outside
    the years events may have (such a clock is told by its events' refusals)."""
    if terminal_time is None or not FIRST_YEAR <= terminal_time.year < END_YEAR:
        return None
    if terminal_time.tzinfo is None:
        terminal_time = terminal_time.replace(tzinfo=UTC)
    return round((terminal_time - now).total_seconds(), 3)


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
