"""A student's personal account as the office sees it: the statement and the meals received.

Both are derived from what the server stores — `topups` and the terminals' `events` — by the ledger's
rules (`pos.ledger`): a serve debits what it paid, a reversal gives it back, a reversal cancels its serve.
No second money rule lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from pos.domain import Meal
from pos.ledger import MONEY_KINDS, EventKind, balance_delta, cancelled, counts_as_served
from server.models import Event, School, Student, TopUp


@dataclass(frozen=True)
class Entry:
    """One line of a statement: a top-up, a debit for a meal, a refund of a cancelled one."""

    at: datetime  # school-local time
    kind: str  # "opening" | "topup" | "debit" | "refund"
    text: str  # Russian
    amount_kopecks: int  # signed: what it did to the balance
    balance_kopecks: int  # the balance after it
    reference: str = ""  # the payment document or the event id


def _meal(meal: str | None) -> str:
    try:
        return Meal(meal or "").ru
    except ValueError:
        return meal or "питание"


def statement(conn: Connection, school_id: str, student_id: str) -> list[Entry]:
    """Every money movement of the account, oldest first, with the running balance.

    It ends at the stored balance: if the account held money before the first recorded movement
    (an opening balance carried over), an «остаток» line says so first.
    """
    tz = ZoneInfo(conn.execute(select(School.timezone).where(School.id == school_id)).scalar_one())
    moves: list[tuple[datetime, str, str, int, str]] = []
    for ref, amount, paid_at in conn.execute(select(TopUp.reference, TopUp.amount_kopecks, TopUp.paid_at).where(
            TopUp.school_id == school_id, TopUp.student_id == student_id)):
        moves.append((paid_at, "topup", "Пополнение счёта", int(amount), ref))
    for row in conn.execute(select(Event.id, Event.kind, Event.at_utc, Event.meal, Event.paid_kopecks).where(
            Event.school_id == school_id, Event.student_id == student_id, Event.kind.in_(MONEY_KINDS))):
        delta = balance_delta(row.kind, row.paid_kopecks)
        if not delta:
            continue
        local = row.at_utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
        if row.kind == EventKind.REVERSAL:
            moves.append((local, "refund", f"Возврат: отменена выдача ({_meal(row.meal)})", delta, row.id))
        else:
            moves.append((local, "debit", f"Оплата: {_meal(row.meal)}", delta, row.id))
    moves.sort(key=lambda m: (m[0], m[4]))
    stored = conn.execute(select(Student.balance_kopecks).where(
        Student.school_id == school_id, Student.id == student_id)).scalar_one()
    balance = int(stored) - sum(m[3] for m in moves)
    entries = []
    if balance:
        first = moves[0][0] if moves else datetime.now()
        entries.append(Entry(first, "opening", "Остаток на начало", balance, balance))
    for at, kind, text, amount, ref in moves:
        balance += amount
        entries.append(Entry(at, kind, text, amount, balance, ref))
    return entries


@dataclass(frozen=True)
class MealReceived:
    day: date
    meal: str
    paid_kopecks: int
    free_kopecks: int
    kind: str  # serve or override (staff served against a refusal)


def meals_received(conn: Connection, school_id: str, student_id: str, start: date, end: date) -> list[MealReceived]:
    """The meals the student received in [start, end]: serves and overrides not cancelled by a reversal."""
    rows = conn.execute(select(Event.id, Event.kind, Event.ref_event_id, Event.local_date, Event.meal,
                               Event.paid_kopecks, Event.free_kopecks, Event.at_utc).where(
        Event.school_id == school_id, Event.student_id == student_id, Event.kind.in_(MONEY_KINDS),
        Event.local_date >= start).order_by(Event.at_utc)).all()  # a later reversal still cancels
    gone = cancelled((r.id, r.kind, r.ref_event_id) for r in rows)
    return [MealReceived(r.local_date, r.meal or "", r.paid_kopecks, r.free_kopecks, r.kind)
            for r in rows if counts_as_served(r.kind) and r.id not in gone and r.local_date <= end]
