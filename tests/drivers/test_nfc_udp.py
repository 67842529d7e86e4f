"""The nfcpy reader against an emulated card on nfcpy's own ``udp:`` transport (no hardware)."""

from __future__ import annotations

import time

import pytest

from drivers.nfc_reader import NfcReader
from tests.drivers.conftest import Collector
from tests.drivers.nfc_emulator import EmulatedCard, free_udp_port

pytestmark = pytest.mark.slow


@pytest.fixture
def udp_path() -> str:
    return f"udp:localhost:{free_udp_port()}"


def test_mifare_classic_uid_is_read_once_while_held_and_again_after_release(udp_path: str) -> None:
    card = EmulatedCard(udp_path, "BCD14264")
    sink = Collector()
    # No time window: only nfcpy's release detection keeps a held card to one read.
    reader = NfcReader(udp_path, reader_id="nfc-1", debounce=0, targets=("106A",))
    card.place()
    reader.start(sink)
    try:
        assert sink.wait_cards(1, timeout=8) == ["UID:BCD14264"]
        time.sleep(1.5)  # held: nfcpy keeps checking presence, no second read
        assert sink.cards == ["UID:BCD14264"]
        read = sink.reads[0]
        assert read.reader_id == "nfc-1" and read.raw == bytes.fromhex("BCD14264")
        assert read.format == "nfc-type2tag"
        card.remove()
        time.sleep(0.5)
        card.place()
        assert sink.wait_cards(2, timeout=8) == ["UID:BCD14264", "UID:BCD14264"]
    finally:
        card.remove()
        reader.stop(timeout=5)
    assert reader.stats.reads == 2


def test_felica_idm_is_read(udp_path: str) -> None:
    card = EmulatedCard(udp_path, "0101010601B00ADE", felica=True)
    sink = Collector()
    reader = NfcReader(udp_path, targets=("212F",))
    card.place()
    reader.start(sink)
    try:
        assert sink.wait_cards(1, timeout=8) == ["UID:0101010601B00ADE"]
    finally:
        card.remove()
        reader.stop(timeout=5)


def test_nfc_device_failure_is_reported_and_the_reader_reopens_it(udp_path: str) -> None:
    sink = Collector()
    reader = NfcReader(udp_path, targets=("106A",))
    reader.start(sink)
    try:
        sink.wait_status(True)
        # Break the frontend's transport under nfcpy, as a USB unplug does: nfcpy's connect() sees an
        # I/O error and returns False instead of raising.
        time.sleep(0.3)
        reader._clf.device.socket.close()
        down = sink.wait_status(False, timeout=5)
        assert down.detail.startswith("Считыватель отключён")
        sink.wait_status(True, nth=2, timeout=5)
        assert reader.stats.reconnects == 1
        card = EmulatedCard(udp_path, "DEADBEEF")
        card.place()
        try:
            assert sink.wait_cards(1, timeout=8) == ["UID:DEADBEEF"]
        finally:
            card.remove()
    finally:
        reader.stop(timeout=5)


def test_absent_usb_reader_is_reported_with_the_reason_and_retried() -> None:
    sink = Collector()
    reader = NfcReader("usb:ffff:ffff")
    reader.start(sink)
    try:
        status = sink.wait_status(False, timeout=5)
        assert status.detail.startswith("Считыватель отключён: usb:ffff:ffff")
        assert "libusb" in status.detail or "не найден" in status.detail
    finally:
        reader.stop()
