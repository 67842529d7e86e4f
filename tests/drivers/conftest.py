"""Fixtures for the reader tests: an event collector and a real pseudo-terminal "serial device"."""

from __future__ import annotations

import os
import pty
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.base import ReaderEvent, ReaderStatus
from drivers.card import CardRead


class Collector:
    """A sink that records events and lets a test wait for them."""

    def __init__(self, delay: float = 0.0) -> None:
        self.events: list[ReaderEvent] = []
        self.delay = delay  # simulate a slow consumer
        self._cond = threading.Condition()

    def __call__(self, event: ReaderEvent) -> None:
        if self.delay:
            time.sleep(self.delay)
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    @property
    def cards(self) -> list[str]:
        with self._cond:
            return [e.uid for e in self.events if isinstance(e, CardRead)]

    @property
    def reads(self) -> list[CardRead]:
        with self._cond:
            return [e for e in self.events if isinstance(e, CardRead)]

    @property
    def statuses(self) -> list[ReaderStatus]:
        with self._cond:
            return [e for e in self.events if isinstance(e, ReaderStatus)]

    def wait_for(self, predicate: Callable[[Collector], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; events so far: {self.events!r}")
                self._cond.wait(left)

    def wait_cards(self, n: int, timeout: float = 5.0) -> list[str]:
        self.wait_for(lambda c: len(c.cards) >= n, timeout)
        return self.cards

    def wait_status(self, connected: bool, nth: int = 1, timeout: float = 5.0) -> ReaderStatus:
        self.wait_for(lambda c: sum(s.connected == connected for s in c.statuses) >= nth, timeout)
        return [s for s in self.statuses if s.connected == connected][nth - 1]


class PtyDevice:
    """A serial "device" at a stable path: a symlink to the slave end of a real pty pair.

    `write` sends bytes as the reader would; `unplug` closes the master (the driver's next read fails
    exactly as on a USB unplug) and removes the link; `plug` makes a new pair behind the same link,
    like /dev/serial/by-id after re-plugging.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.master = -1
        self.slave = -1
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)  # no echo back into the master before the driver configures the port
        tmp = self.path.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self.slave))
        tmp.replace(self.path)

    def unplug(self) -> None:
        self.path.unlink(missing_ok=True)
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = -1

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.master, view)
            view = view[n:]

    def close(self) -> None:
        if self.master >= 0:
            self.unplug()


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def pty_device(tmp_path: Path) -> Iterator[PtyDevice]:
    device = PtyDevice(tmp_path / "ttyREADER")
    yield device
    device.close()
