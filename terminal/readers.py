"""Wiring readers from `drivers` to the app: a sink that only posts messages, and the keyboard wedge.

A reader runs in its own threads (see `drivers.base`); its sink is called there, so it must do no
work of the app's: it posts a `ReaderMessage` (thread-safe, non-blocking) and returns. The engine is
called on the UI thread when the message arrives, never from a reader thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from drivers.base import Reader, ReaderEvent, ReaderStatus
from drivers.config import ReaderConfig, build_reader
from drivers.wedge import WedgeDecoder, WedgeReader
from terminal.messages import ReaderMessage


def make_sink(post: Callable[[ReaderMessage], object]) -> Callable[[ReaderEvent], None]:
    def sink(event: ReaderEvent) -> None:
        post(ReaderMessage(event, time.perf_counter()))

    return sink


def open_reader(config: ReaderConfig) -> tuple[Reader | None, str]:
    """The configured reader, or None and a Russian reason it could not be built."""
    try:
        return build_reader(config), ""
    except Exception as exc:  # a missing optional library or a bad device path: show it, keep serving
        return None, f"Считыватель не создан ({config.kind}): {exc}"


def keyboard_wedge(reader: Reader | None) -> WedgeReader | WedgeDecoder:
    """What typed keys are fed to: the configured wedge reader, else a plain decoder.

    With a serial or NFC reader configured, a keyboard-wedge reader plugged in as well still works:
    its bursts are decoded here and served like any other read.
    """
    if isinstance(reader, WedgeReader):
        return reader
    return WedgeDecoder(reader_id="keyboard")


def down(reader_id: str, detail: str) -> ReaderStatus:
    return ReaderStatus(reader_id, False, detail)
