"""The serving-window app: wires a reader (`drivers`) to the engine (`pos.counter.Counter`) and the screen.

The app holds what outlives a screen: the reader and its thread, the background sync, the journal's
idle checkpoint, and the counter's jobs (a tap, a hand serve, an override, an undo), which run on the
UI thread, one call per tap, because the commit is the one wait the issue allows and it keeps taps,
overrides and undos strictly in order. What is shown and the staff's keys belong to the serving
screen (`terminal.screens.serving`); the demo's keys to the demo's screen (`terminal.demo`).
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from textual import work
from textual.app import App
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from drivers.base import Reader, ReaderStatus
from drivers.card import CardRead
from drivers.sim import SimReader
from pos.counter import Counter
from pos.decide import Reason, Verdict
from pos.domain import Meal
from terminal.clock import Clock
from terminal.config import TerminalConfig
from terminal.demo import DemoServingScreen
from terminal.messages import Board, ReaderMessage, Refreshed, SyncFinished
from terminal.readers import down, make_sink
from terminal.screens.serving import ServingScreen
from terminal.screens.signin import Person, PinGuard, SignInScreen, active_staff
from terminal.screens.sync import SyncScreen
from terminal.syncstatus import BackgroundSync
from terminal.texts import REFUSE, tone_of
from terminal.widgets.status import ReaderState

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 5.0
CHECKPOINT_IDLE_S = 20.0  # no tap for this long: the queue has paused, copy the WAL back


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
    ENABLE_COMMAND_PALETTE = False  # an English developer tool (^p palette): not for the serving window

    def __init__(self, *, counter: Counter, read_engine: Engine, clock: Clock, config: TerminalConfig,
                 reader: Reader | None, reader_error: str = "", measure: bool = False,
                 start_sync: bool = True) -> None:
        super().__init__()
        self.counter = counter
        self.read_engine = read_engine
        self.clock = clock
        self.config = config
        self.reader = reader
        self.staff = config.staff  # who is serving: the config's name, or whoever signed in (F10)
        self.staff_list: list[Person] = []  # the school's staff on this terminal; empty: no sign-in
        self.pin_guard = PinGuard()
        self.meal_choice: Meal | None = None
        self.last_verdict: Verdict | None = None
        self.reader_state = ReaderState(False, reader_error or "считыватель не запущен")
        self.bells = 0
        self.timings: list[TapTiming] | None = [] if measure else None
        self._last_verdict_at, self._checkpointed = time.monotonic(), False
        self._frozen = False
        screen = DemoServingScreen if isinstance(reader, SimReader) else ServingScreen
        self.serving: ServingScreen = screen(history=config.history)
        self.sync: BackgroundSync | None = None
        self._start_sync = start_sync and config.sync.configured

    def get_default_screen(self) -> Screen[None]:
        return self.serving

    def on_mount(self) -> None:
        if self.reader is not None:
            self.run_reader(self.reader)
        if self._start_sync:
            self.start_sync()
        self.set_interval(CHECKPOINT_EVERY_S, self._checkpoint_when_idle)
        self._load_staff()

    @property
    def board(self) -> Board | None:
        """What the serving screen last read for its board and status line."""
        return self.serving.board

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
            self._load_staff()
        self.serving.refresh_board()
        if isinstance(self.screen, SyncScreen):
            self.screen.refresh_view()

    def sync_now(self) -> bool:
        """Ask the background sync to run at once; False when no server is configured."""
        if self.sync is None:
            return False
        self.sync.scheduler.run_now()
        return True

    def on_unmount(self) -> None:
        if self.sync is not None:
            self.sync.stop()
        if self._frozen:
            gc.unfreeze()  # this app's objects become collectable again (tests run many apps in one process)

    # -- who is serving -------------------------------------------------------------------------------

    def _load_staff(self) -> None:
        """Read the staff list; the first time the school has staff here, ask who is serving."""
        had = bool(self.staff_list)
        self.staff_list = active_staff(self.read_engine)
        if self.staff_list and not had:
            self.staff = ""  # the config's name is for windows without staff: someone must sign in
            self.ask_who_serves()
        self.serving.refresh_bindings()  # F10 shows only when there is someone to choose

    def ask_who_serves(self) -> None:
        """The sign-in dialog (modal: taps that come meanwhile are served and shown after it closes)."""
        if not self.staff_list or isinstance(self.screen, SignInScreen):
            return

        def signed_in(name: str | None) -> None:
            if name is not None:
                self.staff = name
                self.serving.show_status()

        self.push_screen(SignInScreen(self.staff_list, self.pin_guard, current=self.staff), signed_in)

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
            verdict = self.counter.tap(read, now=self.clock.now(), meal=self.meal_choice, staff=self.staff)
        except Exception as exc:  # an engine bug must not close the window in the middle of a break
            log.exception("tap failed")
            self.notify(f"Ошибка терминала при чтении карты: {exc}", severity="error", timeout=10)
            return
        end = time.perf_counter()
        self.present(verdict)
        if self.timings is not None:
            self.timings.append(TapTiming(received if received is not None else start, start, end))

    def serve_by_hand(self, student_id: str, reason: str) -> None:
        self.present(self.counter.serve_by_hand(student_id, reason=reason, staff=self.staff,
                                                now=self.clock.now(), meal=self.meal_choice))

    def override(self, refused: Verdict, reason: str) -> None:
        self.present(self.counter.override(refused, reason=reason, staff=self.staff, now=self.clock.now()))

    def undo(self, reason: str, serve_id: str | None = None) -> None:
        verdict = self.counter.undo_last(staff=self.staff, reason=reason, now=self.clock.now(), expected=serve_id)
        if verdict.reason is Reason.REVERSAL and serve_id is not None:
            self.serving.mark_undone(serve_id)
        self.present(verdict)

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

    def ring(self) -> None:
        if self.config.bell_on_refuse:
            self.bells += 1
            self.bell()

    # -- housekeeping -------------------------------------------------------------------------------

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

    def on_refreshed(self, _message: Refreshed) -> None:
        # The first board on screen: start-up is over. Move everything built so far out of the garbage
        # collector's sight: a full collection walks every object alive (Textual's, SQLAlchemy's, the
        # school's data), 100+ ms that would land on a tap now and then. Frozen, the start-up objects
        # are never walked again and a full collection only looks at what was made since: a few ms.
        if not self._frozen:
            self._frozen = True
            gc.collect()
            gc.freeze()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            log.error("worker %s failed: %r", event.worker.name, event.worker.error)
            self.notify(f"Ошибка фоновой задачи «{event.worker.name}»: {event.worker.error}", severity="error",
                        timeout=10)
