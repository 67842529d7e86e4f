"""`FrameParser`: the RDM6300/RDM630 and ID-12LA/ID-20LA binary framing, resynchronising on noise.

Frame: ``02``, 10 ASCII hex digits (the 5-byte EM-Marine id), 2 ASCII hex digits (XOR of the 5
bytes), optionally ``CR LF`` (ID-12LA), ``03``. Bytes outside a frame are noise; a frame with a bad
checksum, a non-hex digit or a missing ``03`` is a bad frame. A ``02`` inside a frame restarts
parsing there, so a real frame after any amount of garbage or a cut-off frame is still found.
"""

from __future__ import annotations

import functools
import operator

from drivers.card import em_marine

STX, ETX = 0x02, 0x03
_LONGEST = 16  # STX + 12 hex + CR LF + ETX
_HEX = frozenset(b"0123456789ABCDEFabcdef")


def encode_frame(hex10: str, crlf: bool = False) -> bytes:
    """The frame a reader sends for an id (used by tests, the simulator and the benchmark)."""
    data = bytes.fromhex(hex10)
    checksum = functools.reduce(operator.xor, data, 0)
    return (
        b"\x02" + hex10.upper().encode() + f"{checksum:02X}".encode() + (b"\r\n" if crlf else b"") + b"\x03"
    )


class FrameParser:
    """Incremental parser: ``feed(bytes)`` returns the (canonical id, raw frame) pairs completed."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.noise_bytes = 0
        self.bad_frames = 0
        self.last_bad: bytes = b""

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        self._buf += data
        out: list[tuple[str, bytes]] = []
        while self._buf:
            start = self._buf.find(STX)
            if start < 0:
                self.noise_bytes += len(self._buf)
                self._buf.clear()
                break
            if start:
                self.noise_bytes += start
                del self._buf[:start]
            # self._buf[0] is STX: look for the end, or a new STX that cuts this frame short.
            end = -1
            restart = -1
            for i in range(1, min(len(self._buf), _LONGEST)):
                byte = self._buf[i]
                if byte == ETX:
                    end = i
                    break
                if byte == STX:
                    restart = i
                    break
            if restart > 0:
                self._bad(bytes(self._buf[:restart]))
                del self._buf[:restart]
                continue
            if end < 0:
                if len(self._buf) >= _LONGEST:
                    self._bad(bytes(self._buf[:_LONGEST]))
                    del self._buf[:_LONGEST]
                    continue
                break  # frame not complete yet
            frame = bytes(self._buf[: end + 1])
            del self._buf[: end + 1]
            uid = self._check(frame)
            if uid is None:
                self._bad(frame)
            else:
                out.append((uid, frame))
        return out

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)

    def drop_pending(self) -> int:
        n = len(self._buf)
        self._buf.clear()
        return n

    def _check(self, frame: bytes) -> str | None:
        body = frame[1:-1]
        if body.endswith(b"\r\n"):
            body = body[:-2]
        if len(body) != 12 or not all(b in _HEX for b in body):
            return None
        data = bytes.fromhex(body[:10].decode())
        if functools.reduce(operator.xor, data, 0) != int(body[10:], 16):
            return None
        return em_marine(body[:10].decode())

    def _bad(self, frame: bytes) -> None:
        self.bad_frames += 1
        self.last_bad = frame
