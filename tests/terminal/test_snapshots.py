"""Snapshots of the main states, so a layout regression is seen (pytest-textual-snapshot).

Deterministic: the demo school built for a fixed day, a fixed clock, the simulated reader, and each
step waits until the screen is up to date (`board_read`: the after-tap board read is run at once,
not left to a 0.3 s timer that a loaded machine may or may not fire before the screenshot).
Update with ``pytest tests/terminal/test_snapshots.py --snapshot-update`` after checking the report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.cells import cell_len
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import Footer

from terminal.app import CanteenApp
from terminal.widgets.board import BreakBoard, counts_table
from terminal.widgets.verdict import VerdictPanel
from tests.terminal.conftest import (
    DIET_4B,
    FIRST_1A,
    NOT_ORDERED_1B,
    PAID_5A,
    AppFactory,
    board_read,
    card_of,
    ready,
    tap,
)

SIZE = (140, 40)
Snap = Callable[..., bool]


def run(*steps: Callable[[Pilot[None]], Awaitable[None]]) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        for step in steps:
            await step(pilot)
        await ready(pilot)

    return before


def tapping(number: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def step(pilot: Pilot[None]) -> None:
        await tap(pilot, number)

    return step


def pressing(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def step(pilot: Pilot[None]) -> None:
        await pilot.press(*keys)
        await pilot.pause()

    return step


def snap(snap_compare: Any, app: CanteenApp, *steps: Callable[[Pilot[None]], Awaitable[None]]) -> bool:
    result: bool = snap_compare(app, terminal_size=SIZE, run_before=run(*steps))
    return result


def test_idle_screen_waits_for_a_card(snap_compare: Any, make_app: AppFactory) -> None:
    assert snap(snap_compare, make_app())


def test_free_serve_in_green(snap_compare: Any, make_app: AppFactory, engine: Engine) -> None:
    assert snap(snap_compare, make_app(), tapping(card_of(engine, FIRST_1A)))


def test_paid_serve_with_the_new_balance(snap_compare: Any, make_app: AppFactory, engine: Engine) -> None:
    assert snap(snap_compare, make_app(), tapping(card_of(engine, FIRST_1A)), tapping(card_of(engine, PAID_5A)))


def test_refusal_in_red_with_the_reason(snap_compare: Any, make_app: AppFactory, engine: Engine) -> None:
    assert snap(snap_compare, make_app(), tapping(card_of(engine, NOT_ORDERED_1B)))


def test_diet_note_no_one_can_miss(snap_compare: Any, make_app: AppFactory, engine: Engine) -> None:
    assert snap(snap_compare, make_app(), tapping(card_of(engine, DIET_4B)))


def test_override_in_amber(snap_compare: Any, make_app: AppFactory, engine: Engine) -> None:
    assert snap(snap_compare, make_app(), tapping(card_of(engine, NOT_ORDERED_1B)), pressing("f3"),
                pressing(*"родители оплатят", "enter"))


def test_reader_unplugged_alarm(snap_compare: Any, make_app: AppFactory) -> None:
    async def unplug(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, CanteenApp) and app.reader is not None
        app.reader.present("unplug")  # type: ignore[attr-defined]
        while app.reader_state.connected:
            await pilot.pause(0.01)

    app = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_chain(ready, unplug, board_read))


def _chain(*steps: Callable[[Pilot[None]], Awaitable[None]]) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def before(pilot: Pilot[None]) -> None:
        for step in steps:
            await step(pilot)

    return before


def test_day_summary_screen(snap_compare: Any, make_app: AppFactory, engine: Engine) -> None:
    assert snap(snap_compare, make_app(), tapping(card_of(engine, FIRST_1A)), pressing("f7"))


def test_search_dialog(snap_compare: Any, make_app: AppFactory) -> None:
    assert snap(snap_compare, make_app(), pressing("f2"), pressing(*"иван"))


def test_help_screen(snap_compare: Any, make_app: AppFactory) -> None:
    assert snap(snap_compare, make_app(), pressing("f1"))


# The window must fit the terminals schools have: 120×40 and a bare 80×24 console. Long class names are
# shortened with «…», nothing wraps, the verdict and the keys stay whole.
SMALL_SIZES = [(120, 40), (80, 24)]


@pytest.mark.parametrize("size", SMALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_diet_note_and_board_fit_small_terminals(snap_compare: Any, make_app: AppFactory, engine: Engine,
                                                 size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=run(tapping(card_of(engine, DIET_4B))))


@pytest.mark.parametrize("size", SMALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_override_and_served_without_order_fit_small_terminals(snap_compare: Any, make_app: AppFactory,
                                                               engine: Engine, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=run(
        tapping(card_of(engine, NOT_ORDERED_1B)), pressing("f3"), pressing(*"родители оплатят", "enter")))


@pytest.mark.anyio
@pytest.mark.parametrize("size", SMALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_nothing_on_the_serving_screen_wraps_or_is_cut_off(make_app: AppFactory, engine: Engine,
                                                                 size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await tap(pilot, card_of(engine, DIET_4B))
        board = app.serving.query_one(BreakBoard)
        lines = counts_table(board.table.counts).plain.split("\n")
        assert any("6 инклю…" in line for line in lines)  # long names shortened, not wrapped
        assert max(cell_len(line) for line in lines) <= board.table.content_region.width
        assert board.table.size.height == len(lines)  # one row per class: no wrapped lines
        assert cell_len(str(board.totals.render())) <= board.totals.content_region.width
        panel = app.serving.query_one(VerdictPanel)
        assert panel.region.bottom <= size[1] and panel.region.right <= size[0]
        assert "ВНИМАНИЕ, ПИТАНИЕ" in panel.text
        footer = app.serving.query_one(Footer)
        keys = [k for k in footer.query("FooterKey")]
        assert keys and all(k.region.right <= size[0] for k in keys)  # every key label on screen
