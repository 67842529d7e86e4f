"""The serving screen: the verdict panel, the taps before it, the break board and the status line.

It also listens to the keyboard for a keyboard-wedge reader: a fast burst of digits ending in Enter
is a card (decoded by `drivers.wedge`), anything slower is a person and is left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from drivers.wedge import WedgeReader
from pos.decide import Verdict
from pos.domain import ru_date
from terminal.messages import Board, ReaderMessage
from terminal.texts import HistoryRow, history_line, view_of
from terminal.widgets.board import BreakBoard
from terminal.widgets.line import Line
from terminal.widgets.status import AlarmBar, StatusLine, status_parts
from terminal.widgets.verdict import History, VerdictPanel

if TYPE_CHECKING:
    from terminal.app import CanteenApp


class ServingScreen(Screen[None]):
    # Short labels: the keys must fit one line of an 80-column terminal (F1 explains each in full).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "Справка"),
        Binding("f2", "app.find", "Поиск"),
        Binding("f3", "app.override", "Вопреки"),
        Binding("f4", "app.undo", "Отмена"),
        Binding("f6", "app.meal", "Приём"),
        Binding("f7", "app.summary", "Сводка"),
        Binding("f8", "app.sync_screen", "Связь"),
        Binding("space", "app.demo_tap", "Демо: следующий", show=False),
        Binding("f5", "app.demo_tap", "Демо: следующий", show=False),
        Binding("f9", "app.demo_plug", "Демо: считыватель", show=False),
    ]

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (Textual declares it so)
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012

    def __init__(self, *, history: int) -> None:
        super().__init__()
        self.history_size = history
        self._current: tuple[Verdict, datetime] | None = None
        self.history_pending = 0  # list updates scheduled after the verdict's frame
        self._undone: set[str] = set()  # serves undone here: their rows are struck through

    @property
    def canteen(self) -> CanteenApp:
        return cast("CanteenApp", self.app)

    def compose(self) -> ComposeResult:
        yield Line("", id="topline")
        yield AlarmBar("", id="alarms")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield VerdictPanel(id="verdict")
                yield Static("Предыдущие касания", id="history-title")
                yield History(self.history_size, id="history")
            yield BreakBoard(id="board")
        yield StatusLine("", id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.tick()
        self.show_status()

    def tick(self) -> None:
        app = self.canteen
        local = app.counter.local(app.clock.now())
        clock = f"{ru_date(local.date())} {local:%H:%M:%S}"
        if app.clock.simulated:
            clock += "  (ДЕМО-ЧАСЫ: время имитируется)"
        self.query_one("#topline", Line).set_text(f"{app.counter.settings.school_name}  ·  {clock}")
        if isinstance(app.wedge, WedgeReader):
            app.wedge.flush()
        else:
            app.wedge.flush(time.monotonic())

    def show_verdict(self, verdict: Verdict, at: datetime) -> None:
        if self._current is not None:
            # The list under the panel follows in the next frame: the tap's frame paints the verdict
            # alone, which is what the child and the staff wait for.
            self.history_pending += 1
            self.query_one(VerdictPanel).after_paint(partial(self._push_history, history_line(*self._current)))
        self._current = (verdict, at)
        self.query_one(VerdictPanel).show(view_of(verdict))

    def after_verdict_painted(self, callback: Callable[[], object]) -> None:
        self.query_one(VerdictPanel).after_paint(callback)

    def _push_history(self, row: HistoryRow) -> None:
        self.history_pending -= 1
        self.query_one(History).push(row.struck() if row.event_id in self._undone else row)

    def mark_undone(self, event_id: str) -> None:
        """The serve `event_id` was undone: its row says so, now or when it reaches the list."""
        self._undone.add(event_id)
        self.query_one(History).mark_undone(event_id)

    def show_board(self, board: Board) -> None:
        app = self.canteen
        manual = f"Вручную: {app.meal_choice.ru.capitalize()}" if app.meal_choice else ""
        self.query_one(BreakBoard).show(board.brk, board.counts, school_day=board.school_day,
                                        day_text=ru_date(board.day), manual=manual)
        self.show_status()

    def show_status(self) -> None:
        app = self.canteen
        items, alarms = status_parts(app.reader_state, app.board.sync if app.board else None, app.counter.tz,
                                     terminal_id=app.counter.terminal_id, staff=app.config.staff)
        self.query_one(StatusLine).show(items)
        self.query_one(AlarmBar).show(alarms)
        self.query_one(StatusLine).set_class(bool(alarms), "-alarm")

    def on_key(self, event: events.Key) -> None:
        """Feed the keyboard-wedge decoder; a decoded card is served like any reader's."""
        key = event.character if event.is_printable and event.character else event.key
        app = self.canteen
        if isinstance(app.wedge, WedgeReader):
            result = app.wedge.feed_key(key)  # its read arrives through the reader's sink
        else:
            result = app.wedge.feed(key, time.monotonic())
            if result.card is not None:
                app.post_message(ReaderMessage(result.card, time.perf_counter()))
        if result.consumed:
            event.stop()
            event.prevent_default()
