"""Messages posted to the app from other threads (readers, the refresh worker). Posting is thread-safe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual.message import Message

from drivers.base import ReaderEvent
from pos.queries import BreakNow, ClassCount
from terminal.syncstatus import SyncView


class ReaderMessage(Message):
    """A card read or a reader status change, from a reader's thread."""

    def __init__(self, event: ReaderEvent, received: float) -> None:
        super().__init__()
        self.event = event
        self.received = received  # perf_counter() when the reader handed it over: the bench's start


@dataclass(frozen=True)
class Board:
    """What the refresh worker read for the board and the status line."""

    day: date
    school_day: bool
    brk: BreakNow | None
    counts: list[ClassCount]
    sync: SyncView | None


class Refreshed(Message):
    def __init__(self, board: Board, seq: int = 0) -> None:
        super().__init__()
        self.board = board
        self.seq = seq  # the read's number: a late older read must not replace a newer board


class SyncFinished(Message):
    """A sync run ended (from the scheduler's thread); `applied`: the school's data changed."""

    def __init__(self, applied: bool) -> None:
        super().__init__()
        self.applied = applied
