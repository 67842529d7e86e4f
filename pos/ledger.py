"""The ledger: what a journal event is, what counts as served, what moves money, what a reversal cancels.

One module holds these rules; the journal, the counter, the sync client, the server's ingest, the
pull and the mismatch report all ask it, so the terminal and the server cannot disagree about money.

- A **serve** or an **override** is a meal given; a serve may debit the account (`paid_kopecks`) and
  claim a budget line (`free_kopecks`); an override claims nothing (staff served against a refusal).
- A **refusal** is recorded for the review and moves nothing.
- A **reversal** cancels one serve or override (`ref_event_id`) with the opposite amounts: the account
  gets `paid_kopecks` back. A serve is reversed at most once.

Money never carries a sign the kind does not allow, and never more than any meal could cost
(`MAX_MEAL_KOPECKS`): a value outside that is garbage or forgery, and the server refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class EventKind(StrEnum):
    SERVE = "serve"
    REFUSE = "refuse"
    OVERRIDE = "override"
    REVERSAL = "reversal"


class Flag(StrEnum):
    """Marks an event carries for the review. The terminal sets the first two, the server the rest."""

    COPAY_UNPAID = "copay_unpaid"  # served free over the daily cap; the top-up could not be paid
    CLOCK_BACK = "clock_back"  # the terminal's clock went backwards before this event
    UNKNOWN_STUDENT = "unknown_student"  # the server has no such student in the school
    UNKNOWN_CARD = "unknown_card"  # ... nor such a card (by the terminal's matching rule)
    STALE_DATA = "stale_data"  # served long after the terminal's last pull
    CLONE = "clone"  # another device sent the same terminal and sequence number: one token on two devices
    FOREIGN_REVERSAL = "foreign_reversal"  # a reversal made at another window than the serve


SERVED_KINDS = frozenset({EventKind.SERVE, EventKind.OVERRIDE})
MONEY_KINDS = frozenset({EventKind.SERVE, EventKind.OVERRIDE, EventKind.REVERSAL})
# No school meal costs more than this (3 000 ₽); a larger amount on an event is garbage or forgery.
MAX_MEAL_KOPECKS = 300_000
FLAGS_MAX = 200  # characters of the comma-joined flags, as the journal stores them


def counts_as_served(kind: str) -> bool:
    """A meal was given (unless a reversal cancels it later)."""
    return kind in SERVED_KINDS


def balance_delta(kind: str, paid_kopecks: int) -> int:
    """What the event does to the personal account: a serve debits, a reversal credits back."""
    return -paid_kopecks if kind in MONEY_KINDS else 0


def join_flags(flags: Iterable[str]) -> str:
    """Flags as the journal stores them: comma-joined, each once, in the order given."""
    return ",".join(dict.fromkeys(f for f in flags if f))


def split_flags(text: str) -> frozenset[str]:
    return frozenset(f for f in text.split(",") if f)


def amount_problem(kind: str, paid_kopecks: int, free_kopecks: int) -> str | None:
    """Why these amounts cannot be on an event of this kind (Russian), or None when they can."""
    if kind == EventKind.REFUSE:
        if paid_kopecks or free_kopecks:
            return "отказ не может списывать или начислять деньги"
        return None
    if kind == EventKind.REVERSAL:
        paid_kopecks, free_kopecks = -paid_kopecks, -free_kopecks
    if paid_kopecks < 0 or free_kopecks < 0:
        sign = "положительной" if kind == EventKind.REVERSAL else "отрицательной"
        return f"сумма не может быть {sign} для события вида {kind}"
    if paid_kopecks > MAX_MEAL_KOPECKS or free_kopecks > MAX_MEAL_KOPECKS:
        return f"сумма больше {MAX_MEAL_KOPECKS // 100} ₽: столько не стоит ни одно питание"
    if kind == EventKind.OVERRIDE and (paid_kopecks or free_kopecks):
        return "выдача по решению сотрудника не списывает и не начисляет деньги"
    return None


@dataclass(frozen=True)
class Booked:
    """What the ledger needs to know of a stored serve or override to judge its reversal."""

    id: str
    kind: str
    terminal_id: str
    student_id: str | None
    meal: str | None
    paid_kopecks: int
    free_kopecks: int


def reversal_problem(*, student_id: str | None, paid_kopecks: int, free_kopecks: int, target: Booked | None,
                     already_reversed: bool) -> str | None:
    """Why a reversal cannot cancel `target` (Russian), or None when it can."""
    if target is None:
        return "отменяемая выдача не найдена в этой школе"
    if not counts_as_served(target.kind):
        return "отменить можно только выдачу"
    if already_reversed:
        return "эта выдача уже отменена"
    if target.student_id != student_id:
        return "отмена относится к другому ученику, чем выдача"
    if (paid_kopecks, free_kopecks) != (-target.paid_kopecks, -target.free_kopecks):
        return "сумма отмены не равна сумме выдачи с обратным знаком"
    return None


def reversal_flags(reversal_terminal: str, target: Booked) -> tuple[Flag, ...]:
    """A reversal from another window than the serve's is kept, and marked for the review."""
    return (Flag.FOREIGN_REVERSAL,) if reversal_terminal != target.terminal_id else ()


def cancelled(events: Iterable[tuple[str, str, str | None]]) -> set[str]:
    """Ids of serves and overrides that a reversal among `events` (id, kind, ref_event_id) cancels."""
    return {ref for _id, kind, ref in events if kind == EventKind.REVERSAL and ref}
