"""A one-line label of fixed height (set in app.tcss) that is repainted only when its text changes.

The serving screen is refreshed all the time (the clock every second, the board every few seconds and
after taps); a plain `Static.update` asks Textual for a layout pass of the whole screen, which costs
more than a frame and delays the next tap's verdict. These lines never change size, so they do not.
"""

from __future__ import annotations

from textual.widgets import Static


class Line(Static):
    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(text, id=id)
        self.text = text

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.update(text, layout=False)
