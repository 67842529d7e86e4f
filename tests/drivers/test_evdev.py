"""The evdev keyboard-wedge reader: a virtual keyboard through /dev/uinput where the kernel offers it."""

from __future__ import annotations

import os
import time

import pytest

from drivers.base import EventReader
from drivers.evdev_reader import EvdevReader, key_char
from tests.drivers.conftest import Collector


def test_reader_keys_map_to_card_characters_and_other_keys_to_none() -> None:
    assert [key_char(k) for k in ("KEY_0", "KEY_KP7", "KEY_A", "KEY_KPENTER", "KEY_COMMA")] == [
        "0",
        "7",
        "A",
        "enter",
        ",",
    ]
    assert key_char("KEY_LEFTSHIFT") is None and key_char("KEY_G") is None


def test_missing_input_device_is_reported_as_disconnected_with_the_reason() -> None:
    sink = Collector()
    reader = EvdevReader("/dev/input/by-id/usb-no-such-reader-event-kbd")
    reader.start(sink)
    try:
        status = sink.wait_status(False)
        assert status.detail.startswith("Считыватель отключён")
        assert "evdev" in status.detail or "no-such-reader" in status.detail
    finally:
        reader.stop()


def _uinput_usable() -> str | None:
    try:
        import evdev  # noqa: F401
    except ImportError:
        return "python-evdev is not installed"
    if not os.path.exists("/dev/uinput"):
        return "/dev/uinput does not exist (no uinput module in this kernel/container)"
    if not os.access("/dev/uinput", os.W_OK):
        return "no write access to /dev/uinput"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_uinput_usable() is not None, reason=str(_uinput_usable()))
def test_grabbed_virtual_wedge_keyboard_types_a_card_read() -> None:
    import evdev
    from evdev import ecodes

    keys = [getattr(ecodes, f"KEY_{d}") for d in "0123456789"] + [ecodes.KEY_ENTER]
    with evdev.UInput({ecodes.EV_KEY: keys}, name="canteen-test-wedge") as ui:
        time.sleep(0.3)  # udev creates the event node
        sink = Collector()
        reader = EvdevReader(str(ui.device.path), grab=True)
        reader.start(sink)
        try:
            sink.wait_status(True)
            for ch in "0008315940":
                code = getattr(ecodes, f"KEY_{ch}")
                ui.write(ecodes.EV_KEY, code, 1)
                ui.write(ecodes.EV_KEY, code, 0)
                ui.syn()
                time.sleep(0.005)
            ui.write(ecodes.EV_KEY, ecodes.KEY_ENTER, 1)
            ui.write(ecodes.EV_KEY, ecodes.KEY_ENTER, 0)
            ui.syn()
            assert sink.wait_cards(1) == ["D10:0008315940"]
        finally:
            reader.stop()


class _PipeDevice:
    """An input device as EvdevReader.read_device sees one: a pollable fd and a batch of real evdev
    events (the kernel side is what this container lacks)."""

    def __init__(self, events: list[object]) -> None:
        self._read_fd, write_fd = os.pipe()
        os.write(write_fd, b"x")
        os.close(write_fd)
        self.fd = self._read_fd
        self.events = events

    def read(self) -> list[object]:
        events, self.events = self.events, []
        return events

    def close(self) -> None:
        os.close(self._read_fd)


def test_shift_pressed_around_hex_letters_does_not_break_the_card_number() -> None:
    evdev = pytest.importorskip("evdev")
    ecodes = evdev.ecodes
    now = time.time()
    events = []
    for i, key in enumerate(["KEY_0", "KEY_4", "KEY_LEFTSHIFT", "KEY_A", "KEY_1", "KEY_LEFTSHIFT", "KEY_B",
                             "KEY_2", "KEY_C", "KEY_3", "KEY_ENTER"]):
        at = now + i * 0.005
        events.append(evdev.InputEvent(int(at), int(at % 1 * 1e6), ecodes.EV_KEY, getattr(ecodes, key), 1))
    sink = Collector()
    reader = EvdevReader("/dev/input/event-test", grab=False)
    EventReader.start(reader, sink)  # the delivery queue only: the device loop is driven by hand
    device = _PipeDevice(events)
    reader._device, reader._ecodes = device, ecodes
    try:
        reader.read_device()
    finally:
        EventReader.stop(reader)
        device.close()
    assert [read.uid for read in sink.reads] == ["UID:04A1B2C3"]
