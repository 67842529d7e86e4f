"""Serial readers on a real pseudo-terminal through pyserial: reads, garbage, unplug, slow consumer."""

from __future__ import annotations

import time

import pytest

from drivers.frames import encode_frame
from drivers.serial_reader import SerialFrameReader, SerialLineReader
from tests.drivers.conftest import Collector, PtyDevice


def started(reader: SerialLineReader | SerialFrameReader, sink: Collector) -> None:
    reader.start(sink)
    sink.wait_status(True)


def test_ironlogic_line_on_a_pty_becomes_one_canonical_card_read(pty_device: PtyDevice) -> None:
    sink = Collector()
    reader = SerialLineReader(str(pty_device.path), 9600, "ironlogic", reader_id="counter-1")
    started(reader, sink)
    try:
        pty_device.write(b"Em-Marine[5500] 126,58404\r\n")
        assert sink.wait_cards(1) == ["EM:55007EE424"]
        read = sink.reads[0]
        assert read.reader_id == "counter-1" and read.raw == b"Em-Marine[5500] 126,58404"
    finally:
        reader.stop()


def test_line_split_across_writes_is_reassembled(pty_device: PtyDevice) -> None:
    sink = Collector()
    reader = SerialLineReader(str(pty_device.path), line_format="ironlogic")
    started(reader, sink)
    try:
        for piece in (b"Em-Mar", b"ine[1700] 009,", b"22847\r", b"\n"):
            pty_device.write(piece)
            time.sleep(0.02)
        assert sink.wait_cards(1) == ["EM:170009593F"]
    finally:
        reader.stop()


def test_repeated_line_while_card_stays_is_one_read_and_no_card_line_is_not_a_read(
    pty_device: PtyDevice,
) -> None:
    sink = Collector()
    reader = SerialLineReader(str(pty_device.path), line_format="ironlogic", debounce=1.5)
    started(reader, sink)
    try:
        pty_device.write(b"Em-Marine[5500] 126,58404\r\n" * 5 + b"No card\r\n")
        pty_device.write(b"Em-Marine[1700] 009,22847\r\n")
        sink.wait_cards(2)
        time.sleep(0.1)
        assert sink.cards == ["EM:55007EE424", "EM:170009593F"]
        assert reader.stats.duplicates == 4 and reader.stats.bad_frames == 0
    finally:
        reader.stop()


def test_binary_garbage_and_an_endless_line_are_counted_and_never_a_phantom_card(
    pty_device: PtyDevice,
) -> None:
    sink = Collector()
    reader = SerialLineReader(str(pty_device.path), line_format="dec10", max_line=128)
    started(reader, sink)
    try:
        pty_device.write(bytes(range(256)) + b"\r\n")  # binary garbage, with CR/LF inside
        pty_device.write(b"12345" * 400)  # an endless line: 2000 bytes without a terminator
        pty_device.write(b"\r\n9999999999\r\n")  # out of range for 32 bits
        pty_device.write(b"0008315940\r\n")
        assert sink.wait_cards(1) == ["D10:0008315940"]
        time.sleep(0.2)
        assert sink.cards == ["D10:0008315940"]
        assert reader.stats.bad_frames >= 3
        assert reader.stats.noise_bytes >= 1900
    finally:
        reader.stop()


def test_unfinished_line_is_dropped_as_noise_and_does_not_spoil_the_next_line(pty_device: PtyDevice) -> None:
    sink = Collector()
    reader = SerialLineReader(str(pty_device.path), line_format="hex")
    started(reader, sink)
    try:
        pty_device.write(b"BCD1")  # the reader was cut off mid-line
        time.sleep(0.8)
        pty_device.write(b"04A1B2C3\r\n")
        assert sink.wait_cards(1) == ["UID:04A1B2C3"]
        assert reader.stats.noise_bytes == 4 and reader.stats.bad_frames == 1
    finally:
        reader.stop()


def test_rdm6300_frames_on_a_pty_with_noise_and_bad_checksums(pty_device: PtyDevice) -> None:
    sink = Collector()
    reader = SerialFrameReader(str(pty_device.path), 9600, debounce=1.5)
    started(reader, sink)
    try:
        good = encode_frame("62E3086CED")
        pty_device.write(b"\xff\xfe\x00" + b"\x0262E3086CED09\x03" + good * 3 + b"\x02123")
        pty_device.write(encode_frame("0C000621A5", crlf=True))
        sink.wait_cards(2)
        time.sleep(0.1)
        assert sink.cards == ["EM:62E3086CED", "EM:0C000621A5"]
        assert reader.stats.bad_frames == 2  # the bad checksum and the cut-off frame
        assert reader.stats.noise_bytes == 3
        assert reader.stats.duplicates == 2
    finally:
        reader.stop()


def test_slow_consumer_gets_every_read_in_order(pty_device: PtyDevice) -> None:
    sink = Collector(delay=0.01)  # 10 ms per event: slower than the reader sends
    reader = SerialFrameReader(str(pty_device.path), debounce=0)
    started(reader, sink)
    try:
        ids = [f"{i:010X}" for i in range(1, 151)]
        pty_device.write(b"".join(encode_frame(i) for i in ids))
        assert sink.wait_cards(150, timeout=10) == [f"EM:{i}" for i in ids]
    finally:
        reader.stop()


@pytest.mark.slow
def test_unplug_is_reported_and_the_reader_reconnects_when_the_device_returns(pty_device: PtyDevice) -> None:
    sink = Collector()
    reader = SerialLineReader(str(pty_device.path), line_format="ironlogic")
    started(reader, sink)
    try:
        pty_device.write(b"Em-Marine[5500] 126,58404\r\n")
        sink.wait_cards(1)
        pty_device.unplug()
        down = sink.wait_status(False)
        assert down.detail.startswith("Считыватель отключён")
        assert not reader.connected
        time.sleep(0.5)  # a few failed reopen attempts while it is away: reported once only
        pty_device.plug()
        up = sink.wait_status(True, nth=2)
        assert up.detail.startswith("Считыватель подключён")
        pty_device.write(b"Em-Marine[1700] 009,22847\r\n")
        assert sink.wait_cards(2) == ["EM:55007EE424", "EM:170009593F"]
        assert reader.stats.reconnects == 1
        assert [s.connected for s in sink.statuses] == [True, False, True]
    finally:
        reader.stop()


def test_missing_device_is_reported_disconnected_and_stop_is_prompt(tmp_path: object) -> None:
    sink = Collector()
    reader = SerialLineReader("/dev/serial/by-id/usb-no-such-reader")
    reader.start(sink)
    status = sink.wait_status(False)
    assert "usb-no-such-reader" in status.detail
    started_at = time.monotonic()
    reader.stop()
    assert time.monotonic() - started_at < 1.0
