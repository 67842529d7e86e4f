"""What the screens may ask of the serving window: its engine, clock, settings and staff actions.

Screens depend on this interface, not on the app class, so no screen imports `terminal.app` (which
imports the screens): the arrows point one way. `CanteenApp` is the one implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Engine

from drivers.base import Reader
from pos.counter import Counter
from pos.decide import Verdict
from pos.domain import Meal
from terminal.clock import Clock
from terminal.config import TerminalConfig
from terminal.widgets.status import ReaderState


class Window(Protocol):
    counter: Counter
    read_engine: Engine
    clock: Clock
    config: TerminalConfig
    reader: Reader | None
    reader_state: ReaderState
    meal_choice: Meal | None
    last_verdict: Verdict | None
    staff: str
    staff_list: Sequence[object]  # the staff who may sign in (F10); empty when the office set none

    def serve_by_hand(self, student_id: str, reason: str) -> None: ...

    def override(self, refused: Verdict, reason: str) -> None: ...

    def undo(self, reason: str, serve_id: str | None = None) -> None: ...

    def sync_now(self) -> bool: ...

    def ask_who_serves(self) -> None: ...
