"""Serial readers through pyserial: text-line readers (IronLogic, Mifare desktop readers, converters)
and framed readers (RDM6300/RDM630, ID-12LA).

Both open the port by path or pyserial URL (prefer ``/dev/serial/by-id/...``: it survives
re-plugging into another USB socket), read with a short timeout so ``stop()`` is prompt, and treat
any read error as an unplug: reported once, then the port is reopened with backoff until it is back.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from typing import Any

import serial

from drivers.base import ThreadedReader
from drivers.frames import FrameParser
from drivers.lines import LineFormat, LineSplitter

READ_TIMEOUT = 0.1
# A partial line or frame that stays incomplete this long is noise (a cut-off transmission).
STALE_AFTER = 0.5


class SerialReader(ThreadedReader):
    """Common part: the port, the raw monitor and the stale-partial rule."""

    def __init__(self, device: str, baud: int = 9600, reader_id: str = "", debounce: float = 1.5) -> None:
        super().__init__(reader_id or f"serial:{device}", debounce)
        self.device = device
        self.baud = baud
        self._port: Any = None
        self._last_byte_at = 0.0

    def describe(self) -> str:
        return self.device

    def open_device(self) -> None:
        kwargs: dict[str, Any] = {"baudrate": self.baud, "timeout": READ_TIMEOUT}
        if "://" not in self.device:
            kwargs["exclusive"] = True  # a second program on the same port would steal bytes
        self._port = serial.serial_for_url(self.device, **kwargs)
        self._port.reset_input_buffer()  # bytes from before we listened are not a presentation now

    def close_device(self) -> None:
        dropped = self.drop_pending()
        self.stats.noise_bytes += dropped
        if self._port is not None:
            self._port.close()
            self._port = None

    def read_device(self) -> None:
        port = self._port
        waiting = port.in_waiting
        data: bytes = port.read(waiting or 1)
        now = time.monotonic()
        if not data:
            if self.has_pending() and now - self._last_byte_at > STALE_AFTER:
                dropped = self.drop_pending()
                self.stats.noise_bytes += dropped
                self.bad_frame(b"", f"{dropped} bytes of an unfinished line/frame")
            return
        self._last_byte_at = now
        self.monitor_raw(data)
        self.feed(data, now)

    @abstractmethod
    def feed(self, data: bytes, now: float) -> None: ...

    @abstractmethod
    def has_pending(self) -> bool: ...

    @abstractmethod
    def drop_pending(self) -> int: ...


class SerialLineReader(SerialReader):
    """A reader that sends one text line per card (``Em-Marine[5500] 126,58404``, hex, decimal ...)."""

    def __init__(
        self,
        device: str,
        baud: int = 9600,
        line_format: str = "auto",
        line_ending: str = "any",
        reader_id: str = "",
        debounce: float = 1.5,
        max_line: int = 256,
    ) -> None:
        super().__init__(device, baud, reader_id, debounce)
        self.format = LineFormat(line_format)
        self._splitter = LineSplitter(line_ending, max_line)

    def feed(self, data: bytes, now: float) -> None:
        before = self._splitter.overflow_bytes
        lines = self._splitter.feed(data)
        overflow = self._splitter.overflow_bytes - before
        if overflow:
            self.stats.noise_bytes += overflow
            self.bad_frame(data[-32:], f"line longer than the limit: {overflow} bytes dropped")
        for line in lines:
            text = line.decode("ascii", errors="replace")
            decoded = self.format.decode(text)
            if decoded.release:
                self.emit_release(now)
            elif decoded.uid is not None:
                self.emit_card(decoded.uid, self.format.name, line, now)
            else:
                self.bad_frame(line, decoded.error)

    def has_pending(self) -> bool:
        return bool(self._splitter.pending)

    def drop_pending(self) -> int:
        return self._splitter.drop_pending()


class SerialFrameReader(SerialReader):
    """An RDM6300/RDM630/ID-12LA module: binary frames with an XOR checksum, repeated while held."""

    def __init__(self, device: str, baud: int = 9600, reader_id: str = "", debounce: float = 1.5) -> None:
        super().__init__(device, baud, reader_id, debounce)
        self._parser = FrameParser()

    def feed(self, data: bytes, now: float) -> None:
        parser = self._parser
        bad, noise = parser.bad_frames, parser.noise_bytes
        frames = parser.feed(data)
        self.stats.noise_bytes += parser.noise_bytes - noise
        for _ in range(parser.bad_frames - bad):
            self.bad_frame(parser.last_bad, "bad RDM6300 frame (checksum, digits or length)")
        for uid, raw in frames:
            self.emit_card(uid, "rdm6300", raw, now)

    def has_pending(self) -> bool:
        return bool(self._parser.pending)

    def drop_pending(self) -> int:
        return self._parser.drop_pending()
