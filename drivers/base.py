"""The one reader interface: `Reader.start(sink)` / `stop()`, the events a sink receives, counters.

A reader runs in its own thread and hands events to the consumer's ``sink`` callable:

- a `CardRead` for each presentation of a card (already de-duplicated, see `Debouncer`);
- a `ReaderStatus` when the reader connects or disconnects (the detail is Russian, for staff).

Events go through an unbounded queue and a delivery thread, so a slow sink delays reads but never
loses one, and never stalls the thread that drains the device (a USB-serial buffer is small).
`ThreadedReader` holds that machinery plus the connect / read / reconnect loop the device readers share.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from drivers.card import CardRead
from drivers.debounce import Debouncer

log = logging.getLogger(__name__)

CONNECTED = "Считыватель подключён"
DISCONNECTED = "Считыватель отключён"


@dataclass(frozen=True, slots=True)
class ReaderStatus:
    """A reader came up or went away; ``detail`` is a Russian message the UI can show as is."""

    reader_id: str
    connected: bool
    detail: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


ReaderEvent = CardRead | ReaderStatus
Sink = Callable[[ReaderEvent], None]
RawMonitor = Callable[[bytes], None]


@dataclass(slots=True)
class ReaderStats:
    """Counters since the reader started (written by the reader thread only)."""

    reads: int = 0
    duplicates: int = 0
    bad_frames: int = 0
    noise_bytes: int = 0
    reconnects: int = 0


class Reader(ABC):
    """A card reader: ``start(sink)`` begins delivering events, ``stop()`` ends it and joins threads."""

    reader_id: str
    stats: ReaderStats
    _raw_monitor: RawMonitor | None = None

    @abstractmethod
    def start(self, sink: Sink) -> None: ...

    @abstractmethod
    def stop(self, timeout: float = 3.0) -> None: ...

    @property
    @abstractmethod
    def connected(self) -> bool: ...

    def set_raw_monitor(self, monitor: RawMonitor | None) -> None:
        """Receive every chunk of raw bytes the reader sees (for `canteen readers watch`)."""
        self._raw_monitor = monitor


class _Delivery:
    """Unbounded queue + thread calling the sink: the device thread never waits for the consumer."""

    _STOP = object()

    def __init__(self, sink: Sink, name: str) -> None:
        self._sink = sink
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"{name}-delivery", daemon=True)
        self._thread.start()

    def put(self, event: ReaderEvent) -> None:
        self._queue.put(event)

    def close(self, timeout: float) -> None:
        # Events queued before stop() are still delivered: a read the reader saw is never dropped.
        self._queue.put(self._STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is self._STOP:
                return
            try:
                self._sink(event)  # type: ignore[arg-type]
            except Exception:  # a consumer bug must not kill the reader
                log.exception("reader sink failed on %r", event)


class EventReader(Reader):
    """A reader that emits events (via a delivery thread) with debounce and counters, but has no loop."""

    def __init__(self, reader_id: str, debounce: float = 1.5) -> None:
        self.reader_id = reader_id
        self.stats = ReaderStats()
        self.debouncer = Debouncer(debounce)
        self._delivery: _Delivery | None = None
        self._connected = False

    @property
    def connected(self) -> bool:
        return self._connected

    def start(self, sink: Sink) -> None:
        if self._delivery is not None:
            raise RuntimeError(f"reader {self.reader_id} already started")
        self._delivery = _Delivery(sink, self.reader_id)

    def stop(self, timeout: float = 3.0) -> None:
        if self._delivery is not None:
            self._delivery.close(timeout)
            self._delivery = None

    def emit_card(self, uid: str, fmt: str, raw: bytes, now: float | None = None) -> bool:
        """Deliver a read unless it repeats the card still being presented; True if delivered."""
        if not self.debouncer.accept(uid, time.monotonic() if now is None else now):
            self.stats.duplicates += 1
            return False
        self.stats.reads += 1
        self._put(CardRead(uid=uid, format=fmt, raw=raw, reader_id=self.reader_id))
        return True

    def emit_release(self, now: float | None = None) -> None:
        self.debouncer.release(time.monotonic() if now is None else now)

    def emit_status(self, connected: bool, detail: str) -> None:
        self._connected = connected
        log.info("reader %s: %s", self.reader_id, detail)
        self._put(ReaderStatus(self.reader_id, connected, detail))

    def bad_frame(self, raw: bytes, why: str) -> None:
        self.stats.bad_frames += 1
        # Noise can be continuous: log the first few, then only every hundredth.
        if self.stats.bad_frames <= 10 or self.stats.bad_frames % 100 == 0:
            log.warning(
                "reader %s: bad frame #%d (%s): %r", self.reader_id, self.stats.bad_frames, why, raw[:64]
            )

    def monitor_raw(self, data: bytes) -> None:
        if self._raw_monitor is not None and data:
            self._raw_monitor(data)

    def _put(self, event: ReaderEvent) -> None:
        if self._delivery is None:
            raise RuntimeError(f"reader {self.reader_id} is not started")
        self._delivery.put(event)


class ThreadedReader(EventReader):
    """A device reader: a thread that opens the device, reads until it fails, and reopens it.

    Subclasses implement `open_device`, `read_device` (one short, bounded read: ~0.1 s) and
    `close_device`. Any exception from open/read counts as "device gone": the reader reports it once,
    retries with backoff, and reports the reconnection. ``stop()`` is honoured within ~0.1 s plus
    whatever the device's own timeouts are.
    """

    backoff_initial = 0.2
    backoff_max = 2.0

    def __init__(self, reader_id: str, debounce: float = 1.5) -> None:
        super().__init__(reader_id, debounce)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self, sink: Sink) -> None:
        super().start(sink)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"reader-{self.reader_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("reader %s did not stop within %.1f s", self.reader_id, timeout)
            self._thread = None
        super().stop(timeout)

    @abstractmethod
    def open_device(self) -> None: ...

    @abstractmethod
    def read_device(self) -> None: ...

    @abstractmethod
    def close_device(self) -> None: ...

    def describe(self) -> str:
        return self.reader_id

    def _run(self) -> None:
        backoff = self.backoff_initial
        ever_connected = False
        reported_down = False
        while not self._stop.is_set():
            try:
                self.open_device()
            except Exception as error:
                if not reported_down:
                    self.emit_status(False, f"{DISCONNECTED}: {self.describe()} ({_why(error)})")
                    reported_down = True
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.backoff_max)
                continue
            backoff = self.backoff_initial
            if ever_connected:
                self.stats.reconnects += 1
            ever_connected, reported_down = True, False
            self.emit_status(True, f"{CONNECTED}: {self.describe()}")
            try:
                while not self._stop.is_set():
                    self.read_device()
            except Exception as error:
                if not self._stop.is_set():
                    self.emit_status(False, f"{DISCONNECTED}: {self.describe()} ({_why(error)})")
                    reported_down = True
            finally:
                try:
                    self.close_device()
                except Exception:
                    log.debug("closing %s failed", self.reader_id, exc_info=True)
        self._connected = False


def _why(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) < 200 else text[:200] + "…"
