"""Staff choose themselves at the window with the PIN set in the office; the name goes on their events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from pos.models import Event, StaffMember
from pos.pins import hash_pin
from terminal.app import CanteenApp
from terminal.messages import SyncFinished
from terminal.screens.signin import SignInScreen
from terminal.widgets.status import StatusLine
from tests.terminal.conftest import FIRST_1A, PAID_5A, AppFactory, card_of, ready, tap, until

pytestmark = pytest.mark.anyio

IVANOVA, PETROVA = "Иванова А. С.", "Петрова М. И."  # listed by name: Иванова first


def add_staff(engine: Engine, *people: tuple[str, str]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(StaffMember), [
            {"id": f"p{i}", "name": name, "pin_hash": hash_pin(pin, iterations=1000), "active": True}
            for i, (name, pin) in enumerate(people)])


def last_staff(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(Event.staff).order_by(Event.seq.desc()).limit(1)).scalar_one())


def error_text(app: CanteenApp) -> str:
    return str(app.screen.query_one("#pin-error", Static).render())


def status_text(app: CanteenApp) -> str:
    return str(app.serving.query_one(StatusLine).render())


async def sign_in(pilot: Pilot[None], row: int, pin: str) -> None:
    app = pilot.app
    assert isinstance(app.screen, SignInScreen)
    await pilot.press(*(["down"] * row), "enter")
    await pilot.press(*pin, "enter")
    await pilot.pause()


async def undo_last(pilot: Pilot[None], engine: Engine) -> None:
    await pilot.press("f4")
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: _last_kind(engine) == "reversal")


def _last_kind(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(Event.kind).order_by(Event.seq.desc()).limit(1)).scalar_one())


async def test_window_asks_who_serves_and_the_signed_in_name_goes_on_events(make_app: AppFactory,
                                                                              engine: Engine) -> None:
    add_staff(engine, (PETROVA, "2468"), (IVANOVA, "1357"))
    app = make_app(staff="Из настроек")
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        assert isinstance(app.screen, SignInScreen)
        names = app.screen.query_one(OptionList)
        assert [str(names.get_option_at_index(i).prompt) for i in range(names.option_count)] == [IVANOVA, PETROVA]
        assert app.staff == ""  # the config's name is not used where the school has staff
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)  # at start someone must sign in: Esc does not close it
        await sign_in(pilot, 1, "2468")
        assert not isinstance(app.screen, SignInScreen) and app.staff == PETROVA
        assert f"на раздаче: {PETROVA}" in status_text(app)
        await tap(pilot, card_of(engine, PAID_5A))
        assert last_staff(engine) == PETROVA  # a card tap records who served it
        await undo_last(pilot, engine)
        assert last_staff(engine) == PETROVA


async def test_wrong_pin_keeps_the_dialog_open_with_the_error(make_app: AppFactory, engine: Engine) -> None:
    add_staff(engine, (PETROVA, "2468"))
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await sign_in(pilot, 0, "2469")
        assert isinstance(app.screen, SignInScreen) and app.staff == ""
        assert "Неверный ПИН-код (осталось попыток: 4)" in error_text(app)
        await pilot.press(*"2468", "enter")  # the PIN field is still there, emptied
        await pilot.pause()
        assert app.staff == PETROVA and not isinstance(app.screen, SignInScreen)


async def test_five_wrong_pins_lock_the_dialog_for_a_minute(make_app: AppFactory, engine: Engine) -> None:
    add_staff(engine, (PETROVA, "2468"))
    app = make_app()
    clock = [1000.0]
    app.pin_guard.now = lambda: clock[0]
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await sign_in(pilot, 0, "1111")
        for _ in range(4):
            await pilot.press(*"1111", "enter")
        await pilot.pause()
        assert "5 раз подряд. Попробуйте через 60 с" in error_text(app)
        clock[0] += 30
        await pilot.press(*"2468", "enter")  # the right PIN, but too soon
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen) and app.staff == ""
        assert "Попробуйте через 30 с" in error_text(app)
        clock[0] += 30
        await pilot.press(*"2468", "enter")
        await pilot.pause()
        assert app.staff == PETROVA and not isinstance(app.screen, SignInScreen)


async def test_f10_lets_the_next_person_sign_in_and_their_name_goes_on_the_next_event(
        make_app: AppFactory, engine: Engine) -> None:
    add_staff(engine, (PETROVA, "2468"), (IVANOVA, "1357"))
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await sign_in(pilot, 1, "2468")
        await pilot.press("f10")
        await pilot.pause()
        await pilot.press("escape")  # Esc keeps who is serving
        await pilot.pause()
        assert not isinstance(app.screen, SignInScreen) and app.staff == PETROVA
        await pilot.press("f10")
        await pilot.pause()
        await tap(pilot, card_of(engine, FIRST_1A))  # a card while the dialog is open is still served
        assert app.last_verdict is not None and app.last_verdict.served
        await sign_in(pilot, 0, "1357")
        assert app.staff == IVANOVA and f"на раздаче: {IVANOVA}" in status_text(app)
        await undo_last(pilot, engine)
        assert last_staff(engine) == IVANOVA


async def test_without_staff_the_configured_name_serves_and_f10_does_nothing(make_app: AppFactory) -> None:
    app = make_app(staff="Из настроек")
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f10")
        await pilot.pause()
        assert len(app.screen_stack) == 1 and app.staff == "Из настроек"
        assert not any(key == "f10" and b.enabled for key, b in app.active_bindings.items())


async def test_staff_brought_by_a_sync_are_asked_to_sign_in(make_app: AppFactory, engine: Engine) -> None:
    app = make_app(staff="Из настроек")
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        assert app.staff == "Из настроек" and len(app.screen_stack) == 1
        add_staff(engine, (PETROVA, "2468"))
        app.post_message(SyncFinished(applied=True))
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await sign_in(pilot, 0, "2468")
        assert app.staff == PETROVA


def test_sign_in_dialog_fits_a_small_terminal(snap_compare: Any, make_app: AppFactory, engine: Engine) -> None:
    add_staff(engine, (PETROVA, "2468"), (IVANOVA, "1357"))

    async def before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("down", "enter", "9")
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=before)

