"""`ReaderConfig` (the ``[reader]`` table of the terminal's config file) and `build_reader`.

Example::

    [reader]
    kind = "serial-line"                 # serial-line | serial-frame | nfc | wedge | evdev | sim
    device = "/dev/serial/by-id/usb-IronLogic_Z-2_USB-if00-port0"
    baud = 9600
    format = "ironlogic"                 # preset (auto, ironlogic, hex, dec10, w26, w26digits) or regex
    line_ending = "any"                  # any | crlf | lf | cr
    debounce = 1.5                       # seconds: the same card again within this is the same tap

See docs/readers.md for every key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers.base import Reader
from drivers.lines import LINE_ENDINGS, LineFormat, LineFormatError

KINDS = ("serial-line", "serial-frame", "nfc", "wedge", "evdev", "sim")
_NEEDS_DEVICE = {"serial-line", "serial-frame", "evdev"}


class ReaderConfigError(ValueError):
    """The ``[reader]`` table is wrong; the message names the key.

    Messages are in Russian: the staff and installers who read them do; key names stay as written in
    the file (in «»), so the wrong line can be found.
    """


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    kind: str = "sim"
    """Which driver: serial-line, serial-frame, nfc, wedge, evdev or sim."""
    device: str = ""
    """Serial port path or pyserial URL; nfcpy path (``usb``, ``tty:USB0:pn532``); /dev/input/… for evdev."""
    baud: int = 9600
    """Serial speed (IronLogic Z-2 and RDM6300: 9600)."""
    format: str = "auto"
    """Line format for serial-line and wedge: a preset name or a regex with named groups."""
    line_ending: str = "any"
    """Line terminator of serial-line readers: any, crlf, lf or cr."""
    debounce: float = 1.5
    """Seconds within which the same card again is the same presentation."""
    reader_id: str = ""
    """Name in reads and logs; default ``KIND:DEVICE``."""
    wedge_max_gap: float = 0.05
    """Wedge/evdev: longest pause between two keys of one card number, in seconds."""
    wedge_min_length: int = 6
    """Wedge/evdev: fewest characters a card number has."""
    grab: bool = True
    """evdev: grab the device so its keys reach no other program."""
    targets: tuple[str, ...] = ("106A", "212F")
    """nfc: technologies polled: 106A (MIFARE, NTAG), 212F/424F (FeliCa), 106B."""
    script: str = ""
    """sim: ``"1.0 126,58404; 2.0 0008315940"`` played after start (empty: only typed ids)."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], table: str = "reader") -> ReaderConfig:
        """Validate a TOML table (``-`` and ``_`` in keys are the same); errors name the key."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = str(raw_key).replace("-", "_")
            if key not in fields:
                raise ReaderConfigError(
                    f"[{table}] неизвестный ключ «{raw_key}»; допустимые: {', '.join(sorted(fields))}"
                )
            values[key] = _coerce(table, key, value, fields[key].default)
        config = cls(**values)
        config.validate(table)
        return config

    def validate(self, table: str = "reader") -> None:
        if self.kind not in KINDS:
            raise ReaderConfigError(
                f"[{table}] ключ «kind» должен быть одним из: {', '.join(KINDS)}; а не {self.kind!r}"
            )
        if self.kind in _NEEDS_DEVICE and not self.device:
            raise ReaderConfigError(f"[{table}] для kind = {self.kind!r} нужен ключ «device» (путь к устройству)")
        if self.baud <= 0:
            raise ReaderConfigError(f"[{table}] ключ «baud» должен быть больше нуля, а не {self.baud}")
        if self.debounce < 0:
            raise ReaderConfigError(f"[{table}] ключ «debounce» должен быть не меньше 0 секунд, а не {self.debounce}")
        if self.line_ending not in LINE_ENDINGS:
            raise ReaderConfigError(
                f"[{table}] ключ «line_ending» должен быть одним из: {', '.join(LINE_ENDINGS)}; "
                f"а не {self.line_ending!r}"
            )
        if not 0 < self.wedge_max_gap <= 1:
            raise ReaderConfigError(
                f"[{table}] ключ «wedge_max_gap» должен быть больше 0 и не больше 1 секунды, а не {self.wedge_max_gap}"
            )
        if self.wedge_min_length < 1:
            raise ReaderConfigError(
                f"[{table}] ключ «wedge_min_length» должен быть не меньше 1, а не {self.wedge_min_length}"
            )
        try:
            LineFormat(self.format)
        except LineFormatError as error:
            raise ReaderConfigError(f"[{table}] ключ «format» задан неверно: {error}") from error
        if self.kind == "sim" and self.script:
            from drivers.sim import parse_script

            try:
                parse_script(self.script)
            except ValueError as error:
                raise ReaderConfigError(f"[{table}] ключ «script» задан неверно: {error}") from error


def _coerce(table: str, key: str, value: Any, default: Any) -> Any:
    expected = type(default)
    if expected is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ReaderConfigError(f"[{table}] ключ «{key}» должен быть списком строк, а не {value!r}")
        return tuple(value)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        raise ReaderConfigError(
            f"[{table}] ключ «{key}» должен быть {_TYPE_NAMES[expected]}, а не {value!r}"
        )
    return value


_TYPE_NAMES = {str: "строкой", int: "целым числом", float: "числом", bool: "true или false"}


def build_reader(config: ReaderConfig) -> Reader:
    """The reader a config describes, not started yet: call ``start(sink)`` on it."""
    config.validate()
    kind, rid = config.kind, config.reader_id
    if kind == "serial-line":
        from drivers.serial_reader import SerialLineReader

        return SerialLineReader(
            config.device, config.baud, config.format, config.line_ending, rid, config.debounce
        )
    if kind == "serial-frame":
        from drivers.serial_reader import SerialFrameReader

        return SerialFrameReader(config.device, config.baud, rid, config.debounce)
    if kind == "nfc":
        from drivers.nfc_reader import NfcReader

        return NfcReader(config.device or "usb", rid, config.debounce, config.targets)
    if kind in ("wedge", "evdev"):
        from drivers.wedge import WedgeDecoder

        decoder = WedgeDecoder(
            reader_id=rid or kind,
            max_gap=config.wedge_max_gap,
            min_length=config.wedge_min_length,
            line_format=config.format,
        )
        if kind == "wedge":
            from drivers.wedge import WedgeReader

            return WedgeReader(decoder, rid or "wedge", config.debounce)
        from drivers.evdev_reader import EvdevReader

        return EvdevReader(config.device, rid, config.debounce, config.grab, decoder)
    from drivers.sim import SimReader, parse_script

    return SimReader(parse_script(config.script), rid or "sim", config.debounce)


__all__ = ["KINDS", "ReaderConfig", "ReaderConfigError", "build_reader"]
