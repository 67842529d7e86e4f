"""Keyboard-wedge readers: a card arrives as a fast burst of digits (or hex) typed, then Enter.

`WedgeDecoder` is pure (no I/O, no clock of its own): feed it each key with a monotonic timestamp
and it tells the caller what the key was part of:

- ``result.card``: a `CardRead` when the Enter closed a fast enough, long enough burst;
- ``result.text``: keys it had held back that turned out to be a person typing: hand them to the UI
  as if they were typed now (the decoder holds a digit back until it knows);
- ``result.consumed``: False when the current key is not the decoder's business (the UI handles it
  as usual, after inserting ``result.text``).

Call `WedgeDecoder.flush` from a timer (every ~50 ms) so a held-back digit typed by a person shows up
without waiting for the next key. `WedgeReader` wraps a decoder as a `Reader` for the UI: the app
feeds its key events, the reads arrive through the sink like any other reader's.
"""

from __future__ import annotations

import string
import time
from dataclasses import dataclass

from drivers.base import CONNECTED, EventReader, Sink
from drivers.card import CardRead
from drivers.lines import LineFormat

ENTER_KEYS = frozenset({"enter", "\r", "\n", "kp_enter"})
DIGITS = frozenset(string.digits)
HEX_DIGITS = frozenset(string.hexdigits)


@dataclass(frozen=True, slots=True)
class WedgeResult:
    card: CardRead | None = None
    text: str = ""
    consumed: bool = False


class WedgeDecoder:
    """Tells a reader's typing from a person's by speed: every gap up to ``max_gap`` seconds.

    ``min_length`` keeps short fast sequences (a person's double-tap) from being cards.
    ``line_format`` decodes the burst: ``auto`` (default) reads 10 digits as D10, 10 hex as EM,
    8/14 hex as an NFC UID; a reader that types Wiegand-26 as 8 digits (``12658404``) needs
    ``w26digits``. ``hex_ids`` lets A-F be part of a burst.
    """

    def __init__(
        self,
        reader_id: str = "wedge",
        max_gap: float = 0.05,
        min_length: int = 6,
        max_length: int = 32,
        line_format: str = "auto",
        hex_ids: bool = True,
    ) -> None:
        self.reader_id = reader_id
        self.max_gap = max_gap
        self.min_length = min_length
        self.max_length = max_length
        self.format = LineFormat(line_format)
        self._alphabet = HEX_DIGITS | {","} if hex_ids else DIGITS | {","}
        self._buf: list[str] = []
        self._last_at = 0.0
        self.rejected = 0  # fast bursts that did not decode (counted like bad frames)

    @property
    def pending(self) -> str:
        return "".join(self._buf)

    def feed(self, key: str, at: float) -> WedgeResult:
        """One key press: a single character, or a key name such as ``enter``."""
        stale = self._take_if_stale(at)
        if len(key) == 1 and key in self._alphabet:
            self._buf.append(key)
            self._last_at = at
            if len(self._buf) > self.max_length:  # nobody's card is that long: it is typing
                return WedgeResult(text=stale + self._take(), consumed=True)
            return WedgeResult(text=stale, consumed=True)
        if key.lower() in ENTER_KEYS and self._buf:
            burst = self._take()
            if len(burst) >= self.min_length:
                decoded = self.format.decode(burst)
                if decoded.uid is not None:
                    raw = burst.encode("ascii")
                    return WedgeResult(
                        card=CardRead(uid=decoded.uid, format="wedge", raw=raw, reader_id=self.reader_id),
                        text=stale,
                        consumed=True,
                    )
                self.rejected += 1
            return WedgeResult(text=stale + burst, consumed=False)
        return WedgeResult(text=stale + self._take(), consumed=False)

    def flush(self, at: float) -> WedgeResult:
        """Release held-back keys once the burst has clearly ended (call from a UI timer)."""
        return WedgeResult(text=self._take_if_stale(at), consumed=False)

    def _take_if_stale(self, at: float) -> str:
        if self._buf and at - self._last_at > self.max_gap:
            return self._take()
        return ""

    def _take(self) -> str:
        text = "".join(self._buf)
        self._buf.clear()
        return text


class WedgeReader(EventReader):
    """The wedge as a `Reader`: the UI calls `feed_key` and `flush` from its key handler and a timer.

    Both must come from one thread (the UI's): the decoder keeps the burst in progress.
    """

    def __init__(
        self, decoder: WedgeDecoder | None = None, reader_id: str = "wedge", debounce: float = 1.5
    ) -> None:
        super().__init__(reader_id, debounce)
        self.decoder = decoder or WedgeDecoder(reader_id=reader_id)

    def start(self, sink: Sink) -> None:
        super().start(sink)
        self.emit_status(True, f"{CONNECTED}: клавиатурный ввод")

    def feed_key(self, key: str, at: float | None = None) -> WedgeResult:
        now = time.monotonic() if at is None else at
        rejected = self.decoder.rejected
        result = self.decoder.feed(key, now)
        if result.card is not None:
            self.emit_card(result.card.uid, result.card.format, result.card.raw, now)
        elif self.decoder.rejected > rejected:
            self.bad_frame(result.text.encode(), "fast burst that is no card number")
        return result

    def flush(self, at: float | None = None) -> WedgeResult:
        return self.decoder.flush(time.monotonic() if at is None else at)
