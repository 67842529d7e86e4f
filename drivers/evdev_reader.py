"""`EvdevReader`: a keyboard-wedge reader read straight from its Linux input device.

With ``grab=True`` the device is grabbed (EVIOCGRAB), so its keystrokes reach this program only and
never the focused terminal or another window. Keys go through a `WedgeDecoder` with the kernel's
event timestamps. python-evdev is optional and imported lazily; without it, or without read access
to ``/dev/input/event*`` (group ``input`` or a udev rule), the reader reports why as its status
and keeps retrying, so fixing the permission needs no restart.
"""

from __future__ import annotations

import select
import time
from typing import Any

from drivers.base import ThreadedReader
from drivers.wedge import WedgeDecoder

# Key codes (linux/input-event-codes.h) of what wedge readers type.
_KEYS: dict[str, str] = {f"KEY_{d}": d for d in "0123456789"}
_KEYS.update({f"KEY_KP{d}": d for d in "0123456789"})
_KEYS.update({f"KEY_{c}": c for c in "ABCDEF"})
_KEYS.update({"KEY_COMMA": ",", "KEY_ENTER": "enter", "KEY_KPENTER": "enter"})
# Readers that type upper-case hex press Shift (or toggle Caps Lock) around the letters: part of the
# card number's burst, not a key of its own.
MODIFIERS = frozenset({"KEY_LEFTSHIFT", "KEY_RIGHTSHIFT", "KEY_CAPSLOCK"})


class EvdevUnavailable(Exception):
    """python-evdev is missing or the device cannot be opened."""


def key_char(keycode: str) -> str | None:
    """The character a wedge key stands for, or None for keys a card number never contains."""
    return _KEYS.get(keycode)


def list_keyboards() -> list[tuple[str, str]]:
    """(path, name) of input devices that have number keys; empty without python-evdev."""
    try:
        import evdev
    except ImportError:
        return []
    found = []
    for path in evdev.list_devices():
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue
        keys = device.capabilities().get(evdev.ecodes.EV_KEY, [])
        if evdev.ecodes.KEY_1 in keys and evdev.ecodes.KEY_ENTER in keys:
            found.append((path, device.name))
        device.close()
    return found


class EvdevReader(ThreadedReader):
    def __init__(
        self,
        path: str,
        reader_id: str = "",
        debounce: float = 1.5,
        grab: bool = True,
        decoder: WedgeDecoder | None = None,
    ) -> None:
        super().__init__(reader_id or f"evdev:{path}", debounce)
        self.path = path
        self.grab = grab
        self.decoder = decoder or WedgeDecoder(reader_id=self.reader_id)
        self._device: Any = None
        self._ecodes: Any = None

    def describe(self) -> str:
        return self.path

    def open_device(self) -> None:
        try:
            import evdev
        except ImportError as error:
            raise EvdevUnavailable("не установлен python-evdev (pip install evdev)") from error
        try:
            device = evdev.InputDevice(self.path)
        except PermissionError as error:
            raise EvdevUnavailable(
                f"нет доступа к {self.path}: нужна группа input или правило udev"
            ) from error
        if self.grab:
            try:
                device.grab()
            except OSError as error:
                device.close()
                raise EvdevUnavailable(f"{self.path} уже захвачен другой программой: {error}") from error
        self._device, self._ecodes = device, evdev.ecodes

    def close_device(self) -> None:
        if self._device is not None:
            try:
                if self.grab:
                    self._device.ungrab()
            except OSError:
                pass  # the device is already gone
            self._device.close()
            self._device = None

    def read_device(self) -> None:
        device = self._device
        ready, _, _ = select.select([device.fd], [], [], 0.1)
        if not ready:
            # Kernel input timestamps are CLOCK_REALTIME: compare like with like. Keys typed too
            # slowly on a grabbed reader are nobody's input: drop them.
            self.decoder.flush(time.time())
            return
        for event in device.read():  # raises OSError(ENODEV) when unplugged
            if event.type != self._ecodes.EV_KEY or event.value != 1:  # key down only
                continue
            name = self._ecodes.KEY.get(event.code)
            if isinstance(name, list):
                name = name[0]
            if name in MODIFIERS:
                continue
            char = key_char(str(name))
            at = event.timestamp()
            if char is None:
                self.decoder.feed("other", at)
                continue
            self.monitor_raw(char.encode() if char != "enter" else b"\n")
            result = self.decoder.feed(char, at)
            if result.card is not None:
                self.emit_card(result.card.uid, "evdev", result.card.raw)
            elif not result.consumed and result.text:
                self.bad_frame(result.text.encode(), "keys typed too slowly for a card")
