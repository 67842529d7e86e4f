"""The evdev keyboard-wedge reader: a virtual keyboard through /dev/uinput where the kernel offers it."""

from __future__ import annotations

import os
import time

import pytest

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
