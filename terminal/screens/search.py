"""Find a student by name or class when the card is forgotten; the choice is served by hand."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Engine
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from pos.queries import StudentHit, search_students


class SearchScreen(ModalScreen[tuple[str, str] | None]):
    """Type a surname, a name, a class (``5а``) or several of them; Enter or ↓ to pick from the list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Отмена"),
        Binding("down", "to_list", "К списку", show=False),
    ]

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.hits: list[StudentHit] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="search"):
            yield Static("Найти ученика (нет карты с собой)", classes="dialog-title")
            yield Input(placeholder="фамилия, имя или класс: «иван 5а»", id="query")
            yield OptionList(id="hits")
            yield Static("Enter — выбрать, ↓ — к списку, Esc — отмена", classes="dialog-keys")

    def on_input_changed(self, event: Input.Changed) -> None:
        with self.engine.connect() as conn:
            self.hits = search_students(conn, event.value)
        hits = self.query_one(OptionList)
        hits.clear_options()
        hits.add_options([Option(f"{h.full_name} — {h.class_name}", id=h.id) for h in self.hits])
        if self.hits:
            hits.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        hits = self.query_one(OptionList)
        if hits.highlighted is not None and self.hits:
            self._choose(self.hits[hits.highlighted])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(self.hits[event.option_index])

    def _choose(self, hit: StudentHit) -> None:
        self.dismiss((hit.id, f"{hit.full_name} ({hit.class_name})"))

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
