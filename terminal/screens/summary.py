"""The day's summary: ordered vs served per class and meal, and who is still missing."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from sqlalchemy import Engine
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from pos.domain import Meal, ru_date
from pos.queries import ClassCount, day_summary, missing_students


class SummaryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f7", "close", "Назад к раздаче")]

    def __init__(self, engine: Engine, day: date) -> None:
        super().__init__()
        self.engine = engine
        self.day = day
        self.rows: list[ClassCount] = []

    def compose(self) -> ComposeResult:
        yield Static(f"Сводка за {ru_date(self.day)}: заказано и выдано по классам", id="summary-title")
        with Horizontal():
            table: DataTable[str] = DataTable(id="summary", cursor_type="row", zebra_stripes=True)
            yield table
            with Vertical(id="missing-box"):
                yield Static("", id="missing-title")
                yield Static("", id="missing")
        yield Static("", id="summary-totals")
        yield Footer()

    def on_mount(self) -> None:
        with self.engine.connect() as conn:
            self.rows = [r for r in day_summary(conn, self.day) if r.ordered or r.served or r.extra]
        table = self.query_one(DataTable)
        for label in ("Класс", "Приём", "Заказано", "Выдано", "Ещё не было", "Сверх заказа"):
            table.add_column(label)
        for r in self.rows:
            table.add_row(r.name, r.meal.ru, str(r.ordered), str(r.served), str(r.to_come), str(r.extra or ""))
        totals = {m: [sum(getattr(r, f) for r in self.rows if r.meal is m) for f in ("ordered", "served", "extra")]
                  for m in Meal}
        self.query_one("#summary-totals", Static).update("Итого: " + "; ".join(
            f"{m.ru} — заказано {o}, выдано {s}" + (f", сверх заказа {x}" if x else "")
            for m, (o, s, x) in totals.items() if o or s or x))
        table.focus()
        if self.rows:
            self.show_missing(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_missing(event.cursor_row)

    def show_missing(self, index: int) -> None:
        if not 0 <= index < len(self.rows):
            return
        row = self.rows[index]
        with self.engine.connect() as conn:
            missing = missing_students(conn, self.day, row.class_id, row.meal)
        self.query_one("#missing-title", Static).update(f"{row.name}, {row.meal.ru}: ещё не было ({len(missing)})")
        self.query_one("#missing", Static).update("\n".join(s.full_name for s in missing) or "выдано всем")

    def action_close(self) -> None:
        self.dismiss(None)
