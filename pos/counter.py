"""The serving window's use cases: tap, serve by hand, override, undo — each one durable transaction.

A tap reads what the decision needs, decides (`pos.decide`), and writes the journal event, its
outbox row and the derived `served` row in the same ``BEGIN IMMEDIATE`` transaction. The verdict
is returned only after COMMIT: a meal shown as served is already on disk.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, exists, func, insert, select
from sqlalchemy.exc import DBAPIError

from drivers.card import CardIdError, CardRead, parse_card_id
from pos import journal, lookup
from pos.decide import CardStatus, Outcome, Reason, Situation, Verdict, decide, refuse
from pos.domain import Meal
from pos.ledger import SERVED_KINDS, EventKind, Flag, join_flags
from pos.models import (
    Break,
    Event,
    Holiday,
    MealSlot,
    MenuPrice,
    Meta,
)
from pos.policy import Policy, parse_policy
from pos.store import StoreError, explain_sqlite_error

CLOCK_BACK_TOLERANCE = timedelta(minutes=1)
UNDO_WINDOW = timedelta(minutes=15)
ANY_DAY = date(2000, 1, 3)  # to shift a break's clock times by minutes


@dataclass(frozen=True)
class Settings:
    """The terminal's school settings, kept in the `meta` table (written by sync or the demo)."""

    terminal_id: str
    school_id: str
    school_name: str
    timezone: str
    week_days: frozenset[int]  # ISO weekdays the school serves: 1 = Monday
    window_early_min: int
    window_late_min: int
    refuse_outside_window: bool
    policy: Policy

    @classmethod
    def load(cls, conn: Connection) -> Settings:
        meta = dict(conn.execute(select(Meta.key, Meta.value)).tuples().all())
        if "policy" not in meta:
            raise StoreError("терминал не настроен: нет данных школы (выполните синхронизацию или демо)")
        return cls(
            terminal_id=meta.get("terminal_id", "T-UNSET"),
            school_id=meta.get("school_id", ""),
            school_name=meta.get("school_name", ""),
            timezone=meta.get("timezone", "Europe/Moscow"),
            week_days=frozenset(int(d) for d in meta.get("week_days", "1,2,3,4,5").split(",")),
            window_early_min=int(meta.get("window_early_min", "10")),
            window_late_min=int(meta.get("window_late_min", "10")),
            refuse_outside_window=meta.get("refuse_outside_window", "0") == "1",
            policy=parse_policy(meta["policy"], f"policy:{meta.get('school_id', '')}"),
        )


def write_meta(conn: Connection, values: Mapping[str, str]) -> None:
    for key, value in values.items():
        conn.execute(delete(Meta).where(Meta.key == key))
        conn.execute(insert(Meta).values(key=key, value=value))


@dataclass(frozen=True)
class Slot:
    meal: Meal
    starts: time
    ends: time
    label: str


class Counter:
    """One serving window's engine over its local store. Thread-safe: one tap at a time."""

    def __init__(self, engine: Engine, *, debounce_s: float = 2.0) -> None:
        self.engine = engine
        self.debounce = timedelta(seconds=debounce_s)
        self._lock = threading.Lock()
        self._last_tap: dict[tuple[str, Meal | None], tuple[datetime, Verdict]] = {}
        self.reload()

    # -- cached reference data ------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read settings and the schedule (after a sync changed them)."""
        try:
            with self.engine.begin() as conn:
                self.settings = Settings.load(conn)
                breaks = {(b.shift, b.number): b for b in conn.execute(select(Break)).all()}
                early = timedelta(minutes=self.settings.window_early_min)
                late = timedelta(minutes=self.settings.window_late_min)
                self._slots: dict[str, list[Slot]] = {}
                for class_id, meal, shift, number in conn.execute(
                    select(MealSlot.class_id, MealSlot.meal, MealSlot.shift, MealSlot.break_no)
                ):
                    b = breaks.get((shift, number))
                    if b is None:
                        continue
                    label = f"на {number}-й перемене {'I' * shift} смены {b.starts}–{b.ends}"
                    starts = (datetime.combine(ANY_DAY, time.fromisoformat(b.starts)) - early).time()
                    ends = (datetime.combine(ANY_DAY, time.fromisoformat(b.ends)) + late).time()
                    self._slots.setdefault(class_id, []).append(Slot(Meal(meal), starts, ends, label))
                self._holidays = set(conn.execute(select(Holiday.day)).scalars())
                self._prices: dict[date, dict[Meal, int]] = {}
                last = conn.execute(select(func.max(Event.at_utc))).scalar()
                self._last_event_at: datetime | None = last
        except DBAPIError as exc:
            raise StoreError(explain_sqlite_error(exc)) from exc
        self.tz = ZoneInfo(self.settings.timezone)

    @property
    def terminal_id(self) -> str:
        return self.settings.terminal_id

    def local(self, now: datetime | None) -> datetime:
        """`now` (aware; default the wall clock) in the school's time zone."""
        return (now or datetime.now(UTC)).astimezone(self.tz)

    def is_school_day(self, day: date) -> bool:
        return day.isoweekday() in self.settings.week_days and day not in self._holidays

    def slots(self, class_id: str) -> list[Slot]:
        return self._slots.get(class_id, [])

    # -- use cases --------------------------------------------------------------------------------

    def tap_text(self, text: str, *, reader_id: str = "manual", now: datetime | None = None,
                 meal: Meal | None = None) -> Verdict:
        """A card number typed or read as text; a garbled one is refused, not journaled."""
        try:
            uid = parse_card_id(text)
        except CardIdError:
            return refuse(Reason.BAD_CARD_READ, f"Номер карты не распознан: «{text.strip()[:40]}» — приложите ещё раз")
        return self.tap(CardRead(uid=uid, raw=text.encode(), reader_id=reader_id), now=now, meal=meal)

    def tap(self, read: CardRead, *, now: datetime | None = None, meal: Meal | None = None) -> Verdict:
        local = self.local(now)
        key = (read.uid, meal)
        with self._lock:
            previous = self._last_tap.get(key)
            if previous and abs(local - previous[0]) < self.debounce:
                return previous[1]
            verdict = self._run(lambda conn: self._tap(conn, read.uid, local, meal))
            if verdict.reason is not Reason.STORE_ERROR:  # a retry after a store error must really retry
                self._last_tap[key] = (local, verdict)
            if len(self._last_tap) > 512:
                self._last_tap = {k: v for k, v in self._last_tap.items() if local - v[0] < self.debounce}
            return verdict

    def serve_by_hand(self, student_id: str, *, reason: str, staff: str = "", now: datetime | None = None,
                      meal: Meal | None = None) -> Verdict:
        """A forgotten card: the same decision, found by name, recorded as served by hand."""
        local = self.local(now)
        with self._lock:
            return self._run(lambda conn: self._decide_and_record(
                conn, local, meal, student_id=student_id, card_uid=None, source="manual", staff=staff,
                note=reason))

    def override(self, refused: Verdict, *, reason: str, staff: str = "", now: datetime | None = None) -> Verdict:
        """Serve in spite of a refusal, with the staff member's reason; no debit, no budget claim."""
        if refused.served or refused.student is None or refused.meal is None:
            return refuse(Reason.OVERRIDE, "Отменять нечего: выберите отказ с учеником")
        if not reason.strip():
            return refuse(Reason.OVERRIDE, "Укажите причину выдачи вопреки отказу", None)
        local = self.local(now)
        student, meal = refused.student, refused.meal
        verdict = Verdict(
            Outcome.SERVE_FREE, Reason.OVERRIDE, f"Выдано по решению сотрудника: {meal.ru}",
            meal=meal, student=student, balance_after_kopecks=student.balance_kopecks,
            warnings=(f"Вопреки отказу «{refused.message}». Причина: {reason}",), card_uid=refused.card_uid,
        )
        def record(conn: Connection) -> Verdict:
            if refused.event_id and conn.execute(select(exists().where(
                    Event.ref_event_id == refused.event_id, Event.kind == EventKind.OVERRIDE))).scalar():
                return refuse(Reason.OVERRIDE, "Этот отказ уже отменён решением сотрудника", None)
            return self._record(conn, verdict, local, kind=EventKind.OVERRIDE, source="override", staff=staff,
                                note=reason, ref=refused.event_id)

        with self._lock:
            return self._run(record)

    def undo_last(self, *, staff: str = "", reason: str = "", now: datetime | None = None) -> Verdict:
        """Reverse the last meal served at this window: a reversal event, never a deletion.

        Only a serve of today made in the last `UNDO_WINDOW` can be undone: undo is for the mistake
        just made at the counter; older corrections are the coordinator's, on the server.
        """
        local = self.local(now)
        with self._lock:
            return self._run(lambda conn: self._undo(conn, local, staff, reason))

    def undoable(self, *, now: datetime | None = None) -> Verdict | None:
        """What `undo_last` would reverse now (student, meal, time), for the confirmation dialog."""
        local = self.local(now)
        with self.engine.connect() as conn:
            last = self._last_serve(conn, local)
            if last is None:
                return None
            student = lookup.student(conn, last.student_id)[0] if last.student_id else None
        meal = Meal(last.meal) if last.meal else None
        at = last.at_utc.replace(tzinfo=UTC).astimezone(self.tz)
        return Verdict(Outcome.SERVE_FREE, Reason.OK, f"{meal.ru if meal else ''} в {at:%H:%M}", meal=meal,
                       student=student, event_id=last.id, card_uid=last.card_uid)

    def checkpoint(self) -> tuple[int, int]:
        """Copy the WAL back into the database file while the window is idle (PASSIVE: never waits
        for, nor blocks, a tap). The store checkpoints by itself only every `WAL_AUTOCHECKPOINT_PAGES`,
        so this keeps that rare large checkpoint from landing on a child's tap. Returns the WAL's frames
        and how many of them are now in the database file."""
        raw = self.engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
        try:
            db = raw.driver_connection
            assert isinstance(db, sqlite3.Connection)
            _busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            raw.close()
        return int(frames), int(copied)

    # -- internals --------------------------------------------------------------------------------

    def _run(self, work: Any) -> Verdict:
        try:
            with self.engine.begin() as conn:
                verdict: Verdict = work(conn)
                return verdict
        except (DBAPIError, sqlite3.Error) as exc:
            return refuse(Reason.STORE_ERROR, f"Не записано: {explain_sqlite_error(exc)}. Повторите; если не "
                          "проходит — вызовите администратора")

    def _tap(self, conn: Connection, uid: str, local: datetime, meal: Meal | None) -> Verdict:
        card = lookup.find_card(conn, uid)
        if card.status is not CardStatus.OK or card.student_id is None:
            known = lookup.student(conn, card.student_id)[0] if card.student_id else None
            verdict = decide(Situation(now=local, policy=self.settings.policy, meal=meal or Meal.BREAKFAST,
                                       card_status=card.status, card_note=card.note, student=known))
            return self._record(conn, replace(verdict, card_uid=uid), local, kind=EventKind.REFUSE)
        return self._decide_and_record(conn, local, meal, student_id=card.student_id, card_uid=uid, source="card")

    def _resolve_meal(self, class_id: str | None, local: datetime, day: lookup.Day) -> Meal:
        """The meal this student is here for: the class's slot now, else the nearest one, else the order."""
        slots = self.slots(class_id) if class_id else []
        if slots:
            now_t = local.time()
            for slot in slots:
                if slot.starts <= now_t <= slot.ends:
                    return slot.meal
            minutes = local.hour * 60 + local.minute

            def distance(slot: Slot) -> int:
                lo, hi = slot.starts.hour * 60 + slot.starts.minute, slot.ends.hour * 60 + slot.ends.minute
                return max(lo - minutes, minutes - hi, 0)

            return min(slots, key=distance).meal
        return next((m for m in Meal if m in day.ordered and m not in day.served), Meal.BREAKFAST)

    def _decide_and_record(self, conn: Connection, local: datetime, meal: Meal | None, *, student_id: str,
                           card_uid: str | None, source: str, staff: str = "", note: str = "") -> Verdict:
        today = local.date()
        student, class_id = lookup.student(conn, student_id)
        day = lookup.student_day(conn, student_id, today)
        meal = meal or self._resolve_meal(class_id, local, day)
        categories, lapsed = lookup.entitlements(conn, student_id, today)
        slot = next((s for s in self.slots(class_id) if s.meal is meal), None) if class_id else None
        situation = Situation(
            now=local, policy=self.settings.policy, meal=meal, student=student,
            school_day=self.is_school_day(today), ordered=meal in day.ordered, categories=categories,
            lapsed=lapsed, served={m: at.astimezone(self.tz) for m, at in day.served.items()},
            free_used_kopecks=day.free_used_kopecks, paid_today_kopecks=day.paid_kopecks,
            window=(slot.starts, slot.ends) if slot else None, window_label=slot.label if slot else "",
            refuse_outside_window=self.settings.refuse_outside_window,
            menu_price_kopecks=self._menu_price(conn, today, meal),
        )
        verdict = replace(decide(situation), card_uid=card_uid)
        if source == "manual" and verdict.served:
            verdict = replace(verdict, warnings=(*verdict.warnings, f"Выдано без карты: {note}"))
        kind = EventKind.SERVE if verdict.served else EventKind.REFUSE
        return self._record(conn, verdict, local, kind=kind, source=source, staff=staff, note=note)

    def _menu_price(self, conn: Connection, day: date, meal: Meal) -> int | None:
        if day not in self._prices:
            self._prices[day] = {Meal(m): p for m, p in conn.execute(
                select(MenuPrice.meal, MenuPrice.price_kopecks).where(MenuPrice.day == day))}
        return self._prices[day].get(meal)

    def _record(self, conn: Connection, verdict: Verdict, local: datetime, *, kind: EventKind, source: str = "card",
                staff: str = "", note: str = "", ref: str | None = None) -> Verdict:
        now_utc = local.astimezone(UTC).replace(tzinfo=None)
        flags: list[str] = list(verdict.flags)
        if self._last_event_at is not None and now_utc < self._last_event_at - CLOCK_BACK_TOLERANCE:
            flags.append(Flag.CLOCK_BACK)
            verdict = replace(verdict, warnings=(
                *verdict.warnings, "Часы терминала ушли назад: проверьте время (запись сохранена)"))
        entry = journal.Entry(
            id=uuid.uuid4().hex, terminal_id=self.settings.terminal_id, kind=kind, at_utc=now_utc,
            local_date=local.date(), student_id=verdict.student.id if verdict.student else None,
            card_uid=verdict.card_uid, meal=verdict.meal.value if verdict.meal else None,
            outcome=verdict.outcome.value, reason=verdict.reason.value, message=verdict.message,
            paid_kopecks=verdict.paid_kopecks, free_kopecks=verdict.free_kopecks, budget_line=verdict.budget_line,
            ref_event_id=ref, source=source, staff=staff[: journal.STAFF_MAX], note=note[: journal.NOTE_MAX],
            flags=join_flags(flags),
        )
        journal.append(conn, entry)
        if self._last_event_at is None or now_utc > self._last_event_at:
            self._last_event_at = now_utc
        return verdict.with_event(entry.id)

    def _last_serve(self, conn: Connection, local: datetime) -> Any:
        """This window's last serve of today within the undo window that is not yet reversed."""
        reversal = Event.__table__.alias("r")
        since = (local - UNDO_WINDOW).astimezone(UTC).replace(tzinfo=None)
        return conn.execute(
            select(Event.id, Event.student_id, Event.meal, Event.at_utc, Event.paid_kopecks, Event.free_kopecks,
                   Event.budget_line, Event.card_uid)
            .where(Event.kind.in_(SERVED_KINDS), Event.terminal_id == self.terminal_id,
                   Event.local_date == local.date(), Event.at_utc >= since,
                   ~exists().where(reversal.c.ref_event_id == Event.id, reversal.c.kind == EventKind.REVERSAL))
            .order_by(Event.seq.desc()).limit(1)).first()

    def _undo(self, conn: Connection, local: datetime, staff: str, reason: str) -> Verdict:
        last = self._last_serve(conn, local)
        if last is None:
            minutes = int(UNDO_WINDOW.total_seconds() // 60)
            return refuse(Reason.NOTHING_TO_UNDO, f"Нечего отменять: за последние {minutes} минут выдач не было")
        student = lookup.student(conn, last.student_id)[0] if last.student_id else None
        meal = Meal(last.meal) if last.meal else None
        served_at = last.at_utc.replace(tzinfo=UTC).astimezone(self.tz)
        verdict = Verdict(
            Outcome.REFUSE, Reason.REVERSAL, f"Отменена выдача: {meal.ru if meal else ''} в {served_at:%H:%M}",
            meal=meal, student=student, paid_kopecks=-last.paid_kopecks, free_kopecks=-last.free_kopecks,
            budget_line=last.budget_line, card_uid=last.card_uid,
            balance_after_kopecks=student.balance_kopecks + last.paid_kopecks if student else None,
        )
        return self._record(conn, verdict, local, kind=EventKind.REVERSAL, source="undo", staff=staff, note=reason,
                            ref=last.id)
