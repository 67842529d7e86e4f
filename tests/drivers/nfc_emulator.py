"""An emulated contactless card on nfcpy's ``udp:`` transport, for the NFC reader tests.

One nfcpy frontend listens on ``udp:localhost:PORT`` as a Type A target (MIFARE Classic-like: 4-byte
UID, SAK 0x08) or a FeliCa card, and answers the reader's presence checks until `remove` is called.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import nfc
import nfc.clf


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EmulatedCard:
    def __init__(self, path: str, uid_hex: str, felica: bool = False) -> None:
        self.path = path
        self.uid = bytearray.fromhex(uid_hex)
        self.felica = felica
        self.present = threading.Event()
        self.answered = threading.Event()
        self._thread: threading.Thread | None = None

    def place(self, listen_timeout: float = 5.0) -> None:
        self.present.set()
        self.answered.clear()
        self._thread = threading.Thread(target=self._run, args=(listen_timeout,), daemon=True)
        self._thread.start()

    def remove(self) -> None:
        self.present.clear()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _target(self) -> Any:
        if self.felica:
            target = nfc.clf.LocalTarget("212F")
            # SENSF_RES: 01, IDm (8), PMm (8), system code 12FC
            target.sensf_res = bytearray.fromhex("01") + self.uid + bytearray.fromhex("03014B024F4993FF12FC")
            return target
        target = nfc.clf.LocalTarget("106A")
        target.sens_res = bytearray.fromhex("0400")
        target.sdd_res = self.uid
        target.sel_res = bytearray.fromhex("08")
        return target

    def _run(self, listen_timeout: float) -> None:
        clf = nfc.ContactlessFrontend(self.path)
        try:
            activated = clf.listen(self._target(), listen_timeout)
            if activated is None:
                return
            self.answered.set()
            cmd = activated.tt2_cmd if not self.felica else activated.tt3_cmd
            while self.present.is_set() and cmd is not None:
                cmd = clf.exchange(self._answer(cmd), 0.5)
        except nfc.clf.CommunicationError:
            pass  # the reader stopped asking
        finally:
            clf.close()

    def _answer(self, cmd: bytearray) -> bytearray | None:
        if self.felica:
            # Polling (00 SC SC RC TSN) -> 01 IDm PMm: the presence check of a Type 3 tag.
            if len(cmd) >= 2 and cmd[1] == 0x00:
                return bytearray([18, 0x01]) + self.uid + bytearray.fromhex("03014B024F4993FF")
            return None
        if cmd and cmd[0] == 0x30:  # READ: 16 bytes, the Type 2 presence check
            return bytearray(16)
        return None  # stay silent, like a MIFARE Classic to commands it does not know
