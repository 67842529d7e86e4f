"""The serving window's use cases — tap, serve by hand, override, undo — as functions of a command and
a unit of work, each one durable transaction.

A use case gathers the facts (`pos.gather`, `pos.lookup`), asks `pos.decide` for the verdict, and
writes the journal event, its outbox row and the derived `served` row in the same ``BEGIN IMMEDIATE``
transaction (`UnitOfWork.record`). The verdict is returned only after COMMIT: a meal shown as served
is already on disk.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from drivers.card import CardIdError, CardRead, parse_card_id
from pos import decide as rules
from pos import journal, lookup
from pos.cards import CardMatch, CardStatus
from pos.decide import Verdict
from pos.domain import Meal
from pos.gather import gather
from pos.ledger import EventKind, join_flags
from pos.reference import Reference
from pos.store import StoreError, explain_sqlite_error

# A second tap of the same card for the same meal within this gets the first tap's verdict again, not
# "already served": a child taps twice, or two readers see one card. Unlike the reader's debounce
# (`drivers.debounce.Debouncer`, 1.5 s of one physical presentation, on the reader's monotonic clock,
# dropping the repeat), this spans every reader and typed numbers, runs on the serving clock, and
# answers the repeat: it is longer so that a repeat the reader let through still lands inside it.
REPEAT_TAP_WINDOW = timedelta(seconds=2)


@dataclass(frozen=True)
class Tap:
    read: CardRead
    now: datetime  # aware
    meal: Meal | None = None  # chosen by hand; None: by the schedule
    staff: str = ""  # who is serving at the window: recorded on every event, taps included


@dataclass(frozen=True)
class TapText:
    text: str  # a card number typed or read as text
    now: datetime
    reader_id: str = "manual"
    meal: Meal | None = None
    staff: str = ""


@dataclass(frozen=True)
class ServeByHand:
    student_id: str
    reason: str
    now: datetime
    staff: str = ""
    meal: Meal | None = None


@dataclass(frozen=True)
class Override:
    refused: Verdict
    reason: str
    now: datetime
    staff: str = ""


@dataclass(frozen=True)
class Undo:
    now: datetime
    staff: str = ""
    reason: str = ""
    expected: str | None = None  # the serve the staff confirmed; another one is never reversed in its place


class RecentTaps:
    """The verdict of each card's last tap, for `REPEAT_TAP_WINDOW`."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._last: dict[tuple[str, Meal | None], tuple[datetime, Verdict]] = {}

    def repeat(self, uid: str, meal: Meal | None, local: datetime) -> Verdict | None:
        previous = self._last.get((uid, meal))
        return previous[1] if previous and abs(local - previous[0]) < self.window else None

    def remember(self, uid: str, meal: Meal | None, local: datetime, verdict: Verdict) -> None:
        self._last[(uid, meal)] = (local, verdict)
        if len(self._last) > 512:
            self._last = {k: v for k, v in self._last.items() if local - v[0] < self.window}


class UnitOfWork:
    """The store, and what serving keeps between taps: the reference data, the journal's latest time,
    the recent taps. One use case at a time (a lock): the window has one queue."""

    def __init__(self, engine: Engine, *, repeat_window: timedelta = REPEAT_TAP_WINDOW) -> None:
        self.engine = engine
        self.lock = threading.RLock()
        self.recent = RecentTaps(repeat_window)
        self.reload()

    def reload(self) -> None:
        """Re-read the reference data (after a sync changed it)."""
        try:
            with self.engine.begin() as conn:
                reference = Reference.load(conn)
                last = lookup.last_event_at(conn)
        except DBAPIError as exc:
            raise StoreError(explain_sqlite_error(exc)) from exc
        with self.lock:
            self.reference, self.last_event_at = reference, last

    def run(self, work: Callable[[Connection], Verdict]) -> Verdict:
        """`work` in one write transaction; a store error is a verdict that records nothing."""
        with self.lock:
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except (DBAPIError, sqlite3.Error) as exc:
                return rules.store_error(explain_sqlite_error(exc))

    def record(self, conn: Connection, verdict: Verdict, local: datetime, *, kind: EventKind, source: str,
               staff: str = "", note: str = "", ref: str | None = None) -> Verdict:
        """Journal `verdict` (marked if the clock went back) and return it with its event id."""
        now_utc = local.astimezone(UTC)
        verdict = rules.clock_back(verdict, now_utc, self.last_event_at)
        entry = journal.Entry(
            id=uuid.uuid4().hex, terminal_id=self.reference.settings.terminal_id, kind=kind,
            at_utc=now_utc.replace(tzinfo=None), local_date=local.date(),
            student_id=verdict.student.id if verdict.student else None,
            card_uid=verdict.card_uid, meal=verdict.meal.value if verdict.meal else None,
            outcome=verdict.outcome.value, reason=verdict.reason.value, message=verdict.message,
            paid_kopecks=verdict.paid_kopecks, free_kopecks=verdict.free_kopecks, budget_line=verdict.budget_line,
            free_category=verdict.free_category, free_rule=verdict.free_rule,
            ref_event_id=ref, source=source, staff=staff[: journal.STAFF_MAX], note=note[: journal.NOTE_MAX],
            flags=join_flags(verdict.flags),
        )
        journal.append(conn, entry)
        if self.last_event_at is None or now_utc > self.last_event_at:
            self.last_event_at = now_utc
        return verdict.with_event(entry.id)


def _served_or_refused(verdict: Verdict) -> EventKind:
    return EventKind.SERVE if verdict.served else EventKind.REFUSE


def tap(cmd: Tap, uow: UnitOfWork) -> Verdict:
    """A card at the reader: match it, decide, journal; a repeat within the window gets the same verdict."""
    uid, local = cmd.read.uid, uow.reference.local(cmd.now)
    with uow.lock:
        repeat = uow.recent.repeat(uid, cmd.meal, local)
        if repeat is not None:
            return repeat

        def work(conn: Connection) -> Verdict:
            situation = gather(conn, uow.reference, local, lookup.find_card(conn, uid), cmd.meal)
            verdict = replace(rules.decide(situation), card_uid=uid)
            return uow.record(conn, verdict, local, kind=_served_or_refused(verdict), source="card",
                              staff=cmd.staff)

        verdict = uow.run(work)
        if verdict.reason is not rules.Reason.STORE_ERROR:  # a retry after a store error must really retry
            uow.recent.remember(uid, cmd.meal, local, verdict)
        return verdict


def tap_text(cmd: TapText, uow: UnitOfWork) -> Verdict:
    """A card number typed or read as text; a garbled one is refused, not journaled."""
    try:
        uid = parse_card_id(cmd.text)
    except CardIdError:
        return rules.bad_card_read(cmd.text)
    return tap(Tap(CardRead(uid=uid, raw=cmd.text.encode(), reader_id=cmd.reader_id), cmd.now, cmd.meal, cmd.staff),
               uow)


def serve_by_hand(cmd: ServeByHand, uow: UnitOfWork) -> Verdict:
    """A forgotten card: the same decision, the student found by name, recorded as served by hand."""
    local = uow.reference.local(cmd.now)

    def work(conn: Connection) -> Verdict:
        situation = gather(conn, uow.reference, local, CardMatch(CardStatus.OK, cmd.student_id), cmd.meal)
        verdict = rules.served_by_hand(rules.decide(situation), cmd.reason)
        return uow.record(conn, verdict, local, kind=_served_or_refused(verdict), source="manual", staff=cmd.staff,
                          note=cmd.reason)

    return uow.run(work)


def override(cmd: Override, uow: UnitOfWork) -> Verdict:
    """Serve in spite of a refusal, with the staff member's reason; no debit, no budget claim."""
    checked = rules.override(cmd.refused, cmd.reason)
    if not checked.served:  # nothing to ask the store
        return checked
    local = uow.reference.local(cmd.now)
    refused_id = cmd.refused.event_id

    def work(conn: Connection) -> Verdict:
        already = refused_id is not None and lookup.overridden(conn, refused_id)
        verdict = rules.override(cmd.refused, cmd.reason, already_overridden=already)
        if not verdict.served:
            return verdict
        return uow.record(conn, verdict, local, kind=EventKind.OVERRIDE, source="override", staff=cmd.staff,
                          note=cmd.reason, ref=refused_id)

    return uow.run(work)


def undo(cmd: Undo, uow: UnitOfWork) -> Verdict:
    """Reverse this window's last meal served: a reversal event, never a deletion.

    Only a serve of today made in the last `UNDO_WINDOW` can be undone: undo is for the mistake just
    made at the counter; older corrections are the coordinator's, on the server.
    """
    local = uow.reference.local(cmd.now)

    def work(conn: Connection) -> Verdict:
        last = lookup.last_serve(conn, uow.reference.settings.terminal_id, local.date(), rules.undo_since(local))
        student = lookup.student(conn, last.student_id)[0] if last and last.student_id else None
        verdict = rules.undo(last, student, uow.reference.tz, expected=cmd.expected)
        if last is None or verdict.action_refused:
            return verdict
        return uow.record(conn, verdict, local, kind=EventKind.REVERSAL, source="undo", staff=cmd.staff,
                          note=cmd.reason, ref=last.id)

    return uow.run(work)


def undoable(now: datetime, uow: UnitOfWork) -> Verdict | None:
    """What `undo` would reverse now (student, meal, time), for the confirmation dialog."""
    local = uow.reference.local(now)
    with uow.engine.connect() as conn:
        last = lookup.last_serve(conn, uow.reference.settings.terminal_id, local.date(), rules.undo_since(local))
        student = lookup.student(conn, last.student_id)[0] if last and last.student_id else None
    return rules.undo_preview(last, student, uow.reference.tz) if last else None
