"""`canteen readers` commands and the layering rule of drivers/."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from drivers.card import CardRead
from drivers.cli import describe_card, guess_kind, readers
from tests.drivers.conftest import PtyDevice


def test_readers_without_subcommand_lists_serial_ports_and_nfc_readers_in_russian() -> None:
    result = CliRunner().invoke(readers, [])
    assert result.exit_code == 0, result.output
    assert "Последовательные порты" in result.output
    assert "NFC-считыват" in result.output


def test_watch_shows_raw_bytes_and_the_decoded_id_with_its_other_forms(pty_device: PtyDevice) -> None:
    def send() -> None:
        time.sleep(0.5)
        pty_device.write(b"Em-Marine[5500] 126,58404\r\n")

    threading.Thread(target=send, daemon=True).start()
    result = CliRunner().invoke(
        readers, ["watch", str(pty_device.path), "--format", "ironlogic", "--count", "1", "--seconds", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "Считыватель подключён" in result.output
    assert "45 6d 2d 4d 61 72 69 6e 65" in result.output  # "Em-Marine" as hex bytes
    assert "EM:55007EE424  =  D10:0008315940  =  W26:126,58404" in result.output
    assert "Итого: карт 1" in result.output


def test_watch_sim_reads_typed_card_numbers() -> None:
    result = CliRunner().invoke(
        readers, ["watch", "sim", "--seconds", "0.5", "--debounce", "0"], input="126,58404\nbogus\n"
    )
    assert result.exit_code == 0, result.output
    assert "КАРТА W26:126,58404" in result.output
    assert "плохих кадров 1" in result.output


def test_watch_with_a_bad_format_is_a_usage_error_naming_the_key() -> None:
    result = CliRunner().invoke(readers, ["watch", "/dev/ttyUSB0", "--format", "(?P<x>"])
    assert result.exit_code == 2 and "format" in result.output


def test_device_paths_pick_the_reader_kind() -> None:
    assert guess_kind("usb:054c:06c3") == "nfc"
    assert guess_kind("tty:USB0:pn532") == "nfc"
    assert guess_kind("/dev/input/by-id/usb-x-event-kbd") == "evdev"
    assert guess_kind("/dev/ttyUSB0") == "serial-line"
    assert guess_kind("sim") == "sim"


def test_nfc_uid_is_described_without_numeric_forms() -> None:
    text = describe_card(CardRead(uid="UID:BCD14264", format="nfc", raw=b"\xbc\xd1\x42\x64"))
    assert "UID:BCD14264" in text and "D10" not in text


def test_drivers_import_nothing_from_other_layers_nor_ui_or_web_frameworks() -> None:
    code = (
        "import sys, drivers, drivers.card, drivers.base, drivers.config, drivers.cli, drivers.sim\n"
        "import drivers.serial_reader, drivers.nfc_reader, drivers.wedge, drivers.evdev_reader\n"
        "import drivers.frames, drivers.lines, drivers.nfc_reader\n"
        "drivers.nfc_reader.open_frontend  # nfcpy itself is imported lazily: import it too\n"
        "import nfc, serial, click\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'pos', 'terminal', 'server', 'sync', 'textual', 'flask'})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.slow
def test_benchmark_script_prints_one_json_line_per_baud_rate_with_no_read_lost() -> None:
    out = subprocess.run(
        [sys.executable, "bench/readers.py", "--reads", "30", "--baud", "115200"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    (line,) = out.stdout.splitlines()
    result = json.loads(line)
    assert result["baud"] == 115200 and result["reads"] == 30 and result["lost"] == 0
    assert result["floor_ms"] == pytest.approx(14 * 10 / 115200 * 1000, abs=0.001)
    assert result["p99_ms"] >= result["p50_ms"] >= result["floor_ms"] * 0.9
