"""Whole scenarios at the window under Textual's pilot: taps through the simulated reader, keys, dialogs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select
from textual import events
from textual.widgets import DataTable, Static

from drivers.card import to_decimal10
from pos.decide import Reason
from pos.domain import Meal
from pos.models import Event, Rejected, Served
from terminal.app import CanteenApp
from terminal.clock import FixedClock
from terminal.screens.dialogs import ReasonScreen
from terminal.screens.sync import SyncScreen
from terminal.widgets.board import BreakBoard
from terminal.widgets.status import AlarmBar, StatusLine
from terminal.widgets.verdict import History, VerdictPanel
from tests.terminal.conftest import (
    FIRST_1A,
    NOT_ORDERED_1B,
    PAID_5A,
    AppFactory,
    board_read,
    card_of,
    cards_of_class,
    ready,
    tap,
    until,
)

pytestmark = pytest.mark.anyio


def panel_text(app: CanteenApp) -> str:
    return app.serving.query_one(VerdictPanel).text


def counts(app: CanteenApp) -> dict[str, tuple[int, int, int]]:
    assert app.board is not None
    return {c.name: (c.ordered, c.served, c.to_come) for c in app.board.counts}


async def test_a_class_arrives_and_taps_each_child_is_served_and_counted(make_app: AppFactory, engine: Engine) -> None:
    app = make_app()
    cards = cards_of_class(engine, "1а")[:5]
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        assert counts(app)["1а"] == (24, 0, 24)
        for card in cards:
            await tap(pilot, card)
            assert app.last_verdict is not None and app.last_verdict.served
        assert app.serving.query_one(VerdictPanel).has_class("-serve")
        assert app.serving.query_one(VerdictPanel).view.headline == "ВЫДАТЬ"  # type: ignore[union-attr]
        assert "Бесплатно: завтрак" in panel_text(app)
        assert len(app.serving.query_one(History).lines) == 4
        await until(pilot, lambda: counts(app)["1а"] == (24, 5, 19))
        assert app.bells == 0


async def test_a_repeat_tap_is_refused_in_red_with_the_time_of_the_first(make_app: AppFactory, engine: Engine) -> None:
    app = make_app()
    card = card_of(engine, FIRST_1A)
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, card)
        assert isinstance(app.clock, FixedClock)
        app.clock.advance(90)
        await tap(pilot, card)
        assert app.last_verdict is not None and app.last_verdict.reason is Reason.ALREADY_SERVED
        assert app.serving.query_one(VerdictPanel).has_class("-refuse")
        assert "Завтрак уже выдан в 08:41" in panel_text(app)
        assert app.bells == 1


async def test_an_unknown_card_is_refused_and_rings(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, "EM:00DEADBEEF")
        assert app.serving.query_one(VerdictPanel).has_class("-refuse")
        assert "Карта не зарегистрирована" in panel_text(app)
        assert "Ученик не найден" in panel_text(app)
        assert app.bells == 1


async def test_the_bell_can_be_switched_off(make_app: AppFactory) -> None:
    app = make_app(bell_on_refuse=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, "EM:00DEADBEEF")
        assert app.bells == 0


async def test_an_override_serves_a_refused_child_in_amber_with_the_reason(make_app: AppFactory,
                                                                          engine: Engine) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, card_of(engine, NOT_ORDERED_1B))
        assert app.last_verdict is not None and app.last_verdict.reason is Reason.NOT_ORDERED
        await pilot.press("f3")
        await pilot.press(*"мама звонила")
        await pilot.press("enter")
        await until(pilot, lambda: app.last_verdict is not None and app.last_verdict.reason is Reason.OVERRIDE)
        panel = app.serving.query_one(VerdictPanel)
        assert panel.has_class("-warn") and panel.view is not None and panel.view.headline == "ВЫДАТЬ"
        assert "Причина: мама звонила" in panel_text(app)
    with engine.connect() as conn:
        event = conn.execute(select(Event).where(Event.kind == "override")).one()
    assert (event.note, event.staff, event.student_id) == ("мама звонила", "Петрова М. И.", NOT_ORDERED_1B)


async def test_an_override_with_an_empty_reason_keeps_the_dialog_open_with_the_error_in_it(
        make_app: AppFactory, engine: Engine) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, card_of(engine, NOT_ORDERED_1B))
        await pilot.press("f3")
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ReasonScreen)
        assert "Укажите причину" in str(dialog.query_one("#reason-error", Static).render())
        await pilot.press(*"мама звонила", "enter")  # typing goes on in the dialog, not on the serving screen
        await until(pilot, lambda: app.last_verdict is not None and app.last_verdict.reason is Reason.OVERRIDE)
        assert len(app.screen_stack) == 1
        await board_read(pilot)
        assert app.board is not None
        row = next(c for c in app.board.counts if c.name == "1б")
        # Served without an order is counted apart: ordered = served + still to come, always.
        assert (row.extra, row.ordered) == (1, row.served + row.to_come)
        assert "сверх заказа 1" in str(app.serving.query_one(BreakBoard).totals.render())
    with engine.connect() as conn:
        assert conn.execute(select(Event.note).where(Event.kind == "override")).scalar_one() == "мама звонила"


async def test_an_override_without_a_refusal_only_warns(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        await pilot.pause()
        assert len(app.screen_stack) == 1  # no dialog opened


async def test_undo_reverses_the_last_serve_and_the_child_can_be_served_again(make_app: AppFactory,
                                                                             engine: Engine) -> None:
    app = make_app()
    card = card_of(engine, PAID_5A)
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, card)
        assert app.last_verdict is not None and app.last_verdict.paid_kopecks == 7500
        assert "Списано 75,00 ₽ · остаток 425,00 ₽" in panel_text(app)
        await pilot.press("f4")
        await pilot.pause()
        shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert f"Будет отменена выдача: {app.last_verdict.student.full_name} (5а), завтрак в " in shown  # type: ignore[union-attr]
        await pilot.press("enter")
        await until(pilot, lambda: app.last_verdict is not None and app.last_verdict.reason is Reason.REVERSAL)
        panel = app.serving.query_one(VerdictPanel)
        assert panel.has_class("-undo") and panel.view is not None and panel.view.headline == "ОТМЕНЕНО"
        assert "Возвращено на счёт 75,00 ₽" in panel_text(app)
        await board_read(pilot)
        undone = app.serving.query_one(History).lines[0]
        assert undone.undone and undone.text.endswith("ВЫДАЧА ОТМЕНЕНА")  # the list no longer reads «ВЫДАТЬ» alone
        assert isinstance(app.clock, FixedClock)
        app.clock.advance(30)
        await tap(pilot, card)
        assert app.last_verdict is not None and app.last_verdict.served
        assert "остаток 425,00 ₽" in panel_text(app)
        history = app.serving.query_one(History).lines
        assert [row.undone for row in history][:2] == [False, True]  # the reversal's own row, then the struck serve


async def test_undo_with_nothing_served_keeps_the_panel(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await pilot.pause()
        assert len(app.screen_stack) == 1  # nothing to undo: a notice, no dialog
        assert app.last_verdict is None
        assert app.serving.query_one(VerdictPanel).has_class("-idle")


async def test_a_forgotten_card_is_served_by_name_and_recorded_as_such(make_app: AppFactory,
                                                                      engine: Engine) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await pilot.press(*"орлов 1а")
        await pilot.pause()
        await pilot.press("enter")  # the first hit
        await pilot.pause()
        await pilot.press("enter")  # the reason: «Нет карты с собой»
        await until(pilot, lambda: app.last_verdict is not None)
        verdict = app.last_verdict
        assert verdict is not None and verdict.served and verdict.student is not None
        assert verdict.student.full_name.startswith("Орлов") and verdict.student.class_name == "1а"
        assert "Выдано без карты: Нет карты с собой" in panel_text(app)
    with engine.connect() as conn:
        event = conn.execute(select(Event).where(Event.id == verdict.event_id)).one()
    assert (event.source, event.note, event.card_uid) == ("manual", "Нет карты с собой", None)


async def test_the_reader_unplugged_raises_the_alarm_and_back_clears_it(make_app: AppFactory,
                                                                        engine: Engine) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        assert app.reader is not None and app.reader.connected
        alarm = app.serving.query_one(AlarmBar)
        assert not alarm.display
        app.reader.present("unplug")  # type: ignore[attr-defined]
        await until(pilot, lambda: not app.reader_state.connected)
        await pilot.pause()
        assert alarm.display and "СЧИТЫВАТЕЛЬ ОТКЛЮЧЁН" in str(alarm.render())
        assert "НЕТ СВЯЗИ" in str(app.serving.query_one(StatusLine).render())
        assert app.bells == 1
        app.reader.present("plug")  # type: ignore[attr-defined]
        await until(pilot, lambda: app.reader_state.connected)
        await pilot.pause()
        assert not alarm.display
        await tap(pilot, card_of(engine, FIRST_1A))
        assert app.last_verdict is not None and app.last_verdict.served


async def test_a_keyboard_wedge_burst_is_served_like_a_card(make_app: AppFactory, engine: Engine) -> None:
    app = make_app()
    number = to_decimal10(card_of(engine, FIRST_1A))
    assert number is not None
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        # A wedge reader types a whole number in a few milliseconds; the pilot's press() waits for
        # the app to go idle after every key (~60 ms here), slower than any reader, so the key
        # events are posted back to back as the terminal would receive them.
        for key in [*number, "enter"]:
            app.serving.post_message(events.Key(key, key if len(key) == 1 else None))
        await until(pilot, lambda: app.last_verdict is not None)
        verdict = app.last_verdict
        assert verdict is not None and verdict.served and verdict.student is not None
        assert verdict.student.id == FIRST_1A


async def test_a_person_typing_digits_slowly_is_not_a_card(make_app: AppFactory, engine: Engine) -> None:
    app = make_app()
    number = to_decimal10(card_of(engine, FIRST_1A))
    assert number is not None
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        for key in [*number, "enter"]:  # a person's pace: each key handled, then 80 ms to the next
            await pilot.press(key)
            await pilot.pause(0.08)
        await pilot.pause(0.2)
        assert app.last_verdict is None


async def test_switching_the_meal_by_hand_serves_that_meal(make_app: AppFactory, engine: Engine) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f6")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # auto, breakfast, [lunch]
        await until(pilot, lambda: app.meal_choice is Meal.LUNCH)
        await board_read(pilot)
        assert "Вручную: Обед" in str(app.serving.query_one("#meal-now").render())
        board = app.serving.query_one(BreakBoard)
        assert board.display
        assert app.board is not None and all(c.meal is Meal.LUNCH for c in app.board.counts)
        await tap(pilot, card_of(engine, FIRST_1A))
        assert app.last_verdict is not None and app.last_verdict.meal is Meal.LUNCH


async def test_the_day_summary_shows_ordered_served_and_who_is_missing(make_app: AppFactory,
                                                                      engine: Engine) -> None:
    app = make_app()
    cards = cards_of_class(engine, "1а")
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        for card in cards[:-1]:
            await tap(pilot, card)
        await pilot.press("f7")
        await pilot.pause()
        summary = app.screen
        assert summary.query_one("#missing-title").render().__str__() == "1а, завтрак: ещё не было (1)"
        with engine.connect() as conn:
            served = set(conn.execute(select(Served.student_id)).scalars())
        assert len(served) == 23
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.serving


async def test_the_demo_key_taps_the_next_child_of_the_break(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        names = []
        for _ in range(3):
            before = app.last_verdict
            await pilot.press("space")
            await until(pilot, lambda b=before: app.last_verdict is not b)  # type: ignore[misc]
            assert app.last_verdict is not None and app.last_verdict.student is not None
            names.append(app.last_verdict.student.id)
        assert names == ["s00001", "s00002", "s00003"]


async def test_it_starts_offline_with_a_server_configured_and_still_serves(make_app: AppFactory,
                                                                           engine: Engine) -> None:
    from terminal.config import SyncConfig

    app = make_app(sync=SyncConfig(server_url="http://127.0.0.1:9"))
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        status = str(app.serving.query_one(StatusLine).render())
        assert "ОФЛАЙН" in status and "ДАННЫЕ УСТАРЕЛИ" in status
        await tap(pilot, card_of(engine, FIRST_1A))
        assert app.last_verdict is not None and app.last_verdict.served
        await until(pilot, lambda: app.board is not None and app.board.sync is not None
                    and app.board.sync.status.waiting == 1)


async def test_a_far_clock_at_the_last_sync_is_impossible_to_miss(make_app: AppFactory, engine: Engine) -> None:
    from pos.settings import write_meta
    from terminal.config import SyncConfig

    with engine.begin() as conn:
        write_meta(conn, {"sync.clock_drift_s": "-900", "sync.last_ok_at": "2026-11-23T00:30:00+00:00",
                          "sync.data_as_of": "2026-11-23T00:30:00+00:00"})
    app = make_app(sync=SyncConfig(server_url="http://127.0.0.1:9"))
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        alarm = app.serving.query_one(AlarmBar)
        assert alarm.display and "ЧАСЫ ТЕРМИНАЛА РАСХОДЯТСЯ С СЕРВЕРОМ НА 15 МИН" in str(alarm.render())
        assert "ДАННЫЕ УСТАРЕЛИ" not in str(alarm.render())


async def test_the_clock_line_says_when_the_time_is_simulated(make_app: AppFactory) -> None:
    app = make_app()
    assert isinstance(app.clock, FixedClock)
    app.clock.simulated = True
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        top = str(app.serving.query_one("#topline").render())
        assert "23.11.2026 08:41:00" in top and "ДЕМО-ЧАСЫ" in top


async def test_outside_the_class_window_the_serve_is_amber(make_app: AppFactory, engine: Engine) -> None:
    from tests.terminal.conftest import BREAKFAST_1

    app = make_app(at=BREAKFAST_1 + timedelta(hours=1))  # 09:41: 1а's breakfast was at 08:40
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, card_of(engine, FIRST_1A))
        assert app.serving.query_one(VerdictPanel).has_class("-warn")
        assert "Не время класса 1а" in panel_text(app)


async def test_the_wal_is_copied_back_once_the_queue_pauses_and_not_while_children_tap(
        make_app: AppFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import terminal.app

    app = make_app()
    calls: list[tuple[int, int]] = []
    real = app.counter.checkpoint
    monkeypatch.setattr(app.counter, "checkpoint", lambda: calls.append(real()) or calls[-1])
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, card_of(engine, FIRST_1A))
        app._checkpoint_when_idle()  # a child just tapped: not idle
        await pilot.pause()
        assert calls == []
        monkeypatch.setattr(terminal.app, "CHECKPOINT_IDLE_S", 0.0)
        app._checkpoint_when_idle()
        app._checkpoint_when_idle()  # once per pause, not every timer tick
        await until(pilot, lambda: bool(calls))
        await pilot.pause(0.1)
        assert len(calls) == 1 and calls[0][0] > 0 and calls[0][1] == calls[0][0]


async def test_the_sync_screen_lists_rejected_events_and_syncs_on_request(make_app: AppFactory,
                                                                          engine: Engine) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await tap(pilot, card_of(engine, PAID_5A))
        served = app.last_verdict
        assert served is not None and served.event_id is not None
        with engine.begin() as conn:  # what the sync client does with an event the server refuses
            seq = conn.execute(select(Event.seq).where(Event.id == served.event_id)).scalar_one()
            conn.execute(insert(Rejected).values(event_id=served.event_id, seq=seq, reason="conflict",
                                                 message="событие с этим номером уже есть с другим содержимым",
                                                 at=datetime(2026, 11, 23, 2, 0)))
        await pilot.press("f8")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SyncScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 1
        row = [str(c) for c in table.get_row_at(0)]
        assert row[0] == "23.11.2026 08:41" and "завтрак" in row[2]
        assert row[3] == "событие с этим номером уже есть с другим содержимым"
        assert "Сервер не настроен" in str(screen.query_one("#sync-state", Static).render())
        await pilot.press("s")  # no server: a notice, not a crash
        await pilot.pause()
        assert any("не настроен" in n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.serving
