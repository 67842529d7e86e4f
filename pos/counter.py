"""`Counter`: the serving window's engine as the terminal, the demo and the benches hold it.

A thin facade: each method fills in the wall clock and delegates to a use case of `pos.serving`
(the decisions are `pos.decide`'s, the cached reference data `pos.reference`'s).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from drivers.card import CardRead
from pos import serving, wal
from pos.decide import Verdict
from pos.domain import Meal
from pos.schedule import Schedule
from pos.settings import SchoolSettings


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


class Counter:
    """One serving window's engine over its local store. Thread-safe: one use case at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.uow = serving.UnitOfWork(engine)

    def reload(self) -> None:
        """Re-read settings, schedule, holidays and prices (after a sync changed them)."""
        self.uow.reload()

    @property
    def settings(self) -> SchoolSettings:
        return self.uow.reference.settings

    @property
    def schedule(self) -> Schedule:
        return self.uow.reference.schedule

    @property
    def tz(self) -> ZoneInfo:
        return self.uow.reference.tz

    @property
    def terminal_id(self) -> str:
        return self.settings.terminal_id

    def local(self, now: datetime | None) -> datetime:
        """`now` (aware; default the wall clock) in the school's time zone."""
        return self.uow.reference.local(_now(now))

    def is_school_day(self, day: date) -> bool:
        return self.uow.reference.is_school_day(day)

    def tap_text(self, text: str, *, reader_id: str = "manual", now: datetime | None = None,
                 meal: Meal | None = None, staff: str = "") -> Verdict:
        return serving.tap_text(serving.TapText(text, _now(now), reader_id, meal, staff), self.uow)

    def tap(self, read: CardRead, *, now: datetime | None = None, meal: Meal | None = None,
            staff: str = "") -> Verdict:
        return serving.tap(serving.Tap(read, _now(now), meal, staff), self.uow)

    def serve_by_hand(self, student_id: str, *, reason: str, staff: str = "", now: datetime | None = None,
                      meal: Meal | None = None) -> Verdict:
        return serving.serve_by_hand(serving.ServeByHand(student_id, reason, _now(now), staff, meal), self.uow)

    def override(self, refused: Verdict, *, reason: str, staff: str = "", now: datetime | None = None) -> Verdict:
        return serving.override(serving.Override(refused, reason, _now(now), staff), self.uow)

    def undo_last(self, *, staff: str = "", reason: str = "", now: datetime | None = None,
                  expected: str | None = None) -> Verdict:
        return serving.undo(serving.Undo(_now(now), staff, reason, expected), self.uow)

    def undoable(self, *, now: datetime | None = None) -> Verdict | None:
        return serving.undoable(_now(now), self.uow)

    def checkpoint(self) -> tuple[int, int]:
        return wal.checkpoint(self.engine)
