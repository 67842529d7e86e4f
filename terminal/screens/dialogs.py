"""Small dialogs: a reason (override, hand serve, undo), the meal switch, and the help page."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from pos.domain import Meal


class ReasonScreen(ModalScreen[str | None]):
    """Asks why; Enter confirms (returns the text), Esc cancels (returns None).

    Every action it guards is recorded with its reason, so an empty reason keeps the dialog open with
    the error in it: what the operator goes on typing must land in the dialog, not on the serving screen.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Отмена")]

    def __init__(self, title: str, info: str, *, default: str = "", placeholder: str = "причина") -> None:
        super().__init__()
        self.title_text, self.info, self.default, self.placeholder = title, info, default, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.info, classes="dialog-info")
            yield Input(self.default, placeholder=self.placeholder, id="reason")
            yield Static("", id="reason-error", classes="dialog-error")
            yield Static("Enter — подтвердить, Esc — отмена", classes="dialog-keys")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.query_one("#reason-error", Static).update("Укажите причину: она записывается в журнал")
            event.input.focus()
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


MEAL_CHOICES = [("auto", "По расписанию (автоматически)"), *((m.value, m.ru.capitalize()) for m in Meal)]


class MealScreen(ModalScreen[str | None]):
    """Switch the meal by hand (a late break, a changed timetable) or back to the schedule."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Отмена")]

    def __init__(self, current: Meal | None) -> None:
        super().__init__()
        self.current = current.value if current else "auto"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Какой приём пищи выдаётся сейчас?", classes="dialog-title")
            options = OptionList(*(Option(("● " if v == self.current else "  ") + t, id=v) for v, t in MEAL_CHOICES),
                                 id="meals")
            yield options
            yield Static("Enter — выбрать, Esc — отмена", classes="dialog-keys")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = [v for v, _ in MEAL_CHOICES].index(self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


HELP = """\
[b]Раздача[/b]: ученик прикладывает карту — на экране крупно ВЫДАТЬ (зелёный) или ОТКАЗ (красный).
Жёлтый цвет — выдать, но прочитайте предупреждение. Полоса «ВНИМАНИЕ, ПИТАНИЕ» — аллергия или диета.

[b]F1[/b]  эта справка
[b]F2[/b]  найти ученика по фамилии, имени или классу (нет карты с собой) и выдать без карты
[b]F3[/b]  выдать вопреки отказу — с указанием причины (записывается)
[b]F4[/b]  отменить последнюю выдачу (записывается отмена)
[b]F6[/b]  сменить приём пищи вручную (или вернуть «по расписанию»)
[b]F7[/b]  сводка дня: заказано и выдано по классам, кому ещё не выдано
[b]F8[/b]  связь с сервером: синхронизировать сейчас, записи, отклонённые сервером
[b]Ctrl+Q[/b]  выход
"""

SHIFT_HELP = """[b]F10[/b] смена: следующий сотрудник выбирает себя и вводит свой ПИН-код
"""

DEMO_HELP = """
[b]Демо[/b]: [b]Пробел[/b] или [b]F5[/b] — следующий ученик текущей перемены прикладывает карту;
[b]F9[/b] — отключить / подключить имитатор считывателя.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "close", "Закрыть")]

    def __init__(self, *, demo: bool, shifts: bool = False) -> None:
        super().__init__()
        self.demo, self.shifts = demo, shifts

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help"):
            yield Static("Справка", classes="dialog-title")
            yield Static(HELP + (SHIFT_HELP if self.shifts else "") + (DEMO_HELP if self.demo else ""))
            yield Static("Esc — закрыть", classes="dialog-keys")

    def action_close(self) -> None:
        self.dismiss(None)
