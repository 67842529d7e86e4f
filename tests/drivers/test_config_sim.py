"""ReaderConfig from the terminal's [reader] table, build_reader, and the simulated reader."""

from __future__ import annotations

import tomllib

import pytest

from drivers.config import ReaderConfig, ReaderConfigError, build_reader
from drivers.evdev_reader import EvdevReader
from drivers.nfc_reader import NfcReader
from drivers.serial_reader import SerialFrameReader, SerialLineReader
from drivers.sim import SimReader, parse_script
from drivers.wedge import WedgeReader
from tests.drivers.conftest import Collector

TERMINAL_TOML = """
[reader]
kind = "serial-line"
device = "/dev/serial/by-id/usb-IronLogic_Z-2_USB-if00-port0"
baud = 9600
format = "ironlogic"
line-ending = "crlf"
debounce = 2
reader_id = "window-1"
"""


def test_reader_table_from_toml_maps_onto_the_config() -> None:
    config = ReaderConfig.from_mapping(tomllib.loads(TERMINAL_TOML)["reader"])
    assert config.kind == "serial-line" and config.format == "ironlogic"
    assert config.line_ending == "crlf" and config.debounce == 2.0 and config.reader_id == "window-1"
    reader = build_reader(config)
    assert isinstance(reader, SerialLineReader) and reader.reader_id == "window-1"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "serial-line", "device": "/dev/ttyUSB0", "baudrate": 9600}, "неизвестный ключ «baudrate»"),
        ({"kind": "serial-line", "device": "/dev/ttyUSB0", "baud": "9600"}, "ключ «baud» должен быть целым числом"),
        ({"kind": "serial-line", "device": "/dev/ttyUSB0", "debounce": True}, "ключ «debounce» должен быть числом"),
        ({"kind": "barcode"}, "ключ «kind» должен быть одним из"),
        ({"kind": "serial-frame"}, "нужен ключ «device»"),
        ({"kind": "serial-line", "device": "/dev/ttyUSB0", "format": "(?P<hex>["}, "ключ «format» задан неверно"),
        ({"kind": "serial-line", "device": "/dev/ttyUSB0", "line_ending": "\\r"}, "«line_ending» должен быть одним из"),
        ({"kind": "nfc", "targets": [106]}, "ключ «targets» должен быть списком строк"),
        ({"kind": "sim", "script": "soon 126,58404"}, "ключ «script» задан неверно"),
        ({"kind": "sim", "baud": 0}, "ключ «baud» должен быть больше нуля"),
        ({"kind": "sim", "debounce": -1}, "ключ «debounce» должен быть не меньше 0"),
        ({"kind": "wedge", "wedge_max_gap": 2}, "ключ «wedge_max_gap» должен быть больше 0 и не больше 1"),
        ({"kind": "wedge", "wedge_min_length": 0}, "ключ «wedge_min_length» должен быть не меньше 1"),
    ],
)
def test_bad_reader_table_raises_an_error_naming_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ReaderConfigError, match=message) as caught:
        ReaderConfig.from_mapping(table)
    assert str(caught.value).startswith("[reader]")


@pytest.mark.parametrize(
    ("table", "cls"),
    [
        ({"kind": "serial-frame", "device": "/dev/ttyUSB0"}, SerialFrameReader),
        ({"kind": "nfc", "device": "usb:054c:06c3", "targets": ["106A", "212F"]}, NfcReader),
        ({"kind": "wedge", "wedge_max_gap": 0.03}, WedgeReader),
        ({"kind": "evdev", "device": "/dev/input/by-id/usb-reader-event-kbd"}, EvdevReader),
        ({"kind": "sim", "script": "0.1 126,58404"}, SimReader),
    ],
)
def test_build_reader_gives_the_driver_for_each_kind(table: dict[str, object], cls: type) -> None:
    assert isinstance(build_reader(ReaderConfig.from_mapping(table)), cls)


def test_wedge_settings_reach_the_decoder() -> None:
    reader = build_reader(
        ReaderConfig.from_mapping({"kind": "wedge", "wedge_max_gap": 0.03, "format": "dec10"})
    )
    assert isinstance(reader, WedgeReader)
    assert reader.decoder.max_gap == 0.03 and reader.decoder.format.name == "dec10"


def test_scripted_sim_reader_plays_reads_unplug_and_plug() -> None:
    script = parse_script(
        "0.01 126,58404; 0.01 126,58404; 0.01 unplug; 0.01 0008315940; 0.01 plug; 0.01 EM:170009593F"
    )
    reader = SimReader(script, debounce=1.5)
    sink = Collector()
    reader.start(sink)
    assert reader.finished.wait(3)
    reader.stop()
    # The repeat is debounced; an unplugged reader sends nothing.
    assert sink.cards == ["W26:126,58404", "EM:170009593F"]
    assert [s.connected for s in sink.statuses] == [True, False, True]
    assert reader.stats.duplicates == 1 and reader.stats.reconnects == 1


def test_typed_garbage_on_the_sim_reader_is_a_bad_frame() -> None:
    reader = SimReader()
    sink = Collector()
    reader.start(sink)
    assert reader.present("12x") is False
    assert reader.present("0008315940") is True
    reader.stop()
    assert sink.cards == ["D10:0008315940"] and reader.stats.bad_frames == 1
