"""``canteen readers``: find readers and watch what one sends, for the person installing a terminal.

``canteen readers`` (or ``readers list``) lists serial ports, supported NFC readers and, when
python-evdev is installed, keyboard-like input devices. ``canteen readers watch DEVICE`` opens one
reader and prints every chunk of raw bytes it sends and every decoded card id with its other forms,
until Ctrl+C (or ``--seconds`` / ``--count``). Messages are Russian: the installers read them.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from pathlib import Path

import click

from drivers.base import Reader, ReaderEvent, ReaderStatus
from drivers.card import CardRead, to_decimal10, to_wiegand26
from drivers.config import KINDS, ReaderConfig, ReaderConfigError, build_reader

# USB ids worth naming (vendor:product -> what it is, what to do).
KNOWN_USB: dict[str, str] = {
    "0403:1234": "IronLogic Z-2 USB (EM-Marine): нужен new_id для ftdi_sio, см. docs/readers.md",
    "054c:06c1": 'Sony RC-S380 (NFC): kind = "nfc", device = "usb:054c:06c1"',
    "054c:06c3": 'Sony RC-S380 (NFC): kind = "nfc", device = "usb:054c:06c3"',
    "054c:02e1": 'Sony RC-S330/360/370 (NFC): kind = "nfc", device = "usb:054c:02e1"',
    "072f:2200": 'ACR122U (NFC): kind = "nfc", device = "usb:072f:2200"; выгрузите pn533/nfc из ядра',
    "04e6:5591": 'SCL3711 (NFC): kind = "nfc", device = "usb:04e6:5591"',
}


def usb_devices(root: Path = Path("/sys/bus/usb/devices")) -> list[tuple[str, str]]:
    """(vendor:product, sysfs name) of the USB devices present, from sysfs (no libusb needed)."""
    found = []
    for dev in sorted(root.glob("*")) if root.exists() else []:
        try:
            vid = (dev / "idVendor").read_text().strip()
            pid = (dev / "idProduct").read_text().strip()
        except OSError:
            continue
        found.append((f"{vid}:{pid}", dev.name))
    return found


def serial_by_id() -> dict[str, str]:
    """Real device path -> stable /dev/serial/by-id link."""
    links: dict[str, str] = {}
    base = Path("/dev/serial/by-id")
    if base.is_dir():
        for link in base.iterdir():
            links[os.path.realpath(link)] = str(link)
    return links


def probe_nfc() -> tuple[str | None, str | None]:
    """(the NFC reader nfcpy opens on ``usb``, None) or (None, why not, or None when simply absent)."""
    from drivers.nfc_reader import NfcAbsent, NfcUnavailable, open_frontend

    try:
        clf = open_frontend("usb")
    except NfcAbsent:
        return None, None
    except NfcUnavailable as error:
        return None, str(error)
    except Exception as error:  # nfcpy raises assorted errors on odd hardware
        return None, f"ошибка nfcpy: {error}"
    try:
        return str(clf.device), None
    finally:
        clf.close()


@click.group(invoke_without_command=True)
@click.pass_context
def readers(ctx: click.Context) -> None:
    """Считыватели карт: список и проверка."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_readers)


@readers.command("list")
def list_readers() -> None:
    """Показать последовательные порты, NFC-считыватели и клавиатурные устройства."""
    from serial.tools import list_ports

    ports = list_ports.comports()
    by_id = serial_by_id()
    if ports:
        click.echo("Последовательные порты:")
        for port in ports:
            usb = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None and port.pid is not None else ""
            description = "" if port.description in ("n/a", port.name) else port.description
            click.echo(f"  {port.device}  {description}  {usb}".rstrip())
            if port.device in by_id:
                click.echo(f"    постоянный путь: {by_id[port.device]}")
            if usb in KNOWN_USB:
                click.echo(f"    {KNOWN_USB[usb]}")
    else:
        click.echo("Последовательные порты не найдены")

    present = usb_devices()
    known = [(usb, name) for usb, name in present if usb in KNOWN_USB]
    if known:
        click.echo("Известные USB-считыватели:")
        for usb, name in known:
            click.echo(f"  {usb} (usb {name}): {KNOWN_USB[usb]}")

    found, problem = probe_nfc()
    if found:
        click.echo(f'NFC-считыватель: {found} (device = "usb")')
    elif problem:
        click.echo(f"NFC-считыватели не найдены: {problem}")
    else:
        click.echo("NFC-считыватели не найдены")

    from drivers.evdev_reader import list_keyboards

    keyboards = list_keyboards()
    if keyboards:
        click.echo('Клавиатурные устройства (kind = "evdev"):')
        for path, name in keyboards:
            click.echo(f"  {path}  {name}")


def guess_kind(device: str) -> str:
    if device == "sim" or device.startswith("sim:"):
        return "sim"
    if device.split(":")[0] in ("usb", "tty", "udp"):
        return "nfc"
    if device.startswith("/dev/input/"):
        return "evdev"
    return "serial-line"


def describe_card(read: CardRead) -> str:
    forms = [read.uid]
    d10, w26 = to_decimal10(read.uid), to_wiegand26(read.uid)
    if d10 is not None and not read.uid.startswith("D10:"):
        forms.append(f"D10:{d10}")
    if w26 is not None and not read.uid.startswith("W26:"):
        forms.append(f"W26:{w26}")
    return f"КАРТА {'  =  '.join(forms)}   (формат {read.format}, сырые данные {read.raw!r})"


@readers.command("watch")
@click.argument("device")
@click.option("--kind", "kind", type=click.Choice(KINDS), help="Тип считывателя (по умолчанию по DEVICE).")
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    help="Формат строки: auto, ironlogic, hex, dec10, w26, w26digits или regex.",
)
@click.option("--baud", default=9600, show_default=True, type=int, help="Скорость порта.")
@click.option("--line-ending", default="any", show_default=True, help="Конец строки: any, crlf, lf, cr.")
@click.option("--debounce", default=1.5, show_default=True, type=float, help="Окно повтора карты, с.")
@click.option("--seconds", type=float, default=None, help="Остановиться через столько секунд.")
@click.option("--count", type=int, default=None, help="Остановиться после стольких карт.")
def watch(
    device: str,
    kind: str | None,
    fmt: str,
    baud: int,
    line_ending: str,
    debounce: float,
    seconds: float | None,
    count: int | None,
) -> None:
    """Показать, что присылает считыватель: сырые байты и номер карты."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    kind = kind or guess_kind(device)
    try:
        config = ReaderConfig(
            kind=kind,
            device="" if kind == "sim" else device,
            baud=baud,
            format=fmt,
            line_ending=line_ending,
            debounce=debounce,
            reader_id=device,
        )
        config.validate("watch")
        reader = build_reader(config)
    except ReaderConfigError as error:
        raise click.UsageError(str(error)) from error

    events: queue.SimpleQueue[ReaderEvent | bytes] = queue.SimpleQueue()
    reader.set_raw_monitor(events.put)
    click.echo(f"Слушаю {device} ({kind}); Ctrl+C — выход")
    reader.start(events.put)
    if kind in ("sim", "wedge"):
        _feed_stdin(reader)
    cards = 0
    deadline = None if seconds is None else time.monotonic() + seconds
    raw = bytearray()  # bytes come in small chunks: show what arrived together on one line

    def show_raw() -> None:
        if raw:
            click.echo(f"байты: {raw.hex(' ')}   {bytes(raw)!r}")
            raw.clear()

    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                item = events.get(timeout=0.05)
            except queue.Empty:
                show_raw()
                continue
            if isinstance(item, bytes):
                raw.extend(item)
                continue
            show_raw()
            if isinstance(item, ReaderStatus):
                click.echo(f"СОСТОЯНИЕ: {item.detail}")
            else:
                click.echo(describe_card(item))
                cards += 1
                if count is not None and cards >= count:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        reader.stop()
        s = reader.stats
        click.echo(
            f"Итого: карт {s.reads}, повторов {s.duplicates}, плохих кадров {s.bad_frames}, "
            f"байт шума {s.noise_bytes}, переподключений {s.reconnects}"
        )


def _feed_stdin(reader: Reader) -> None:
    """Typed card numbers for the simulated reader (one per line) and for the wedge decoder."""
    from drivers.sim import SimReader
    from drivers.wedge import WedgeReader

    def pump() -> None:
        for line in sys.stdin:
            if isinstance(reader, SimReader):
                reader.present(line.strip())
            elif isinstance(reader, WedgeReader):
                now = time.monotonic()  # typed lines arrive at once: replay them as a fast burst
                for i, ch in enumerate(line.strip()):
                    reader.feed_key(ch, now + i * 0.001)
                reader.feed_key("enter", now + len(line) * 0.001)

    threading.Thread(target=pump, name="watch-stdin", daemon=True).start()


if __name__ == "__main__":
    readers()
