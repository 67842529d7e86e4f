"""The break board: the meal being served now, the break, and ordered / served / to come per class."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from pos.queries import BreakNow, ClassCount
from terminal.texts import break_label, meal_title


class BreakBoard(Vertical):
    _keys: list[str] | None = None

    @staticmethod
    def _to_come(c: ClassCount) -> Text:
        return Text(str(c.to_come), style="bold" if c.to_come else "dim")

    def compose(self) -> ComposeResult:
        yield Static("", id="meal-now")
        yield Static("", id="break-now")
        table: DataTable[str | Text] = DataTable(id="counts", cursor_type="none", zebra_stripes=True)
        table.can_focus = False  # the serving screen keeps the keyboard (for keyboard-wedge readers)
        table.add_column("Класс", key="class")
        table.add_column("Приём", key="meal")
        table.add_column("Заказ", key="ordered")
        table.add_column("Выдано", key="served")
        table.add_column("Ждём", key="to_come")
        yield table
        yield Static("", id="totals")

    def show(self, brk: BreakNow | None, counts: list[ClassCount], *, school_day: bool, day_text: str,
             manual: str) -> None:
        meal_now = self.query_one("#meal-now", Static)
        break_now = self.query_one("#break-now", Static)
        if not school_day:
            meal_now.update(f"{day_text} — не учебный день")
            break_now.update("По расписанию раздачи нет")
        elif brk is None:
            meal_now.update(manual or "Расписание перемен не загружено")
            break_now.update("")
        else:
            meals = ", ".join(meal_title(m) for m in brk.meals)
            label = break_label(brk.shift, brk.number, brk.starts, brk.ends)
            if manual:
                meal_now.update(manual)
            elif brk.in_window:
                meal_now.update(f"Сейчас: {meals}")
            else:
                meal_now.update(f"Перемены нет · следующая: {meals}")
            break_now.update(label)
        table = self.query_one("#counts", DataTable)
        keys = [f"{c.class_id}:{c.meal}" for c in counts]
        if keys == self._keys:
            # The same classes as before (every refresh in a break): change the cells, keep the layout.
            for key, c in zip(keys, counts, strict=True):
                table.update_cell(key, "served", str(c.served))
                table.update_cell(key, "ordered", str(c.ordered))
                table.update_cell(key, "to_come", self._to_come(c))
        else:
            table.clear()
            for key, c in zip(keys, counts, strict=True):
                table.add_row(c.name, c.meal.ru, str(c.ordered), str(c.served), self._to_come(c), key=key)
            self._keys = keys
        ordered, served, to_come_n = (sum(c.ordered for c in counts), sum(c.served for c in counts),
                                      sum(c.to_come for c in counts))
        self.query_one("#totals", Static).update(
            f"Всего: заказано {ordered}, выдано {served}, ждём {to_come_n}" if counts else "")
