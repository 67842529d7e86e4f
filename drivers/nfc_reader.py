"""`NfcReader`: ISO 14443 Type A (MIFARE Classic / Ultralight / NTAG) and FeliCa cards via nfcpy.

Any path nfcpy accepts works: ``usb`` (the first supported reader), ``usb:054c:06c3`` (RC-S380),
``usb:072f:2200`` (ACR122U), ``tty:USB0:pn532``, and ``udp:localhost:PORT`` (nfcpy's network
transport, used by the tests). The id is ``tag.identifier`` (Type A UID, FeliCa IDm) as ``UID:...``.

nfcpy's ``connect`` returns False when the device fails (USB unplug) instead of raising: the reader
then closes the frontend and reopens it with backoff. ``iterations=1, interval=0.15`` makes nfcpy
check the stop flag every ~0.2 s on real hardware (the ``udp`` transport waits up to 1 s per poll).
A card kept on the reader is one read: on-connect returns True so nfcpy waits for the release,
and the shared `Debouncer` absorbs MIFARE Classic's unreliable presence checks.
"""

from __future__ import annotations

import errno
from typing import Any

from drivers.base import ThreadedReader
from drivers.card import CardIdError, nfc_uid

DEFAULT_TARGETS = ("106A", "212F")


class NfcUnavailable(Exception):
    """nfcpy cannot open the path: no device, no permission, or no libusb."""


def open_frontend(path: str) -> Any:
    """Open an nfcpy ContactlessFrontend, turning its failure modes into one clear error."""
    import nfc  # lazily: importing nfcpy costs ~0.2 s and the CLI may not need it

    try:
        return nfc.ContactlessFrontend(path)
    except FileNotFoundError as error:  # libusb1 raises this when libusb-1.0.so is missing
        raise NfcUnavailable("нет системной библиотеки libusb-1.0 (apt install libusb-1.0-0)") from error
    except OSError as error:
        if error.errno == errno.ENODEV:
            raise NfcAbsent(f"NFC-считыватель не найден по пути {path}") from error
        if error.errno == errno.EACCES:
            raise NfcUnavailable(f"нет доступа к {path}: нужны права (правило udev)") from error
        if error.errno == errno.EBUSY:
            raise NfcUnavailable(f"{path} занят другой программой или драйвером ядра") from error
        raise


class NfcAbsent(NfcUnavailable):
    """No reader at that path (nothing plugged in, or another model)."""


class NfcReader(ThreadedReader):
    def __init__(
        self,
        path: str = "usb",
        reader_id: str = "",
        debounce: float = 1.5,
        targets: tuple[str, ...] = DEFAULT_TARGETS,
        interval: float = 0.15,
    ) -> None:
        super().__init__(reader_id or f"nfc:{path}", debounce)
        self.path = path
        self.targets = targets
        self.interval = interval
        self._clf: Any = None

    def describe(self) -> str:
        return self.path

    def open_device(self) -> None:
        self._clf = open_frontend(self.path)

    def close_device(self) -> None:
        if self._clf is not None:
            self._clf.close()
            self._clf = None

    def read_device(self) -> None:
        options = {
            "targets": list(self.targets),
            "iterations": 1,
            "interval": self.interval,
            "beep-on-connect": False,
            "on-connect": self._on_connect,
            "on-release": self._on_release,
        }
        result = self._clf.connect(rdwr=options, terminate=lambda: self.stopping)
        if result is False and not self.stopping:
            # nfcpy logged and swallowed an IOError: the device is gone or wedged.
            raise OSError(errno.EIO, "NFC-считыватель не отвечает")

    def _on_connect(self, tag: Any) -> bool:
        identifier = bytes(tag.identifier)
        self.monitor_raw(identifier)
        try:
            uid = nfc_uid(identifier)
        except CardIdError as error:
            self.bad_frame(identifier, str(error))
            return True
        self.emit_card(uid, _tag_format(tag), identifier)
        return True  # wait for the card to leave: a card lying on the reader is one read

    def _on_release(self, tag: Any) -> bool:
        self.emit_release()
        return False  # keep polling inside connect()


def _tag_format(tag: Any) -> str:
    kind = str(getattr(tag, "type", "") or type(tag).__name__)
    return f"nfc-{kind.lower()}"
