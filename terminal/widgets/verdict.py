"""The verdict panel (one big coloured block that stays until the next tap) and the taps under it."""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Callable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from terminal.texts import SERVE, HistoryRow, VerdictView
from terminal.widgets.bigword import ROWS as HEADLINE_ROWS
from terminal.widgets.bigword import big

TONES = ("serve", "warn", "refuse", "undo", "idle")
# The two bars inside the panel keep their own colours whatever the tone: black on amber / on yellow.
WARNINGS_STYLE = "bold #000000 on #ffc21a"
DIET_STYLE = "bold #000000 on #ffff00"
BOLD = Style(bold=True)
UNDONE = Style(strike=True, dim=True)


Row = tuple[str, str]  # a row's text, filled to the panel's width, and its own style ("" for the tone's)


def _wrap(text: str, width: int, height: int) -> list[str]:
    """`text` wrapped to `width` cells in exactly `height` lines (cut with an ellipsis if longer)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, max(width, 1)) or [""])
    if len(lines) > height > 0:
        lines = lines[:height]
        last = lines[-1].rstrip()
        lines[-1] = (last if cell_len(last) < width else set_cell_size(last, max(width - 1, 0))) + "…"
    return lines + [""] * (height - len(lines))


def _block(content: str, width: int, height: int, style: str = "", pad: int = 0) -> list[Row]:
    """`height` rows of `content`, each filled to `width` so that a bar's background spans the panel."""
    return [(set_cell_size(" " * pad + line, width), style) for line in _wrap(content, width - 2 * pad, height)]


def panel_rows(view: VerdictView | None, width: int) -> list[Row]:
    """Every row of the panel for a verdict (None: waiting for a card), in fixed places."""
    if view is None:
        return _block("", width, HEADLINE_ROWS + 1) + _block("Приложите карту к считывателю", width, 1)
    headline = big(view.headline).split("\n")
    rows = [(set_cell_size(r, width), "") for r in headline[:HEADLINE_ROWS]]
    rows += _block("", width, HEADLINE_ROWS - len(rows) + 1)
    who = view.who or "Ученик не найден"
    rows += _block(who + (f"  ·  {view.meal}" if view.meal else ""), width, 1)
    rows += _block(view.message, width, 2)
    rows += _block(view.money, width, 1)
    bar = bool(view.warnings) and view.tone != SERVE
    rows += _block("\n".join(f"⚠ {w}" for w in view.warnings), width, 2, WARNINGS_STYLE if bar else "", pad=1)
    rows += _block(f"\nВНИМАНИЕ, ПИТАНИЕ: {view.diet}" if view.diet else "", width, 3,
                   DIET_STYLE if view.diet else "", pad=1)
    return rows


class VerdictPanel(Widget):
    """Green SERVE, red REFUSE, amber when served with a warning; the diet note in its own bar.

    One widget that draws its rows itself (Textual's line API): a tap changes the tone class of
    this one node (no style pass over children), and its rows are a few strings turned straight into
    strips — no markup parsing or wrapping by Textual, which cost several ms per repaint. The panel's
    size never changes (app.tcss), so a tap never lays the screen out.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: VerdictView | None = None
        self._strips: list[Strip] = []
        self._strips_key: tuple[object, ...] = ()
        self._blank = Strip.blank(0)
        self._after_paint: list[Callable[[], object]] = []

    def after_paint(self, callback: Callable[[], object]) -> None:
        """Call `callback` once the panel as it is now has been painted (after that frame is out)."""
        self._after_paint.append(callback)

    def on_mount(self) -> None:
        self.set_tone("idle")

    def set_tone(self, tone: str) -> None:
        self.update_classes({f"-{name}": name == tone for name in TONES})

    def show(self, view: VerdictView) -> None:
        self.view = view
        self.set_tone(view.tone)
        self.refresh()

    @property
    def text(self) -> str:
        """What the panel says, row by row (without the big word's drawing)."""
        return "\n".join(r.rstrip() for r, _ in panel_rows(self.view, max(self.size.width, 80))[HEADLINE_ROWS:])

    def render_lines(self, crop: Region) -> list[Strip]:
        # Size and style are costly lookups: once per repaint, not once per row; the rows are drawn
        # once per verdict (and again only if the size or the tone's colours changed).
        width = self.size.width
        base = self.visual_style.rich_style + BOLD
        key = (self.view, width, base)
        if key != self._strips_key:
            self._strips_key = key
            self._strips = [Strip([Segment(row, base + Style.parse(style) if style else base)], width)
                            for row, style in panel_rows(self.view, width)]
            self._blank = Strip.blank(width, base)
        lines = super().render_lines(crop)
        if self._after_paint:
            # Called from inside the frame: queued, so they run once the frame has been written.
            callbacks, self._after_paint = self._after_paint, []
            for callback in callbacks:
                self.call_later(callback)
        return lines

    def render_line(self, y: int) -> Strip:
        return self._strips[y] if y < len(self._strips) else self._blank


class History(Widget):
    """The previous few taps, newest first, one row each (cut, never wrapped).

    Drawn with the line API like the panel: a tap adds a row and repaints this region alone. A row
    whose serve was undone afterwards is struck through and says so, so nobody reads it as served.
    """

    def __init__(self, size: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: deque[HistoryRow] = deque(maxlen=max(size, 1))
        self.size_limit = size
        self._strips: dict[int, Strip] = {}
        self._key: tuple[int, Style] = (0, Style())

    def push(self, row: HistoryRow) -> None:
        if self.size_limit == 0:
            return
        self.lines.appendleft(row)
        self._strips.clear()
        self.refresh()

    def mark_undone(self, event_id: str) -> bool:
        """Strike through the row of this serve; False when it is no longer in the list."""
        for n, row in enumerate(self.lines):
            if row.event_id == event_id and not row.undone:
                self.lines[n] = row.struck()
                self._strips.clear()
                self.refresh()
                return True
        return False

    @property
    def texts(self) -> list[str]:
        return [row.text for row in self.lines]

    def render_lines(self, crop: Region) -> list[Strip]:
        # Size and style are costly lookups: once per repaint, not once per row.
        key = (self.size.width, self.visual_style.rich_style)
        if key != self._key:
            self._key = key
            self._strips.clear()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            width, base = self._key
            row = self.lines[y] if y < len(self.lines) else None
            text = row.text if row else ""
            if cell_len(text) > width:
                text = set_cell_size(text, max(width - 1, 0)) + "…"
            style = base + UNDONE if row is not None and row.undone else base
            strip = self._strips[y] = Strip([Segment(set_cell_size(text, width), style)], width)
        return strip
