"""The demo's serving screen: Space (or F5) makes the next child of the break tap the simulated reader,
F9 unplugs it or plugs it back. Only the demo has these keys; a real window never shows them."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from drivers.sim import SimReader
from pos.queries import expected_cards
from terminal.screens.serving import ServingScreen


class DemoServingScreen(ServingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "demo_tap", "Демо: следующий", show=False),
        Binding("f5", "demo_tap", "Демо: следующий", show=False),
        Binding("f9", "demo_plug", "Демо: считыватель", show=False),
    ]
    DEMO = True

    def __init__(self, *, history: int) -> None:
        super().__init__(history=history)
        self._presented: set[str] = set()

    @property
    def sim(self) -> SimReader:
        reader = self.window.reader
        assert isinstance(reader, SimReader)  # the app gives this screen to the simulated reader only
        return reader

    def action_demo_tap(self) -> None:
        """The next student of the current break taps the simulated reader."""
        brk = self.board.brk if self.board else None
        if brk is None:
            self.notify("Нет перемены по расписанию", severity="warning")
            return
        window = self.window
        day = window.counter.local(window.clock.now()).date()
        with window.read_engine.connect() as conn:
            queue = expected_cards(conn, day, brk.shift, brk.number)
        wanted = {c.meal for c in brk.classes}
        card = next((c for c in queue if not c.served and c.meal in wanted and c.uid not in self._presented), None)
        if card is None:
            self.notify("Все ученики этой перемены уже прошли", severity="information")
            return
        self._presented.add(card.uid)
        if not self.sim.present(card.uid):
            self.notify("Считыватель не принял карту (отключён?)", severity="warning")

    def action_demo_plug(self) -> None:
        """Unplug the simulated reader, or plug it back."""
        self.sim.present("unplug" if self.sim.connected else "plug")
