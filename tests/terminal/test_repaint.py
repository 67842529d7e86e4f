"""A tap repaints the verdict, not the screen: no layout pass on the tap path or on the board's refreshes.

A layout pass of the serving screen (and the full repaint that follows) costs more than a frame; it
used to happen on every board refresh and clock tick and delayed the next child's verdict.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from textual.screen import Screen

from pos.domain import Meal
from pos.queries import ClassCount
from terminal.clock import FixedClock
from terminal.messages import Board, Refreshed
from terminal.widgets.board import CountsTable, counts_table
from terminal.widgets.verdict import History
from tests.terminal.conftest import AppFactory, board_read, cards_of_class, ready, tap

pytestmark = pytest.mark.anyio


async def test_taps_board_refreshes_and_clock_ticks_lay_nothing_out(make_app: AppFactory, engine: Engine,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    layouts: list[str] = []
    refresh_layout = Screen._refresh_layout

    def counted(screen: Screen[object], *args: object, **kwargs: object) -> None:
        layouts.append(type(screen).__name__)
        refresh_layout(screen, *args, **kwargs)  # type: ignore[arg-type]

    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await pilot.pause(0.1)
        monkeypatch.setattr(Screen, "_refresh_layout", counted)
        for card in [*cards_of_class(engine, "1а")[:3], "EM:00DEADBEEF"]:
            assert isinstance(app.clock, FixedClock)
            app.clock.advance(3)
            app.serving.tick()
            await tap(pilot, card)  # the verdict, the list under it, the board read after the tap
        app.serving.refresh_board()
        await board_read(pilot)
        assert app.board is not None and {c.name: c.served for c in app.board.counts}["1а"] == 3
        assert len(app.serving.query_one(History).lines) == 3
    assert layouts == []


async def test_an_older_board_read_finishing_late_does_not_replace_a_newer_one(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        current = app.board
        assert current is not None
        stale = Board(current.day, current.school_day, current.brk, [], current.sync)
        app.post_message(Refreshed(stale, seq=0))
        await pilot.pause()
        assert app.board is current
        assert app.serving.query_one(CountsTable).counts == current.counts


def test_the_counts_table_aligns_names_left_and_numbers_right() -> None:
    counts = [ClassCount("c1", "1а", Meal.BREAKFAST, 24, 5, 19),
              ClassCount("c2", "6 инклюзия", Meal.LUNCH, 2, 0, 2, extra=1)]
    lines = counts_table(counts).plain.split("\n")
    assert lines == ["Класс     Приём    Заказ Выдано Ждём Сверх",
                     "1а        завтрак     24      5   19      ",
                     "6 инклю…  обед         2      0    2     1"]


def test_the_counts_table_names_the_meal_only_when_the_break_serves_several() -> None:
    counts = [ClassCount("c1", "1а", Meal.BREAKFAST, 24, 5, 19), ClassCount("c2", "1б", Meal.BREAKFAST, 20, 0, 20)]
    assert counts_table(counts).plain.split("\n")[0] == "Класс  Заказ Выдано Ждём Сверх"

