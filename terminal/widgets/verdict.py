"""The verdict panel (one big coloured block that stays until the next tap) and the taps under it."""

from __future__ import annotations

from collections import deque

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from terminal.texts import SERVE, VerdictView
from terminal.widgets.bigword import big

TONES = ("serve", "warn", "refuse", "undo", "idle")


class VerdictPanel(Vertical):
    """Green SERVE, red REFUSE, amber when served with a warning; the diet note in its own bar."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: VerdictView | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="headline")
        yield Static("Приложите карту к считывателю", id="who")
        yield Static("", id="message")
        yield Static("", id="money")
        yield Static("", id="warnings")
        yield Static("", id="diet")

    def on_mount(self) -> None:
        self.set_tone("idle")
        self.query_one("#warnings").add_class("-empty")
        self.query_one("#diet").add_class("-empty")

    def set_tone(self, tone: str) -> None:
        for name in TONES:
            self.set_class(name == tone, f"-{name}")

    def show(self, view: VerdictView) -> None:
        self.view = view
        self.set_tone(view.tone)
        # Every part has a fixed height (see app.tcss) and is updated without a layout pass; the
        # optional bars are blanked by a class, not hidden (visibility is a layout rule): a tap
        # repaints the panel, not the whole screen.
        self.query_one("#headline", Static).update(big(view.headline), layout=False)
        who = view.who or "Ученик не найден"
        self.query_one("#who", Static).update(f"{who}" + (f"  ·  {view.meal}" if view.meal else ""), layout=False)
        self.query_one("#message", Static).update(view.message, layout=False)
        self.query_one("#money", Static).update(view.money, layout=False)
        warnings = self.query_one("#warnings", Static)
        warnings.update("\n".join(f"⚠ {w}" for w in view.warnings), layout=False)
        warnings.set_class(not (view.warnings and view.tone != SERVE), "-empty")
        diet = self.query_one("#diet", Static)
        diet.update(f"\nВНИМАНИЕ, ПИТАНИЕ: {view.diet}" if view.diet else "", layout=False)
        diet.set_class(not view.diet, "-empty")


class History(Static):
    """The previous few taps, newest first."""

    def __init__(self, size: int, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.lines: deque[str] = deque(maxlen=max(size, 1))
        self.size_limit = size

    def push(self, line: str) -> None:
        if self.size_limit == 0:
            return
        self.lines.appendleft(line)
        self.update("\n".join(self.lines), layout=False)
