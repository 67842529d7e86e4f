"""Who is serving: staff choose themselves in a list and type the PIN set for them in the office.

The list is the school's active staff as last pulled (`pos.models.StaffMember`); the PIN is checked
against its stored hash (`pos.pins`), once per sign-in, on the UI thread (a PBKDF2 of ~50 ms, never
on a tap's path). Wrong PINs are counted by a `PinGuard` the window keeps, so closing and reopening
the dialog does not reset them: after `MAX_TRIES` in a row it refuses for `LOCK_S` seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from sqlalchemy import Engine, select
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from pos.models import StaffMember
from pos.pins import PIN_MAX, pin_matches

MAX_TRIES = 5
LOCK_S = 60.0


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    pin_hash: str


def active_staff(engine: Engine) -> list[Person]:
    """The staff who may sign in at this window, by name; empty when the office has set none."""
    with engine.connect() as conn:
        rows = conn.execute(select(StaffMember.id, StaffMember.name, StaffMember.pin_hash)
                            .where(StaffMember.active.is_(True)).order_by(StaffMember.name, StaffMember.id))
        return [Person(*row) for row in rows]


@dataclass
class PinGuard:
    """Wrong PINs in a row, and until when (on `now`'s clock) the dialog refuses after too many."""

    now: Callable[[], float] = time.monotonic
    failures: int = 0
    locked_until: float = field(default=-math.inf)

    def wait_s(self) -> int:
        """Whole seconds left of a lockout, 0 when PINs are accepted."""
        left = self.locked_until - self.now()
        return math.ceil(left) if left > 0 else 0

    def check(self, person: Person, pin: str) -> str | None:
        """None when `pin` is the person's; otherwise what to say (Russian)."""
        wait = self.wait_s()
        if wait:
            return f"Слишком много неверных ПИН-кодов. Попробуйте через {wait} с"
        if pin_matches(pin, person.pin_hash):
            self.failures = 0
            return None
        self.failures += 1
        if self.failures >= MAX_TRIES:
            self.failures = 0
            self.locked_until = self.now() + LOCK_S
            return f"Неверный ПИН-код {MAX_TRIES} раз подряд. Попробуйте через {math.ceil(LOCK_S)} с"
        return f"Неверный ПИН-код (осталось попыток: {MAX_TRIES - self.failures})"


class SignInScreen(ModalScreen[str | None]):
    """Choose yourself, then type your PIN; returns the name, or None when closed (only if someone serves)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Назад")]

    def __init__(self, staff: list[Person], guard: PinGuard, *, current: str = "") -> None:
        super().__init__()
        self.staff, self.guard, self.current = staff, guard, current
        self.chosen: Person | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="signin"):
            yield Static("Кто на раздаче?", classes="dialog-title", id="signin-title")
            yield OptionList(*(Option(p.name, id=p.id) for p in self.staff), id="staff")
            yield Input(placeholder="ПИН-код", password=True, max_length=PIN_MAX, restrict=r"[0-9]*", id="pin")
            yield Static("", id="pin-error", classes="dialog-error")
            yield Static("", id="signin-keys", classes="dialog-keys")

    def on_mount(self) -> None:
        self._show_list()

    def _show_list(self) -> None:
        self.chosen = None
        self.query_one("#signin-title", Static).update("Кто на раздаче? Выберите себя")
        self.query_one("#pin", Input).display = False
        self.query_one("#pin-error", Static).update("")
        names = self.query_one("#staff", OptionList)
        names.display = True
        names.focus()
        keys = "Enter — выбрать" + (f", Esc — остаётся {self.current}" if self.current else "")
        self.query_one("#signin-keys", Static).update(keys)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.chosen = next(p for p in self.staff if p.id == event.option.id)
        self.query_one("#signin-title", Static).update(f"{self.chosen.name}: введите ПИН-код")
        self.query_one("#staff", OptionList).display = False
        pin = self.query_one("#pin", Input)
        pin.value = ""
        pin.display = True
        pin.focus()
        self.query_one("#signin-keys", Static).update("Enter — войти, Esc — к списку")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.chosen is None:
            return
        problem = self.guard.check(self.chosen, event.value)
        event.input.value = ""
        if problem:
            self.query_one("#pin-error", Static).update(problem)
            event.input.focus()
            return
        self.dismiss(self.chosen.name)

    def action_back(self) -> None:
        if self.chosen is not None:
            self._show_list()
        elif self.current:
            self.dismiss(None)
