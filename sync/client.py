"""The terminal side of sync: push the journal from the durable outbox, then pull the school's data.

`SyncClient.sync_once()` never raises on a network or server failure: it records the failure in
`meta` (Russian text for staff) and returns. It always pulls, even when the push failed (only a
refused token stops both), so the school's data stays fresh whatever the server thinks of the journal.

Push sends the outbox in journal order, one batch in flight; events the server stored or already had
leave the outbox, events it refused move to the `rejected` list (so one bad event never wedges the
queue), and a batch refused as a whole with a 4xx is split until the bad event is found. Network
errors and 5xx leave everything in place for the next attempt, with one exception: when the same
batch gets a 5xx (or the connection drops after it was sent) `POISON_ATTEMPTS` syncs in a row while
the pull of the same sync went through (so the server itself works), the batch is halved until the
event the server chokes on is alone; that event, failing as many times again while the event after
it goes through alone, moves to the rejected list with reason `server_error`. The count lives in
`meta` (`Trouble`), so restarts do not reset it, and an outage (nothing answers, everything answers
5xx, or every push does) never moves an event aside.

A server busy with other terminals' full pulls answers a full pull 503 ``busy`` with ``Retry-After``:
the sync ends there (`SyncResult.retry_after_s`), the scheduler comes back after that wait with the
same full pull, and the terminal is not marked offline (the server answered).

A pull is applied in one transaction together with its cursor, so a cut connection or a crash
mid-apply only means downloading again. Both answers may carry `terminal_flags` (e.g. ``clone``),
kept in `meta` for the status line.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

import httpx
from sqlalchemy import Connection, DateTime, Engine, delete, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos.cards import match_keys
from pos.ledger import MONEY_KINDS, EventKind
from pos.lookup import SQLITE_IN_CHUNK as CHUNK
from pos.models import (
    EVENT_COLUMNS,
    TERMINAL_MODELS,
    Base,
    Break,
    Card,
    Entitlement,
    Event,
    Holiday,
    MealSlot,
    MenuPrice,
    Meta,
    Order,
    Outbox,
    Rejected,
    SchoolClass,
    Served,
    Student,
)
from pos.schedule import Tolerance
from pos.settings import parse_week_days, school_meta, write_meta
from sync import keys
from sync.wire import (
    DATE_COLUMNS,
    MAX_BATCH,
    PULL_PATH,
    PULL_TABLES,
    PUSH_PATH,
    encode_push,
    parse_datetime,
    utc_iso,
)

Progress = Callable[[str], None]

try:  # the software version each sync reports, for the office's terminals page
    VERSION: str | None = importlib.metadata.version("canteen")
except importlib.metadata.PackageNotFoundError:  # running from a checkout that was never installed
    VERSION = None


def _batch_sql() -> str:
    """The next batch of the outbox in journal order, each event already as its JSON object.

    SQLite builds the objects (json_object, in C): turning 20 columns a row into Python objects and
    back into JSON cost more than everything else the push does. `at_utc` is stored as SQLAlchemy
    writes a naive UTC DateTime on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``); the wire wants ISO 8601
    with the offset, exactly what `event_to_wire` sends. Columns: outbox seq, event id, event seq, JSON.
    """
    values = []
    for column in EVENT_COLUMNS:  # the event's columns, in the wire's order (`sync.wire.EVENT_FIELDS`)
        value = f"e.{column.name}"
        if isinstance(column.type, DateTime):
            value = f"replace({value}, ' ', 'T') || '+00:00'"
        values.append(f"'{column.name}', {value}")
    return (f"SELECT o.seq, e.id, e.seq, json_object({', '.join(values)}) FROM outbox o "
            "JOIN events e ON e.id = o.event_id WHERE o.seq > ? ORDER BY o.seq LIMIT ?")

log = logging.getLogger(__name__)


_BATCH_SQL = _batch_sql()
FIRST_SEQ = -(2**63)  # below any outbox seq


class Pending(NamedTuple):
    """One event of a batch: where it sits in the outbox, its id and journal seq, its JSON text."""

    outbox_seq: int
    event_id: str
    seq: int
    json: str


MODELS: dict[str, Any] = TERMINAL_MODELS
# Deletion order respects the foreign keys of the terminal store: referring tables before referred ones.
WIPE_ORDER = tuple(t.name for t in reversed(Base.metadata.sorted_tables) if t.name in MODELS)


POISON_ATTEMPTS = 3  # 5xx in a row on the same batch, with the server otherwise working, before narrowing
SERVER_ERROR = "server_error"  # the rejected-list reason for an event the server fails on by itself
SERVER_ERROR_TEXT = ("сервер несколько синхронизаций подряд не смог принять это событие (ошибка сервера), "
                     "остальные события отправлены; сообщите администратору сервера, после исправления — "
                     "canteen sync requeue")


class SyncFailure(Exception):
    """A sync that did not go through; the message is Russian, for staff."""


class AuthFailure(SyncFailure):
    pass


class ServerFailure(SyncFailure):
    """The server failed on a batch it received (a 5xx, or the connection dropped after sending)."""


class Busy(SyncFailure):
    """The server answered 503 ``busy`` with ``Retry-After``: not a failure, come back in `retry_after_s`."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"сервер занят синхронизацией других терминалов; повтор через {retry_after_s:.0f} с")
        self.retry_after_s = retry_after_s


MAX_RETRY_AFTER_S = 3600.0  # a server asking for longer is not believed beyond this


@dataclass
class SyncResult:
    ok: bool
    pushed: int = 0  # events the server acknowledged (stored or already had)
    rejected: int = 0  # events the server refused (now in the rejected list)
    pulled: int = 0  # rows received
    snapshot: bool = False
    applied: bool = False  # reference data changed: the counter should reload
    drift_s: float | None = None
    waiting: int = 0  # events still in the outbox
    error: str = ""  # Russian, says whether the push, the pull or both failed; empty when ok
    push_error: str = ""
    pull_error: str = ""
    pulled_ok: bool = False  # the pull went through: the server answers, whatever became of the push
    retry_after_s: float | None = None  # the server is busy and asked to come back after this long
    terminal_flags: list[str] | None = field(default=None)  # the server's flags on this terminal, if it said


@dataclass(frozen=True)
class Trouble:
    """A batch the server keeps failing on, kept in `meta` between syncs (JSON)."""

    head: int  # outbox seq of the first event of the failing batch
    failures: int  # failures of the batch at `head` in a row, each confirmed by a working pull
    until: int  # outbox seq of the last event of the batch first seen failing: narrowing ends past it
    size: int | None = None  # batch size while narrowing (halved on each failure); None before

    def dumps(self) -> str:
        return json.dumps([self.head, self.failures, self.until, self.size])

    @classmethod
    def loads(cls, text: str | None) -> Trouble | None:
        try:
            head, failures, until, size = json.loads(text or "null")
            return cls(int(head), int(failures), int(until), None if size is None else max(1, int(size)))
        except (TypeError, ValueError):  # empty or garbled: nothing known
            return None


def token_terminal(token: str) -> str:
    """The terminal id a token belongs to (tokens are ``<terminal id>.<secret>``)."""
    return token.rpartition(".")[0]


def _now() -> datetime:
    return datetime.now(UTC)


class SyncClient:
    """Syncs one terminal store with the server; one `sync_once` at a time."""

    def __init__(self, engine: Engine, server_url: str, token: str, *, batch_size: int = MAX_BATCH,
                 timeout_s: float = 30.0, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.batch_size = batch_size
        self.clock = clock
        self._failed_batch: tuple[Trouble, Sequence[Pending]] | None = None  # this sync's, if the push failed
        self._outbox_size: int | None = None  # events waiting here, as last counted: reported to the server
        self.http = httpx.Client(base_url=self.server_url, timeout=timeout_s, transport=transport,
                                 headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the one entry point ------------------------------------------------------------------------

    def sync_once(self, progress: Progress | None = None, *, full: bool = False) -> SyncResult:
        """Push, then pull (even if the push failed); records the outcome in `meta`.

        Never raises for network or server trouble. Only a refused token (401/403) or a refused
        re-enrolment stops both halves.
        """
        say = progress or (lambda _text: None)
        result = SyncResult(ok=False)
        started = self.clock()
        self._failed_batch = None
        try:
            full = self._check_identity() or full
        except SyncFailure as exc:
            result.error = str(exc)
        else:
            result.push_error, auth = _attempt(lambda: self._push(result, say), result)
            if not auth and result.retry_after_s is None:
                result.pull_error, auth = _attempt(lambda: self._pull(result, say, full), result)
                result.pulled_ok = not result.pull_error
            if result.pulled_ok and self._failed_batch is not None:
                self._count_failure(*self._failed_batch, result)
            result.error = _both(result.push_error, result.pull_error)
        result.ok = not result.error
        self._record(result, started)
        say("Готово" if result.ok else f"Ошибка: {result.error}")
        return result

    # -- identity -------------------------------------------------------------------------------------

    def _check_identity(self) -> bool:
        """Refuse a new token (re-enrolment) while events of the old one wait, in the outbox or in the
        rejected list; True = start afresh."""
        mine = token_terminal(self.token)
        with self.engine.begin() as conn:
            previous = conn.execute(select(Meta.value).where(Meta.key == keys.TOKEN_TERMINAL)).scalar()
            if previous == mine:
                return False
            waiting = conn.execute(select(func.count()).select_from(Outbox)).scalar_one()
            refused = conn.execute(select(func.count()).select_from(Rejected)).scalar_one()
            if previous and (waiting or refused):
                raise SyncFailure(
                    f"терминал перерегистрирован ({previous} → {mine}), но события прежнего токена не сданы "
                    f"серверу: в очереди {waiting}, отклонено сервером {refused}. Верните в настройках прежний "
                    "токен, выполните canteen sync requeue (если есть отклонённые) и синхронизируйте; когда "
                    "очередь и список отклонённых пусты, ставьте новый токен")
            write_meta(conn, {keys.TOKEN_TERMINAL: mine, keys.CURSOR: "", keys.PUSH_TROUBLE: "",
                              keys.TERMINAL_FLAGS: ""})
            return True

    # -- push -----------------------------------------------------------------------------------------

    def _push(self, result: SyncResult, say: Progress) -> None:
        """Send the outbox batch by batch, one request in flight. While the server works on batch k+1,
        this thread settles batch k in the store (deleting thousands of outbox rows costs about as
        much as the server's insert), so the two overlap instead of adding up."""
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(Outbox)).scalar_one()
            trouble = Trouble.loads(conn.execute(select(Meta.value).where(Meta.key == keys.PUSH_TROUBLE)).scalar())
        self._outbox_size = total  # reported with each batch of this push (the pull reports what is left)
        if not total:
            if trouble is not None:
                self._save_trouble(None)
            return
        say(f"Отправка журнала: {total} событий")
        # `with` waits for the request in flight whatever happens, so no push outlives this call.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-push") as pool:
            batch = self._read_batch(FIRST_SEQ, trouble)
            in_flight = pool.submit(self._post, batch) if batch else None
            while in_flight is not None:
                try:
                    answer = self._check(_response(in_flight), batch, result)
                except ServerFailure:
                    narrowed = self._narrow(batch, trouble)
                    if narrowed is None:
                        raise
                    trouble = narrowed  # already narrowing: try the first half at once
                    batch = self._read_batch(batch[0].outbox_seq - 1, trouble)
                    in_flight = pool.submit(self._post, batch)
                    continue
                if answer is None:  # refused as a whole (4xx): find the culprit, one request at a time
                    self._split(batch, result)
                    following = self._read_batch(batch[-1].outbox_seq, trouble)
                    in_flight = pool.submit(self._post, following) if following else None
                else:
                    following = self._read_batch(batch[-1].outbox_seq, trouble)
                    in_flight = pool.submit(self._post, following) if following else None
                    self._settle_answer(answer, batch, result)
                if trouble is not None and (trouble.size is None or batch[-1].outbox_seq >= trouble.until):
                    trouble = None  # the batch that kept failing went through: the server healed
                    self._save_trouble(None)
                batch = following
                say(f"Отправлено {result.pushed + result.rejected} из {total}")

    def _narrow(self, batch: Sequence[Pending], trouble: Trouble | None) -> Trouble | None:
        """After a server failure on `batch`: the halved batch to try at once while narrowing down,
        else None (the push stops; the failure is counted if the pull of this sync goes through)."""
        head = batch[0].outbox_seq
        if trouble is not None and trouble.size is not None and len(batch) > 1:
            narrowed = Trouble(head, 0, trouble.until, (len(batch) + 1) // 2)
            self._save_trouble(narrowed)
            return narrowed
        failures = trouble.failures + 1 if trouble is not None and trouble.head == head else 1
        narrowing = trouble is not None and trouble.size is not None
        self._failed_batch = (Trouble(head, failures, trouble.until if trouble and narrowing else batch[-1].outbox_seq,
                                      trouble.size if trouble else None), list(batch))
        return None

    def _count_failure(self, trouble: Trouble, batch: Sequence[Pending], result: SyncResult) -> None:
        """Count a server failure on a batch once this sync's pull showed the server works: after
        `POISON_ATTEMPTS` in a row a batch is halved, and a lone event goes to the rejected list."""
        if trouble.failures < POISON_ATTEMPTS:
            self._save_trouble(trouble)
        elif len(batch) > 1:
            self._save_trouble(Trouble(trouble.head, 0, trouble.until, (len(batch) + 1) // 2))
        elif self._push_works_without(batch[0], result):
            culprit = batch[0]
            self._settle([], [{"id": culprit.event_id, "reason": SERVER_ERROR,
                               "message": SERVER_ERROR_TEXT}], batch, result)
            self._save_trouble(None)
        else:  # the push fails whatever it holds (or nothing else waits): an outage, not this event
            self._save_trouble(trouble)

    def _push_works_without(self, suspect: Pending, result: SyncResult) -> bool:
        """Send the one event after `suspect` alone: True if the server took it (so it fails on the
        suspect itself, not on every push). False too when nothing else waits: wait for the next."""
        probe = self._read_batch(suspect.outbox_seq, Trouble(suspect.outbox_seq, 0, suspect.outbox_seq, 1))
        if not probe:
            return False

        def send() -> None:
            answer = self._check(self._post(probe), probe, result)
            if answer is None:
                raise SyncFailure("")
            self._settle_answer(answer, probe, result)

        error, _auth = _attempt(send)
        return not error

    def _save_trouble(self, trouble: Trouble | None) -> None:
        with self.engine.begin() as conn:
            write_meta(conn, {keys.PUSH_TROUBLE: trouble.dumps() if trouble else ""})

    def _read_batch(self, after_seq: int, trouble: Trouble | None = None) -> list[Pending]:
        """The events after `after_seq`, as many as a batch holds (fewer while narrowing down)."""
        size = self.batch_size
        if trouble is not None and trouble.size is not None:
            size = min(size, trouble.size)
        with self.engine.connect() as conn:
            return list(map(Pending._make, conn.exec_driver_sql(_BATCH_SQL, (after_seq, size))))

    def _post(self, batch: Sequence[Pending]) -> httpx.Response:
        body = _with_report(encode_push(utc_iso(self.clock()), [p.json for p in batch]), self._report())
        return self.http.post(PUSH_PATH, content=body, headers={"Content-Type": "application/json"})

    def _report(self) -> dict[str, Any]:
        """What the terminal tells the server of itself on each push and pull (the office's terminals page)."""
        report: dict[str, Any] = {"version": VERSION} if VERSION else {}
        if self._outbox_size is not None:
            report["outbox_size"] = self._outbox_size
        return report

    def _check(self, response: httpx.Response, batch: Sequence[Pending], result: SyncResult) -> dict[str, Any] | None:
        """The server's answer to a batch; None when it refused the request as a whole (a 4xx)."""
        if response.status_code in (401, 403):
            raise AuthFailure(self._auth_message(response))
        _raise_if_busy(response)
        if response.status_code >= 500:
            raise ServerFailure(f"ошибка сервера при отправке (код {response.status_code}); повтор позже")
        if response.status_code in (408, 429):
            raise SyncFailure(f"сервер занят (код {response.status_code}); повтор позже")
        if response.status_code >= 400 and not _refused_for_content(response):
            # A 404/405 or a proxy's HTML page says nothing about the events: the address or the way
            # to the server is wrong. Splitting would move the whole queue to the rejected list.
            raise SyncFailure(f"сервер ответил кодом {response.status_code} не по существу событий — "
                              "проверьте адрес сервера (server_url); повтор позже")
        if response.status_code >= 400:
            if len(batch) == 1:  # the culprit itself: answered as a rejection, it goes to the rejected list
                return {"stored": [], "duplicate": [], "rejected": [{
                    "id": batch[0].event_id, "reason": f"http_{response.status_code}",
                    "message": _error_text(response)}]}
            return None
        answer: dict[str, Any] = response.json()
        self._drift_from(answer, result)
        return answer

    def _split(self, batch: Sequence[Pending], result: SyncResult) -> None:
        """Send the halves of a batch refused as a whole, down to the one event the server refuses."""
        half = len(batch) // 2
        for part in (batch[:half], batch[half:]):
            answer = self._check(self._post(part), part, result)
            if answer is None:
                self._split(part, result)
            else:
                self._settle_answer(answer, part, result)

    def _settle_answer(self, answer: dict[str, Any], batch: Sequence[Pending], result: SyncResult) -> None:
        acked = [*answer["stored"], *answer["duplicate"]]
        self._settle(acked, answer["rejected"], batch, result)
        if not acked and not answer["rejected"]:
            raise SyncFailure("сервер не ответил ни по одному событию; повтор позже")

    def _settle(self, acked: list[str], rejected: list[dict[str, Any]], batch: Sequence[Pending],
                result: SyncResult) -> None:
        """Acknowledged events leave the outbox; refused ones move to `rejected` (one transaction)."""
        now = self.clock().astimezone(UTC).replace(tzinfo=None)
        sent = {p.event_id: p for p in batch}
        refused = [r for r in rejected if isinstance(r, dict) and r.get("id") in sent]
        gone = sorted({sent[i].outbox_seq for i in acked if i in sent})
        strays = [i for i in acked if i not in sent]  # not of this batch: never expected, still honoured
        with self.engine.begin() as conn:
            if gone:
                _delete_outbox(conn, gone)
            for i in range(0, len(strays), CHUNK):
                conn.execute(delete(Outbox).where(Outbox.event_id.in_(strays[i:i + CHUNK])))
            for r in refused:
                pending = sent[r["id"]]
                conn.execute(sqlite_insert(Rejected).values(
                    event_id=r["id"], seq=pending.seq, reason=str(r.get("reason", ""))[:64],
                    message=str(r.get("message", "")), at=now).on_conflict_do_nothing())
                conn.execute(delete(Outbox).where(Outbox.seq == pending.outbox_seq))
        result.pushed += len(acked)
        result.rejected += len(refused)

    # -- pull -----------------------------------------------------------------------------------------

    def _pull(self, result: SyncResult, say: Progress, full: bool) -> None:
        with self.engine.connect() as conn:
            cursor = conn.execute(select(Meta.value).where(Meta.key == keys.CURSOR)).scalar() or ""
            outbox_from = conn.execute(select(func.min(Outbox.seq))).scalar()
            self._outbox_size = conn.execute(select(func.count()).select_from(Outbox)).scalar_one()
        say("Загрузка данных школы" + (" (полностью)" if full or not cursor else ""))
        response = self.http.post(PULL_PATH, json={"terminal_time": utc_iso(self.clock()), "cursor": cursor,
                                                   "outbox_from": outbox_from, "full": full, **self._report()})
        if response.status_code in (401, 403):
            raise AuthFailure(self._auth_message(response))
        _raise_if_busy(response)
        if response.status_code >= 400:
            raise SyncFailure(f"сервер отказал в загрузке данных (код {response.status_code}): "
                              f"{_error_text(response)}")
        body = response.json()
        self._drift_from(body, result)
        with self.engine.begin() as conn:
            result.pulled, result.applied = apply_pull(conn, body)
        result.snapshot = bool(body["snapshot"])
        say(f"Получено записей: {result.pulled}")

    # -- bookkeeping ----------------------------------------------------------------------------------

    def _drift_from(self, answer: dict[str, Any], result: SyncResult) -> None:
        """What every answer says besides its own business: the clock drift and the terminal's flags."""
        drift = answer.get("clock_drift_s")
        if isinstance(drift, int | float):
            result.drift_s = float(drift)
        flags = answer.get("terminal_flags") or []
        result.terminal_flags = sorted({f for f in flags if isinstance(f, str) and f} if isinstance(flags, list)
                                       else set())

    def _auth_message(self, response: httpx.Response) -> str:
        return f"сервер не принял токен терминала ({_error_text(response)}): обратитесь к администратору"

    def _record(self, result: SyncResult, started: datetime) -> None:
        values = {keys.SERVER_URL: self.server_url, keys.LAST_ATTEMPT_AT: utc_iso(started),
                  keys.LAST_ERROR: result.error}
        if result.drift_s is not None:
            values[keys.CLOCK_DRIFT_S] = f"{result.drift_s:.3f}"
        if result.terminal_flags is not None:
            values[keys.TERMINAL_FLAGS] = ",".join(result.terminal_flags)
        with self.engine.begin() as conn:
            if result.ok or result.retry_after_s is not None:  # busy: it answered, only asked to come back later
                values[keys.LAST_OK_AT] = utc_iso(started)
                values[keys.OFFLINE_SINCE] = ""
            else:
                offline = conn.execute(select(Meta.value).where(Meta.key == keys.OFFLINE_SINCE)).scalar()
                values[keys.OFFLINE_SINCE] = offline or utc_iso(started)
            write_meta(conn, values)
            result.waiting = conn.execute(select(func.count()).select_from(Outbox)).scalar_one()


def _with_report(body: bytes, report: dict[str, Any]) -> bytes:
    """A push body with the terminal's report in front of the events (`encode_push` writes the rest)."""
    if not report:
        return body
    return b"{" + json.dumps(report, ensure_ascii=False, separators=(",", ":")).encode()[1:-1] + b"," + body[1:]


def _response(in_flight: Future[httpx.Response]) -> httpx.Response:
    """The answer to a request in flight; a connection dropped after the request went out is the
    server failing on it (a crashed worker), not the network being down."""
    try:
        return in_flight.result()
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise ServerFailure("сервер оборвал соединение, получив события; повтор позже") from exc


def _raise_if_busy(response: httpx.Response) -> None:
    """Busy when the server answered 503 ``busy`` with a usable ``Retry-After`` (seconds or an HTTP date).
    Other 503s (its database down) stay failures: they are an outage the status line must show."""
    if response.status_code != 503:
        return
    try:
        busy = response.json().get("error") == "busy"
    except (ValueError, AttributeError):
        return
    header = response.headers.get("Retry-After", "").strip()
    if not busy or not header:
        return
    try:
        wait = float(header)
    except ValueError:
        try:
            wait = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return
    if wait == wait:  # not NaN
        raise Busy(min(max(wait, 1.0), MAX_RETRY_AFTER_S))


def _attempt(step: Callable[[], None], result: SyncResult | None = None) -> tuple[str, bool]:
    """Run one half of a sync: (Russian error or "", whether the token was refused). A busy server's
    wait goes to `result.retry_after_s`."""
    try:
        step()
    except AuthFailure as exc:
        return str(exc), True
    except Busy as exc:
        if result is not None:
            result.retry_after_s = exc.retry_after_s
        return str(exc), False
    except SyncFailure as exc:
        return str(exc), False
    except httpx.TimeoutException:
        return "сервер не ответил вовремя; повтор позже", False
    except httpx.ConnectError:
        return "нет связи с сервером (сеть или сервер недоступны); повтор позже", False
    except httpx.TransportError:
        return "связь с сервером прервалась; повтор позже", False
    except (ValueError, KeyError, TypeError):
        # Staff read this on the status line: Russian, and the Python detail goes to the log.
        log.exception("server answer not understood")
        return "ответ сервера не понят (неверный формат); проверьте адрес сервера и версию программы", False
    return "", False


def _both(push_error: str, pull_error: str) -> str:
    """One Russian line saying which half failed."""
    if push_error and push_error == pull_error:
        return f"журнал не отправлен, данные школы не загружены: {push_error}"
    parts = [f"журнал не отправлен: {push_error}" if push_error else "",
             f"данные школы не загружены: {pull_error}" if pull_error else ""]
    return "; ".join(p for p in parts if p)


def _delete_outbox(conn: Connection, seqs: list[int]) -> None:
    """Delete these outbox rows (sorted, distinct seqs): as one range when they are every integer of
    it (the usual whole acknowledged batch, so nothing else can be in it), else by primary key."""
    lo, hi = seqs[0], seqs[-1]
    if hi - lo + 1 == len(seqs):
        conn.exec_driver_sql("DELETE FROM outbox WHERE seq BETWEEN ? AND ?", (lo, hi))
    else:
        conn.exec_driver_sql("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq in seqs])


def _refused_for_content(response: httpx.Response) -> bool:
    """A 4xx in the server's own JSON error shape about the request body (too large, malformed)."""
    if response.status_code not in (400, 413, 422):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "error" in body


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:300] or response.reason_phrase
    except ValueError:
        return response.reason_phrase


def _row(table: str, data: dict[str, Any]) -> dict[str, Any]:
    row = {c: data[c] for c in PULL_TABLES[table]}
    for column in DATE_COLUMNS.get(table, frozenset()):
        if row[column] is not None:
            row[column] = date.fromisoformat(row[column])
    if table == "cards":
        row["key32"], row["key24"] = match_keys(row["uid"])
    return row


def _upsert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    pk = [c.name for c in model.__table__.primary_key]
    stmt = sqlite_insert(model)
    update = {c: stmt.excluded[c] for c in rows[0] if c not in pk}
    conn.execute(stmt.on_conflict_do_update(index_elements=pk, set_=update) if update
                 else stmt.on_conflict_do_nothing(), rows)


def apply_pull(conn: Connection, body: dict[str, Any]) -> tuple[int, bool]:
    """Apply one pull answer inside the caller's transaction; returns (rows received, data changed)."""
    snapshot = bool(body["snapshot"])
    today = date.fromisoformat(body["today"])
    for i in range(0, len(body.get("acked", [])), CHUNK):  # stored earlier, but the answer was lost
        conn.execute(delete(Outbox).where(Outbox.event_id.in_(body["acked"][i:i + CHUNK])))
    if snapshot:
        for table in WIPE_ORDER:
            conn.execute(delete(MODELS[table]))
    for table, key_rows in body.get("deleted", {}).items():
        if table not in MODELS:
            continue
        model = MODELS[table]
        pk = list(model.__table__.primary_key)
        dates = DATE_COLUMNS.get(table, frozenset())
        for key in key_rows:
            values = [date.fromisoformat(v) if c.name in dates else v for c, v in zip(pk, key, strict=True)]
            conn.execute(delete(model).where(*[c == v for c, v in zip(pk, values, strict=True)]))
    rows = {table: [_row(table, r) for r in body.get(table, [])] for table in PULL_TABLES}
    _upsert(conn, SchoolClass, rows["classes"])
    _upsert(conn, Break, rows["breaks"])
    classes = set(conn.execute(select(SchoolClass.id)).scalars())
    _upsert(conn, MealSlot, [r for r in rows["meal_slots"] if r["class_id"] in classes])
    _apply_students(conn, rows["students"])
    students = set(conn.execute(select(Student.id)).scalars())
    for table in ("cards", "entitlements"):
        _upsert(conn, MODELS[table], [r for r in rows[table] if r["student_id"] in students])
    _upsert(conn, Order, rows["orders"])
    _upsert(conn, MenuPrice, rows["menu_prices"])
    _upsert(conn, Holiday, rows["holidays"])
    _upsert(conn, MODELS["class_days_off"], rows["class_days_off"])
    _upsert(conn, MODELS["staff"], rows["staff"])
    count = sum(len(v) for v in rows.values())
    _apply_served(conn, body.get("served", []), today)
    for model in (Order, MenuPrice, MODELS["class_days_off"]):  # yesterday's rows serve no one
        conn.execute(delete(model).where(model.day < today))
    conn.execute(delete(Served).where(Served.local_date < today))
    meta = {keys.CURSOR: str(body["cursor"]), keys.DATA_AS_OF: utc_iso(parse_datetime(body["server_time"],
                                                                                        "server_time"))}
    school = body.get("school")
    if school:  # encoded as the engine's settings read them (pos.settings), in one place
        meta.update(school_meta(
            school_id=str(school["school_id"]), school_name=str(school["school_name"]),
            timezone=str(school["timezone"]), week_days=parse_week_days(str(school["week_days"])),
            policy_text=str(school["policy"]), refuse_outside_window=bool(school["refuse_outside_window"]),
            tolerance=Tolerance(int(school["window_early_min"]), int(school["window_late_min"])),
            year_starts=_iso_day(school.get("year_starts")), year_ends=_iso_day(school.get("year_ends")),
            order_deadline=str(school.get("order_deadline") or "10:00")))
        meta["terminal_id"] = str(body["terminal_id"])
    write_meta(conn, meta)
    return count + len(body.get("served", [])), bool(count or school or body.get("deleted") or snapshot)


def _iso_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _apply_students(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Students with the balance the server holds minus this terminal's debits it has not seen yet."""
    if not rows:
        return
    # Debits the server has not booked: events still waiting, and events it refused (kept for staff).
    unseen = select(Outbox.event_id).union(select(Rejected.event_id))
    pending = dict(conn.execute(
        select(Event.student_id, func.sum(Event.paid_kopecks)).where(Event.id.in_(unseen))
        .where(Event.student_id.is_not(None), Event.kind.in_(MONEY_KINDS)).group_by(Event.student_id)).tuples().all())
    gone = [r["id"] for r in rows if not r["active"]]
    for i in range(0, len(gone), CHUNK):  # left the school: nothing of theirs stays on the terminal
        chunk = gone[i:i + CHUNK]
        for model in (Card, Entitlement, Order):
            conn.execute(delete(model).where(model.student_id.in_(chunk)))
        conn.execute(delete(Student).where(Student.id.in_(chunk)))
    current = [r for r in rows if r["active"]]
    for r in current:
        r["balance_kopecks"] = r["balance_kopecks"] - int(pending.get(r["id"], 0) or 0)
    _upsert(conn, Student, current)


def _apply_served(conn: Connection, served: list[dict[str, Any]], today: date) -> None:
    """Meals served at the other windows today, so a second tap here is refused as already served."""
    rows, undone = [], []
    for s in served:
        if s["kind"] == EventKind.REVERSAL:
            if s.get("ref_event_id"):
                undone.append(s["ref_event_id"])
        elif s.get("meal") and date.fromisoformat(s["local_date"]) == today:
            rows.append({"student_id": s["student_id"], "local_date": today, "meal": s["meal"], "event_id": s["id"],
                         "at_utc": parse_datetime(s["at_utc"], "at_utc"), "paid_kopecks": int(s["paid_kopecks"]),
                         "free_kopecks": int(s["free_kopecks"])})
    if rows:
        # A serve undone here since the push: the reversal travels with the next push; don't bring it back.
        ids = [r["event_id"] for r in rows]
        reversed_here = set()
        for i in range(0, len(ids), CHUNK):
            reversed_here |= set(conn.execute(select(Event.ref_event_id).where(
                Event.kind == EventKind.REVERSAL, Event.ref_event_id.in_(ids[i:i + CHUNK]))).scalars())
        rows = [r for r in rows if r["event_id"] not in reversed_here]
    if rows:
        conn.execute(sqlite_insert(Served).on_conflict_do_nothing(), rows)
    for i in range(0, len(undone), CHUNK):  # after the inserts: a serve and its reversal may come together
        conn.execute(delete(Served).where(Served.event_id.in_(undone[i:i + CHUNK])))


def reset_store(engine: Engine) -> None:
    """Forget the school's data and the cursor (re-provisioning); refused while events wait to be sent."""
    with engine.begin() as conn:
        waiting = conn.execute(select(func.count()).select_from(Outbox)).scalar_one()
        if waiting:
            raise SyncFailure(f"нельзя сбросить терминал: {waiting} событий ещё не отправлены на сервер")
        refused = conn.execute(select(func.count()).select_from(Rejected)).scalar_one()
        if refused:
            raise SyncFailure(f"нельзя сбросить терминал: {refused} событий отклонены сервером и ждут разбора "
                              "(canteen sync status; после исправления — canteen sync requeue)")
        for table in WIPE_ORDER:
            conn.execute(delete(MODELS[table]))
        conn.execute(delete(Served))
        conn.execute(delete(Meta).where(Meta.key.in_([keys.CURSOR, keys.TOKEN_TERMINAL, keys.DATA_AS_OF,
                                                      "policy", "terminal_id"])))


def requeue_rejected(engine: Engine) -> int:
    """Put the events the server refused back into the outbox (after the cause was fixed); returns how many."""
    with engine.begin() as conn:
        rows = conn.execute(select(Rejected.seq, Rejected.event_id)).all()
        if rows:
            conn.execute(sqlite_insert(Outbox).on_conflict_do_nothing(),
                         [{"seq": seq, "event_id": event_id} for seq, event_id in rows])
            conn.execute(delete(Rejected))
    return len(rows)
