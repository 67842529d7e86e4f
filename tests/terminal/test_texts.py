"""How verdicts read and what the status line says: pure functions, no screen."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pos.decide import Outcome, Reason, StudentView, Verdict
from pos.domain import Meal
from sync.status import SyncStatus
from terminal.syncstatus import SyncView
from terminal.texts import REFUSE, SERVE, UNDO, WARN, history_line, view_of
from terminal.widgets.bigword import big
from terminal.widgets.status import ReaderState, status_parts

PUPIL = StudentView("s1", "Орлов Максим", "5а", 5, 1, None, "Аллергия: орехи", None, 50000)


def test_a_paid_serve_shows_the_debit_and_the_new_balance() -> None:
    verdict = Verdict(Outcome.SERVE_PAID, Reason.OK, "Платно: завтрак 75,00 ₽", meal=Meal.BREAKFAST, student=PUPIL,
                      paid_kopecks=7500, balance_after_kopecks=42500)
    view = view_of(verdict)
    assert (view.tone, view.headline, view.who, view.meal) == (SERVE, "ВЫДАТЬ", "Орлов Максим · 5а", "Завтрак")
    assert view.money == "Списано 75,00 ₽ · остаток 425,00 ₽"
    assert view.diet == "Аллергия: орехи"


def test_tones_follow_the_verdict() -> None:
    served = Verdict(Outcome.SERVE_FREE, Reason.OK, "Бесплатно: обед", student=PUPIL)
    assert view_of(served).tone == SERVE and view_of(served).money == ""
    warned = Verdict(Outcome.SERVE_FREE, Reason.OVERRIDE, "Выдано", student=PUPIL, warnings=("Вопреки отказу",))
    assert view_of(warned).tone == WARN
    refused = Verdict(Outcome.REFUSE, Reason.UNKNOWN_CARD, "Карта не зарегистрирована", card_uid="EM:00DEADBEEF")
    assert (view_of(refused).tone, view_of(refused).headline, view_of(refused).who) == (REFUSE, "ОТКАЗ", "")
    undone = Verdict(Outcome.REFUSE, Reason.REVERSAL, "Отменена выдача", student=PUPIL, paid_kopecks=-7500)
    assert (view_of(undone).tone, view_of(undone).headline) == (UNDO, "ОТМЕНЕНО")
    assert view_of(undone).money == "Возвращено на счёт 75,00 ₽"
    assert history_line(refused, datetime(2026, 11, 23, 8, 41, 5)).text.startswith("08:41:05  ОТКАЗ   EM:00DEADBEEF")


def test_the_headline_is_drawn_in_five_rows_of_blocks() -> None:
    rows = big("ОТКАЗ").split("\n")
    assert len(rows) == 5 and all(set(r) <= {"█", " "} for r in rows)
    assert big("ok?") == "OK?"  # a word the font lacks stays readable


def status(**changes: object) -> SyncStatus:
    base = dict(online=False, last_ok_at=None, offline_since=None, waiting=3, rejected=0, drift_s=None,
                data_as_of=None, stale=False, clock_trouble=False, last_error="")
    base.update(changes)
    return SyncStatus(**base)  # type: ignore[arg-type]


def test_the_status_line_names_every_problem_and_raises_alarms() -> None:
    tz = ZoneInfo("Asia/Krasnoyarsk")
    since = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    items, alarms = status_parts(
        ReaderState(False, "Считыватель отключён: /dev/ttyUSB0"),
        SyncView(True, status(offline_since=since, stale=True, clock_trouble=True, drift_s=-300.0, rejected=2)),
        tz, terminal_id="T-7", staff="")
    line = " │ ".join(items)
    assert "НЕТ СВЯЗИ" in line and "ОФЛАЙН с 23.11.2026 08:00" in line and "к отправке: 3" in line
    assert "терминал T-7" in line and "на раздаче: не указан" in line
    assert len(alarms) == 4
    assert any("ЧАСЫ" in a and "5 МИН" in a for a in alarms)


def test_without_a_server_the_terminal_is_offline_by_design_and_calm() -> None:
    items, alarms = status_parts(ReaderState(True, ""), SyncView(False, status()), ZoneInfo("UTC"),
                                 terminal_id="DEMO-1", staff="Демо")
    assert "офлайн (сервер не настроен)" in items and alarms == []
