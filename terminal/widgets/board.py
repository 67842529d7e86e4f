"""The break board: the meal being served now, the break, and ordered / served / to come per class.

It is refreshed a moment after every burst of taps and every few seconds, so it must be cheap to
repaint and must never make Textual lay the screen out again: every line has a fixed height and is
updated in place with `layout=False`, only when its text changed; the counters are one pre-rendered
text (not a DataTable, whose every `update_cell` drops its whole render cache and repaints all rows),
and only a change in the number of classes (a new break) asks for a layout.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from pos.queries import BreakNow, ClassCount
from terminal.texts import break_label, meal_title
from terminal.widgets.line import Line

HEADERS = ("Класс", "Приём", "Заказ", "Выдано", "Ждём", "Сверх")
NAME_MAX = 8  # a class name longer than this is cut with «…»: the table must fit 80 columns


def _short(name: str, limit: int = NAME_MAX) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def counts_table(counts: list[ClassCount]) -> Text:
    """The counters as aligned columns: a bold header, then one line per class (and meal, when the break
    serves several; one meal is already named above the table)."""
    with_meal = len({c.meal for c in counts}) > 1
    keep = [i for i in range(len(HEADERS)) if with_meal or i != 1]
    rows = [(_short(c.name), c.meal.ru, str(c.ordered), str(c.served), str(c.to_come), str(c.extra) if c.extra else "")
            for c in counts]
    widths = [max([len(HEADERS[i])] + [len(r[i]) for r in rows]) for i in keep]

    def line(values: tuple[str, ...]) -> list[str]:
        # Names to the left, numbers to the right, one space apart (two after the names).
        return [(values[i].ljust(w) + " " if i < 2 else values[i].rjust(w)) for i, w in zip(keep, widths, strict=True)]

    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" ".join(line(HEADERS)), style="bold underline")
    to_come = keep.index(4)
    for n, (row, c) in enumerate(zip(rows, counts, strict=True)):
        stripe = "on #262a33" if n % 2 else ""  # zebra stripes: a row is easy to follow across
        cells = line(row)
        text.append("\n")
        text.append(" ".join(cells[:to_come]) + " ", style=stripe)
        text.append(cells[to_come], style=f"{stripe} {'bold' if c.to_come else 'dim'}".strip())
        text.append(" " + " ".join(cells[to_come + 1:]), style=stripe)
    return text


class CountsTable(Static):
    """Ordered / served / to come per class; its height follows the classes, so only a new break lays out."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.counts: list[ClassCount] = []
        self._lines = 0

    def show(self, counts: list[ClassCount]) -> None:
        if counts == self.counts and self._lines:
            return
        self.counts = list(counts)
        lines = len(counts) + 1
        self.update(counts_table(counts), layout=lines != self._lines)
        self._lines = lines


class BreakBoard(Vertical):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Held, not queried: the first board read can arrive before the nested table is mounted,
        # and these widgets take their text while unmounted as well.
        self.meal_now = Line("", id="meal-now")
        self.break_now = Line("", id="break-now")
        self.table = CountsTable(id="counts")
        self.totals = Line("", id="totals")

    def compose(self) -> ComposeResult:
        yield self.meal_now
        yield self.break_now
        with VerticalScroll(id="counts-box", can_focus=False):
            yield self.table
        yield self.totals

    def show(self, brk: BreakNow | None, counts: list[ClassCount], *, school_day: bool, day_text: str,
             manual: str) -> None:
        meal_now, break_now = self.meal_now, self.break_now
        if not school_day:
            meal_now.set_text(f"{day_text} — не учебный день")
            break_now.set_text("По расписанию раздачи нет")
        elif brk is None:
            meal_now.set_text(manual or "Расписание перемен не загружено")
            break_now.set_text("")
        else:
            meals = ", ".join(meal_title(m) for m in brk.meals)
            label = break_label(brk.shift, brk.number, brk.starts, brk.ends)
            if manual:
                meal_now.set_text(manual)
            elif brk.in_window:
                meal_now.set_text(f"Сейчас: {meals}")
            else:
                meal_now.set_text(f"Перемены нет · следующая: {meals}")
            break_now.set_text(label)
        self.table.show(counts)
        ordered, served, to_come_n, extra = (sum(c.ordered for c in counts), sum(c.served for c in counts),
                                             sum(c.to_come for c in counts), sum(c.extra for c in counts))
        total = f"Заказано {ordered}: выдано {served}, ждём {to_come_n}" + (f" · сверх заказа {extra}" if extra else "")
        self.totals.set_text(total if counts else "")
