"""The serving screen: the verdict panel, the taps before it, the break board and the status line.

It owns the staff's keys (find, override, undo, meal, summary, sync) and its own refresh: the board
and status are read by a thread worker on a read-only connection (WAL readers never wait for the
journal's writer), just after a verdict's frame is out, and every few seconds when no child comes.
It also listens to the keyboard for a keyboard-wedge reader: a fast burst of digits ending in Enter
is a card (decoded by `drivers.wedge`), anything slower is a person and is left alone.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime
from functools import partial
from typing import ClassVar, cast

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from drivers.wedge import WedgeReader
from pos.decide import Verdict, nothing_to_undo
from pos.domain import Meal, ru_date
from pos.queries import class_counts, current_break
from terminal.messages import Board, ReaderMessage, Refreshed
from terminal.readers import keyboard_wedge
from terminal.screens.dialogs import HelpScreen, MealScreen, ReasonScreen
from terminal.screens.search import SearchScreen
from terminal.screens.summary import SummaryScreen
from terminal.screens.sync import SyncScreen
from terminal.syncstatus import read_sync_status
from terminal.texts import HistoryRow, history_line, view_of
from terminal.widgets.board import BreakBoard
from terminal.widgets.line import Line
from terminal.widgets.status import AlarmBar, StatusLine, status_parts
from terminal.widgets.verdict import History, VerdictPanel
from terminal.window import Window

BOARD_EVERY_S = 5.0
BOARD_AFTER_TAP_S = 0.3  # in a burst of taps, at most one board read per this
BOARD_FALLBACK_S = 1.0  # a read skipped in a burst is done by then at the latest


class ServingScreen(Screen[None]):
    # Short labels: the keys must fit one line of an 80-column terminal (F1 explains each in full).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Справка"),
        Binding("f2", "find", "Поиск"),
        Binding("f3", "override", "Вопреки"),
        Binding("f4", "undo", "Отмена"),
        Binding("f6", "meal", "Приём"),
        Binding("f7", "summary", "Сводка"),
        Binding("f8", "sync_screen", "Связь"),
        Binding("f10", "shift", "Смена"),  # shown only where the office has set staff (check_action)
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (Textual declares it so)
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012
    DEMO = False  # the demo's screen (terminal.demo) adds its keys and says so in the help

    def __init__(self, *, history: int) -> None:
        super().__init__()
        self.history_size = history
        self.board: Board | None = None
        self._current: tuple[Verdict, datetime] | None = None
        self.history_pending = 0  # list updates scheduled after the verdict's frame
        self._undone: set[str] = set()  # serves undone here: their rows are struck through
        self._board_due = False
        self._board_read_at = 0.0
        self._board_timer: Timer | None = None
        self._board_seq = itertools.count(1)
        self._board_shown_seq = 0

    @property
    def window(self) -> Window:
        return cast(Window, self.app)

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
        self.wedge = keyboard_wedge(self.window.reader)
        self.tick()
        self.show_status()
        self.set_interval(1.0, self.tick)
        self.set_interval(BOARD_EVERY_S, self._board_every)
        self.refresh_board()

    def tick(self) -> None:
        window = self.window
        local = window.counter.local(window.clock.now())
        clock = f"{ru_date(local.date())} {local:%H:%M:%S}"
        if window.clock.simulated:
            clock += "  (ДЕМО-ЧАСЫ: время имитируется)"
        self.query_one("#topline", Line).set_text(f"{window.counter.settings.school_name}  ·  {clock}")
        if isinstance(self.wedge, WedgeReader):
            self.wedge.flush()
        else:
            self.wedge.flush(time.monotonic())

    # -- the verdict and the list under it ------------------------------------------------------------

    def show_verdict(self, verdict: Verdict, at: datetime) -> None:
        if self._current is not None:
            # The list under the panel follows in the next frame: the tap's frame paints the verdict
            # alone, which is what the child and the staff wait for.
            self.history_pending += 1
            self.query_one(VerdictPanel).after_paint(partial(self._push_history, history_line(*self._current)))
        self._current = (verdict, at)
        self.query_one(VerdictPanel).show(view_of(verdict))
        # The counters catch up just after the verdict's frame: the quiet moment between two children
        # (a read in a thread still competes with the UI thread for the interpreter, so it must not
        # run while the next verdict is being painted). A burst of taps costs one read per 0.3 s.
        self._board_due = True
        if self._board_timer is None:  # if the panel is not painted (another screen on top) or no tap follows
            self._board_timer = self.set_timer(BOARD_FALLBACK_S, self.flush_board)
        self.query_one(VerdictPanel).after_paint(self._board_after_frame)

    def _push_history(self, row: HistoryRow) -> None:
        self.history_pending -= 1
        self.query_one(History).push(row.struck() if row.event_id in self._undone else row)

    def mark_undone(self, event_id: str) -> None:
        """The serve `event_id` was undone: its row says so, now or when it reaches the list."""
        self._undone.add(event_id)
        self.query_one(History).mark_undone(event_id)

    # -- the board and the status line ---------------------------------------------------------------

    def _board_after_frame(self) -> None:
        if self._board_due and time.monotonic() - self._board_read_at >= BOARD_AFTER_TAP_S:
            self._read_board_now()

    def _read_board_now(self) -> None:
        self._board_due = False
        if self._board_timer is not None:
            self._board_timer.stop()
            self._board_timer = None
        self._board_read_at = time.monotonic()
        self.refresh_board()

    def _board_every(self) -> None:
        # While children are coming the reads after their verdicts keep the board fresh: a periodic
        # read then would only land, sooner or later, in the middle of a verdict's paint.
        if not self._board_due and time.monotonic() - self._board_read_at >= BOARD_EVERY_S / 2:
            self._board_read_at = time.monotonic()
            self.refresh_board()

    def flush_board(self) -> None:
        """Read the board now if a read after taps is pending (and by the fallback timer; tests: no race)."""
        if self._board_due:
            self._read_board_now()

    @property
    def settled(self) -> bool:
        """Nothing the screen shows is still on its way: no board read due or running, no list update."""
        busy = any(w.group == "board" and not w.is_finished for w in self.workers)
        return not (self._board_due or busy or self.history_pending)

    @work(thread=True, exclusive=True, group="board", exit_on_error=False)
    def refresh_board(self) -> None:
        seq = next(self._board_seq)  # reads may overlap (a thread worker is not stopped by a newer one)
        window = self.window
        now = window.clock.now()
        local = window.counter.local(now)
        brk = current_break(window.counter.schedule, local, meal=window.meal_choice)
        with window.read_engine.connect() as conn:
            counts = class_counts(conn, local.date(), [(c.class_id, c.meal) for c in brk.classes]) if brk else []
            sync = read_sync_status(conn, configured=window.config.sync.configured, now=now)
        if not get_current_worker().is_cancelled:  # a newer read was started: it will post a fresher board
            self.post_message(Refreshed(Board(local.date(), window.counter.is_school_day(local.date()), brk,
                                              counts, sync), seq))

    def on_refreshed(self, message: Refreshed) -> None:
        if message.seq < self._board_shown_seq:
            return  # an older read that finished late: the screen already shows a newer one
        self._board_shown_seq = message.seq
        self.board = message.board
        manual = f"Вручную: {self.window.meal_choice.ru.capitalize()}" if self.window.meal_choice else ""
        self.query_one(BreakBoard).show(message.board.brk, message.board.counts, school_day=message.board.school_day,
                                        day_text=ru_date(message.board.day), manual=manual)
        self.show_status()

    def show_status(self) -> None:
        window = self.window
        items, alarms = status_parts(window.reader_state, self.board.sync if self.board else None,
                                     window.counter.tz, terminal_id=window.counter.terminal_id, staff=window.staff)
        self.query_one(StatusLine).show(items)
        self.query_one(AlarmBar).show(alarms)
        self.query_one(StatusLine).set_class(bool(alarms), "-alarm")

    # -- the staff's keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return bool(self.window.staff_list) if action == "shift" else True

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(demo=self.DEMO, shifts=bool(self.window.staff_list)))

    def action_shift(self) -> None:
        self.window.ask_who_serves()

    def action_find(self) -> None:
        def chosen(hit: tuple[str, str] | None) -> None:
            if hit is None:
                return
            student_id, name = hit
            self.app.push_screen(
                ReasonScreen("Выдать без карты", f"{name}: выдача будет записана как «без карты».",
                             default="Нет карты с собой"),
                lambda reason: self.window.serve_by_hand(student_id, reason) if reason is not None else None)

        self.app.push_screen(SearchScreen(self.window.read_engine), chosen)

    def action_override(self) -> None:
        refused = self.window.last_verdict
        if refused is None or refused.student is None or not refused.overridable:
            self.notify("Выдать вопреки отказу можно сразу после отказа ученику, найденному по карте или имени",
                        severity="warning")
            return
        who = f"{refused.student.full_name} ({refused.student.class_name})"
        self.app.push_screen(
            ReasonScreen("Выдать вопреки отказу", f"{who}: {refused.message}", default="",
                         placeholder="причина, например «льгота продлена, приказ не загружен»"),
            lambda reason: self.window.override(refused, reason) if reason is not None else None)

    def action_undo(self) -> None:
        window = self.window
        last = window.counter.undoable(now=window.clock.now())
        if last is None:
            self.notify(nothing_to_undo().message, severity="warning")
            return
        who = f"{last.student.full_name} ({last.student.class_name})" if last.student else "ученик не найден"
        info = f"Будет отменена выдача: {who}, {last.message} (запись об отмене)."
        self.app.push_screen(
            ReasonScreen("Отменить последнюю выдачу", info, default="Ошибочная выдача"),
            lambda reason: window.undo(reason, last.event_id) if reason is not None else None)

    def action_meal(self) -> None:
        def chosen(value: str | None) -> None:
            if value is None:
                return
            self.window.meal_choice = None if value == "auto" else Meal(value)
            self.notify("Приём пищи: по расписанию" if self.window.meal_choice is None
                        else f"Приём пищи выбран вручную: {self.window.meal_choice.ru}")
            self.refresh_board()

        self.app.push_screen(MealScreen(self.window.meal_choice), chosen)

    def action_summary(self) -> None:
        local = self.window.counter.local(self.window.clock.now())
        self.app.push_screen(SummaryScreen(self.window.read_engine, local.date()))

    def action_sync_screen(self) -> None:
        window = self.window
        self.app.push_screen(SyncScreen(window.read_engine, configured=window.config.sync.configured,
                                        tz=window.counter.tz, now=window.clock.now, sync_now=window.sync_now))

    # -- the keyboard wedge -----------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """Feed the keyboard-wedge decoder; a decoded card is served like any reader's."""
        key = event.character if event.is_printable and event.character else event.key
        if isinstance(self.wedge, WedgeReader):
            result = self.wedge.feed_key(key)  # its read arrives through the reader's sink
        else:
            result = self.wedge.feed(key, time.monotonic())
            if result.card is not None:
                self.app.post_message(ReaderMessage(result.card, time.perf_counter()))
        if result.consumed:
            event.stop()
            event.prevent_default()
