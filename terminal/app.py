"""The serving-window app: wires a reader (`drivers`) to the engine (`pos.counter.Counter`) and the screens.

Threads: readers run in their own threads and only post messages; the board and status are read
by a thread worker on a read-only connection (WAL readers never wait for the journal's writer); the
engine is called on the UI thread, one call per tap, because its commit is the one wait the issue
allows and it keeps taps, overrides and undos strictly in order.
"""

from __future__ import annotations

import gc
import itertools
import logging
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from textual import work
from textual.app import App
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from drivers.base import Reader, ReaderStatus
from drivers.card import CardRead
from drivers.sim import SimReader
from pos.counter import Counter
from pos.decide import Verdict, nothing_to_undo
from pos.domain import Meal
from pos.queries import class_counts, current_break, expected_cards
from terminal.clock import Clock
from terminal.config import TerminalConfig
from terminal.messages import Board, ReaderMessage, Refreshed, SyncFinished
from terminal.readers import down, keyboard_wedge, make_sink
from terminal.screens.dialogs import HelpScreen, MealScreen, ReasonScreen
from terminal.screens.search import SearchScreen
from terminal.screens.serving import ServingScreen
from terminal.screens.summary import SummaryScreen
from terminal.syncstatus import BackgroundSync, read_sync_status
from terminal.texts import REFUSE, tone_of
from terminal.widgets.status import ReaderState

log = logging.getLogger(__name__)

BOARD_EVERY_S = 5.0
CHECKPOINT_IDLE_S = 20.0  # no tap for this long: the queue has paused, copy the WAL back
BOARD_AFTER_TAP_S = 0.3  # in a burst of taps, at most one board read per this
BOARD_FALLBACK_S = 1.0  # a read skipped in a burst is done by then at the latest


@dataclass
class TapTiming:
    """One tap's times (perf_counter seconds): read handed over, engine start/end, panel painted.

    `shown` is set by whoever watches the frames go out (bench/terminal.py): the app cannot tell
    from inside when its panel has been painted.
    """

    received: float
    engine_start: float
    engine_end: float
    shown: float = 0.0


class CanteenApp(App[None]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "Терминал раздачи"

    def __init__(self, *, counter: Counter, read_engine: Engine, clock: Clock, config: TerminalConfig,
                 reader: Reader | None, reader_error: str = "", measure: bool = False,
                 start_sync: bool = True) -> None:
        super().__init__()
        self.counter = counter
        self.read_engine = read_engine
        self.clock = clock
        self.config = config
        self.reader = reader
        self.wedge = keyboard_wedge(reader)
        self.meal_choice: Meal | None = None
        self.last_verdict: Verdict | None = None
        self.reader_state = ReaderState(False, reader_error or "считыватель не запущен")
        self.board: Board | None = None
        self.bells = 0
        self.timings: list[TapTiming] | None = [] if measure else None
        self._presented: set[str] = set()
        self._board_due = False
        self._board_read_at = 0.0
        self._last_verdict_at, self._checkpointed = time.monotonic(), False
        self._board_timer: Timer | None = None
        self._board_seq = itertools.count(1)
        self._board_shown_seq = 0
        self._frozen = False
        self.serving = ServingScreen(history=config.history)
        self.sync: BackgroundSync | None = None
        self._start_sync = start_sync and config.sync.configured

    def get_default_screen(self) -> Screen[None]:
        return self.serving

    def on_mount(self) -> None:
        if self.reader is not None:
            self.run_reader(self.reader)
        if self._start_sync:
            self.start_sync()
        self.set_interval(1.0, self.serving.tick)
        self.set_interval(BOARD_EVERY_S, self._board_every)
        self.set_interval(BOARD_EVERY_S, self._checkpoint_when_idle)
        self.refresh_board()

    # -- sync -------------------------------------------------------------------------------------------

    def start_sync(self) -> None:
        try:
            self.sync = BackgroundSync(
                self.counter.engine, self.config.sync,
                on_applied=lambda _result: self._post(SyncFinished(applied=True)),
                on_result=lambda _result: self._post(SyncFinished(applied=False)))
            self.sync.start()
        except Exception as exc:  # a sync that cannot start must not stop the serving
            log.exception("sync did not start")
            self.notify(f"Синхронизация не запущена: {exc}", severity="error", timeout=10)

    def _post(self, message: SyncFinished) -> None:
        self.post_message(message)  # thread-safe; called from the scheduler's thread

    def on_sync_finished(self, message: SyncFinished) -> None:
        if message.applied:
            self.counter.reload()  # new lists, orders or schedule: the engine's cached settings too
        self.refresh_board()

    def on_unmount(self) -> None:
        if self.sync is not None:
            self.sync.stop()
        if self._frozen:
            gc.unfreeze()  # this app's objects become collectable again (tests run many apps in one process)

    # -- readers ------------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="reader", name="reader")
    def run_reader(self, reader: Reader) -> None:
        """Start the reader and keep it until the app ends; its own threads deliver the events."""
        worker = get_current_worker()
        sink = make_sink(self.post_message)
        try:
            reader.start(sink)
        except Exception as exc:
            sink(down(reader.reader_id, f"не запускается: {exc}"))
            return
        try:
            # Polled, not blocked on: a thread worker that never looks up hangs the process at exit.
            while not worker.cancelled_event.wait(0.1):
                pass
        finally:
            reader.stop()

    def on_reader_message(self, message: ReaderMessage) -> None:
        event = message.event
        if isinstance(event, ReaderStatus):
            self.reader_state = ReaderState(event.connected, event.detail, event.at)
            self.serving.show_status()
            if not event.connected:
                self.ring()
            return
        self.serve_card(event, message.received)

    # -- the counter's jobs -------------------------------------------------------------------------

    def serve_card(self, read: CardRead, received: float | None = None) -> None:
        start = time.perf_counter()
        try:
            verdict = self.counter.tap(read, now=self.clock.now(), meal=self.meal_choice)
        except Exception as exc:  # an engine bug must not close the window in the middle of a break
            log.exception("tap failed")
            self.notify(f"Ошибка терминала при чтении карты: {exc}", severity="error", timeout=10)
            return
        end = time.perf_counter()
        self.present(verdict)
        if self.timings is not None:
            self.timings.append(TapTiming(received if received is not None else start, start, end))

    def serve_by_hand(self, student_id: str, reason: str) -> None:
        self.present(self.counter.serve_by_hand(student_id, reason=reason, staff=self.config.staff,
                                                now=self.clock.now(), meal=self.meal_choice))

    def override(self, refused: Verdict, reason: str) -> None:
        self.present(self.counter.override(refused, reason=reason, staff=self.config.staff, now=self.clock.now()))

    def undo(self, reason: str) -> None:
        self.present(self.counter.undo_last(staff=self.config.staff, reason=reason, now=self.clock.now()))

    def present(self, verdict: Verdict) -> None:
        if verdict.action_refused:
            # A staff action that could not be done: not a child's verdict, the panel keeps the last one.
            self.notify(verdict.message, severity="warning", timeout=6)
            return
        self.last_verdict = verdict
        self._last_verdict_at, self._checkpointed = time.monotonic(), False
        self.serving.show_verdict(verdict, self.counter.local(self.clock.now()))
        if tone_of(verdict) == REFUSE:
            self.ring()
        # The counters catch up just after the verdict's frame: the quiet moment between two children
        # (a read in a thread still competes with the UI thread for the interpreter, so it must not
        # run while the next verdict is being painted). A burst of taps costs one read per 0.3 s.
        self._board_due = True
        if self._board_timer is None:  # if the panel is not painted (another screen on top) or no tap follows
            self._board_timer = self.set_timer(BOARD_FALLBACK_S, self.flush_board)
        self.serving.after_verdict_painted(self._board_after_frame)

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

    def _checkpoint_when_idle(self) -> None:
        if not self._checkpointed and time.monotonic() - self._last_verdict_at >= CHECKPOINT_IDLE_S:
            self._checkpointed = True
            self._checkpoint()

    @work(thread=True, exit_on_error=False, group="checkpoint")
    def _checkpoint(self) -> None:
        try:
            self.counter.checkpoint()
        except Exception:  # a missed checkpoint costs disk, never a serve; SQLite's own one is the backstop
            log.exception("checkpoint failed")

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
        return not (self._board_due or busy or self.serving.history_pending)

    def ring(self) -> None:
        if self.config.bell_on_refuse:
            self.bells += 1
            self.bell()

    # -- board and status ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="board", exit_on_error=False)
    def refresh_board(self) -> None:
        seq = next(self._board_seq)  # reads may overlap (a thread worker is not stopped by a newer one)
        now = self.clock.now()
        local = self.counter.local(now)
        brk = current_break(self.counter.schedule, local, meal=self.meal_choice)
        with self.read_engine.connect() as conn:
            counts = class_counts(conn, local.date(), [(c.class_id, c.meal) for c in brk.classes]) if brk else []
            sync = read_sync_status(conn, configured=self.config.sync.configured, now=now)
        if not get_current_worker().is_cancelled:  # a newer read was started: it will post a fresher board
            self.post_message(Refreshed(Board(local.date(), self.counter.is_school_day(local.date()), brk, counts,
                                              sync), seq))

    @staticmethod
    def settle_memory() -> None:
        """Once started, move everything built so far out of the garbage collector's sight.

        A full collection walks every object alive (Textual's, SQLAlchemy's, the school's data):
        100+ ms, which lands on a tap now and then. Frozen, the startup objects are never walked
        again and a full collection only looks at what was made since: a few ms.
        """
        gc.collect()
        gc.freeze()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            log.error("worker %s failed: %r", event.worker.name, event.worker.error)
            self.notify(f"Ошибка фоновой задачи «{event.worker.name}»: {event.worker.error}", severity="error",
                        timeout=10)

    def on_refreshed(self, message: Refreshed) -> None:
        if message.seq < self._board_shown_seq:
            return  # an older read that finished late: the screen already shows a newer one
        self._board_shown_seq = message.seq
        if not self._frozen:
            self._frozen = True
            self.settle_memory()
        self.board = message.board
        self.serving.show_board(message.board)

    # -- key actions (bound on the serving screen) ----------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(demo=isinstance(self.reader, SimReader)))

    def action_find(self) -> None:
        def chosen(hit: tuple[str, str] | None) -> None:
            if hit is None:
                return
            student_id, name = hit
            self.push_screen(ReasonScreen("Выдать без карты", f"{name}: выдача будет записана как «без карты».",
                                          default="Забыл карту"),
                             lambda reason: self.serve_by_hand(student_id, reason) if reason is not None else None)

        self.push_screen(SearchScreen(self.read_engine), chosen)

    def action_override(self) -> None:
        refused = self.last_verdict
        if refused is None or refused.student is None or not refused.overridable:
            self.notify("Выдать вопреки отказу можно сразу после отказа ученику, найденному по карте или имени",
                        severity="warning")
            return
        who = f"{refused.student.full_name} ({refused.student.class_name})"
        self.push_screen(ReasonScreen("Выдать вопреки отказу", f"{who}: {refused.message}", default="",
                                      placeholder="причина, например «льгота продлена, приказ не загружен»"),
                         lambda reason: self.override(refused, reason) if reason is not None else None)

    def action_undo(self) -> None:
        last = self.counter.undoable(now=self.clock.now())
        if last is None:
            self.notify(nothing_to_undo().message, severity="warning")
            return
        who = f"{last.student.full_name} ({last.student.class_name})" if last.student else "ученик не найден"
        self.push_screen(ReasonScreen("Отменить последнюю выдачу",
                                      f"Будет отменена выдача: {who}, {last.message} (запись об отмене).",
                                      default="Ошибочная выдача"),
                         lambda reason: self.undo(reason) if reason is not None else None)

    def action_meal(self) -> None:
        def chosen(value: str | None) -> None:
            if value is None:
                return
            self.meal_choice = None if value == "auto" else Meal(value)
            self.notify("Приём пищи: по расписанию" if self.meal_choice is None
                        else f"Приём пищи выбран вручную: {self.meal_choice.ru}")
            self.refresh_board()

        self.push_screen(MealScreen(self.meal_choice), chosen)

    def action_summary(self) -> None:
        local = self.counter.local(self.clock.now())
        self.push_screen(SummaryScreen(self.read_engine, local.date()))

    def action_demo_tap(self) -> None:
        """Demo: the next student of the current break taps the simulated reader."""
        if not isinstance(self.reader, SimReader):
            self.notify("Имитация касаний есть только с имитатором считывателя (демо)", severity="warning")
            return
        brk = self.board.brk if self.board else None
        if brk is None:
            self.notify("Нет перемены по расписанию", severity="warning")
            return
        day = self.counter.local(self.clock.now()).date()
        with self.read_engine.connect() as conn:
            queue = expected_cards(conn, day, brk.shift, brk.number)
        wanted = {c.meal for c in brk.classes}
        card = next((c for c in queue if not c.served and c.meal in wanted and c.uid not in self._presented), None)
        if card is None:
            self.notify("Все ученики этой перемены уже прошли", severity="information")
            return
        self._presented.add(card.uid)
        if not self.reader.present(card.uid):
            self.notify("Считыватель не принял карту (отключён?)", severity="warning")

    def action_demo_plug(self) -> None:
        """Demo: unplug the simulated reader, or plug it back."""
        if isinstance(self.reader, SimReader):
            self.reader.present("unplug" if self.reader.connected else "plug")
