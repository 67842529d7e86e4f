"""`SimReader`: a reader without hardware, for the demo and tests.

Two ways to drive it, usable together: a script of ``(delay_seconds, card_number)`` steps played in
its own thread (``"unplug"`` / ``"plug"`` as the card number simulate a disconnect), and
`SimReader.present` for ids typed at a prompt or sent by a test. Card numbers go through
`parse_card_id`, so ``126,58404``, ``0008315940`` and ``EM:55007EE424`` all work; an invalid number
counts as a bad frame, like garbage from a real reader.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from drivers.base import CONNECTED, DISCONNECTED, EventReader, Sink
from drivers.card import CardIdError, parse_card_id

UNPLUG, PLUG = "unplug", "plug"


class SimReader(EventReader):
    def __init__(
        self,
        script: Iterable[tuple[float, str]] = (),
        reader_id: str = "sim",
        debounce: float = 1.5,
        repeat: bool = False,
    ) -> None:
        super().__init__(reader_id, debounce)
        self.script = list(script)
        self.repeat = repeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()

    def start(self, sink: Sink) -> None:
        super().start(sink)
        self.emit_status(True, f"{CONNECTED}: имитация")
        if self.script:
            self._thread = threading.Thread(target=self._play, name=f"reader-{self.reader_id}", daemon=True)
            self._thread.start()
        else:
            self.finished.set()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        super().stop(timeout)

    def present(self, number: str) -> bool:
        """A card shown to the simulated reader; True if it produced a read."""
        if number == UNPLUG:
            self.emit_status(False, f"{DISCONNECTED}: имитация")
            return False
        if number == PLUG:
            self.stats.reconnects += 1
            self.emit_status(True, f"{CONNECTED}: имитация")
            return False
        raw = number.encode("utf-8", errors="replace")
        if not self.connected:
            self.stats.noise_bytes += len(raw)  # an unplugged reader sends nothing
            return False
        try:
            uid = parse_card_id(number)
        except CardIdError as error:
            self.bad_frame(raw, str(error))
            return False
        return self.emit_card(uid, "sim", raw)

    def _play(self) -> None:
        while not self._stop.is_set():
            for delay, number in self.script:
                if self._stop.wait(delay):
                    return
                self.present(number)
            if not self.repeat:
                break
        self.finished.set()


def parse_script(text: str) -> list[tuple[float, str]]:
    """``"1.0 126,58404; 0.5 0008315940; 2 unplug"`` -> steps (the config file's ``script`` key)."""
    steps = []
    for item in text.replace("\n", ";").split(";"):
        item = item.strip()
        if not item:
            continue
        delay, _, number = item.partition(" ")
        try:
            steps.append((float(delay), number.strip()))
        except ValueError as error:
            raise ValueError(f"шаг сценария пишется как «СЕКУНДЫ КАРТА», а не {item!r}") from error
    return steps
