"""Text-line formats of serial readers: presets and custom regular expressions -> canonical ids.

A format is a regular expression searched in each line (without its terminator). Named groups say
what was read; the first rule below whose groups matched builds the canonical id (`drivers.card`):

==========================  ==============================================================
``release``                 the card was removed (``No card``); no id
``em_hi`` + ``facility`` +  IronLogic EM-Marine: ``[V D3]`` as 4 hex digits, then D2 and D1D0
``number``                  in decimal -> ``EM:`` 10 hex digits
``em``                      10 hex digits, EM-Marine -> ``EM:``
``uid``                     NFC UID in hex (4..10 bytes) -> ``UID:``
``hex``                     10 hex digits -> ``EM:``; 8/14/20 -> ``UID:``
``dec``                     10-digit decimal -> ``D10:``
``facility`` + ``number``   Wiegand-26 pair -> ``W26:``
``id``                      anything `parse_card_id` accepts
==========================  ==============================================================

A line that matches nothing, or whose numbers are out of range, is a bad frame (counted, logged,
never a card).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.card import CardIdError, decimal10, em_marine, nfc_uid, parse_card_id, wiegand26

PRESETS: dict[str, str] = {
    # IronLogic Z-2 USB and its clones. The bracket is part of the EM id: dropping it merges cards.
    "ironlogic": (
        r"Em-Marine\s*\[(?P<em_hi>[0-9A-Fa-f]{4})\]\s*(?P<facility>\d{1,3})\s*,\s*(?P<number>\d{1,5}),?\s*$"
        r"|Mifare\s*\[(?P<uid>[0-9A-Fa-f]{8,20})\]"
        r"|^\s*(?P<release>No card)\s*$"
    ),
    "hex": r"^\s*(?P<hex>[0-9A-Fa-f]{20}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{10}|[0-9A-Fa-f]{8})\s*$",
    "dec10": r"^\s*(?P<dec>\d{10})\s*$",
    "w26": r"^\s*(?:W26:)?(?P<facility>\d{1,3})\s*,\s*(?P<number>\d{1,5})\s*$",
    # Wiegand-26 typed as 3 + 5 digits without separator (keyboard-wedge readers).
    "w26digits": r"^\s*(?P<facility>\d{3})(?P<number>\d{5})\s*$",
}
# `auto` takes IronLogic lines and any bare number `parse_card_id` knows (10 digits read as D10).
PRESETS["auto"] = PRESETS["ironlogic"] + r"|^\s*(?P<id>[0-9A-Za-z:,]{6,32})\s*$"

LINE_ENDINGS: dict[str, bytes | None] = {"any": None, "crlf": b"\r\n", "lf": b"\n", "cr": b"\r"}


class LineFormatError(ValueError):
    """A line format that is neither a preset name nor a usable regular expression."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one line said: a canonical id, a removal, or nothing usable (``error`` says why)."""

    uid: str | None = None
    release: bool = False
    error: str = ""


_KNOWN_GROUPS = {"release", "em_hi", "em", "uid", "hex", "dec", "facility", "number", "id"}


class LineFormat:
    """A compiled line format; ``LineFormat("ironlogic")`` or ``LineFormat(r"ID=(?P<hex>\\w+)")``."""

    def __init__(self, spec: str) -> None:
        self.name = spec if spec in PRESETS else "custom"
        pattern = PRESETS.get(spec, spec)
        try:
            self.regex = re.compile(pattern)
        except re.error as error:
            raise LineFormatError(
                f"это не готовый формат ({', '.join(PRESETS)}) и не регулярное выражение: {error}"
            ) from error
        groups = set(self.regex.groupindex)
        if not groups & _KNOWN_GROUPS:
            raise LineFormatError(
                f"в формате строки нужна именованная группа (named group): одна из {', '.join(sorted(_KNOWN_GROUPS))}"
            )

    def decode(self, line: str) -> Decoded:
        m = self.regex.search(line)
        if m is None:
            return Decoded(error="no match")
        g = {k: v for k, v in m.groupdict().items() if v is not None}
        try:
            if "release" in g:
                return Decoded(release=True)
            if "em_hi" in g and "facility" in g and "number" in g:
                low = wiegand26(int(g["facility"]), int(g["number"]))  # range check
                facility, number = low[4:].split(",")
                return Decoded(uid=em_marine(f"{g['em_hi']}{int(facility):02X}{int(number):04X}"))
            if "em" in g:
                return Decoded(uid=em_marine(g["em"]))
            if "uid" in g:
                return Decoded(uid=nfc_uid(g["uid"]))
            if "hex" in g:
                value = g["hex"]
                return Decoded(uid=em_marine(value) if len(value) == 10 else nfc_uid(value))
            if "dec" in g:
                return Decoded(uid=decimal10(g["dec"]))
            if "facility" in g and "number" in g:
                return Decoded(uid=wiegand26(int(g["facility"]), int(g["number"])))
            if "id" in g:
                return Decoded(uid=parse_card_id(g["id"]))
        except CardIdError as error:
            return Decoded(error=str(error))
        return Decoded(error="no card number group matched")


class LineSplitter:
    """Splits a byte stream into lines; bounds memory when the terminator never comes.

    ``ending`` is ``any`` (CR, LF or CR LF), ``crlf``, ``lf`` or ``cr``. A line longer than
    ``max_line`` bytes is noise: it is dropped up to the next terminator and reported as overflow.
    """

    def __init__(self, ending: str = "any", max_line: int = 256) -> None:
        if ending not in LINE_ENDINGS:
            raise LineFormatError(f"конец строки — один из {', '.join(LINE_ENDINGS)}, а не {ending!r}")
        self._sep = LINE_ENDINGS[ending]
        self._max = max_line
        self._buf = bytearray()
        self._discarding = False
        self.overflow_bytes = 0

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        lines: list[bytes] = []
        while True:
            cut = self._find_end()
            if cut is None:
                break
            start, end = cut
            line = bytes(self._buf[:start])
            del self._buf[:end]
            if self._discarding or len(line) > self._max:
                self.overflow_bytes += len(line)
                self._discarding = False
            elif line:
                lines.append(line)
        if len(self._buf) > self._max:
            self.overflow_bytes += len(self._buf)
            self._buf.clear()
            self._discarding = True
        return lines

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)

    def drop_pending(self) -> int:
        """Forget a partial line (the device went away mid-line); returns the bytes dropped."""
        n = len(self._buf)
        self._buf.clear()
        self._discarding = False
        return n

    def _find_end(self) -> tuple[int, int] | None:
        if self._sep is not None:
            i = self._buf.find(self._sep)
            return None if i < 0 else (i, i + len(self._sep))
        for i, byte in enumerate(self._buf):
            if byte in (0x0D, 0x0A):
                return i, i + 1
        return None
