"""Menu prices feed paid meals: a day's menu saved in the office reaches a terminal on its next sync, and
at the window each paying student is charged the price of their age group; the price file's rows (for
every age) still serve where the menu has none."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import Engine

from pos.counter import Counter
from pos.decide import Outcome
from pos.domain import AGE_OLDER, AGE_YOUNGER, Meal
from pos.store import make_engine
from server.importer import import_rows
from server.mismatches import items
from server.office import menu
from tests.server.kit import TZ, enroll, school_today, seed_school
from tests.sync.test_client import client_for

TODAY = school_today()


def lunch_time() -> datetime:
    return datetime.combine(TODAY, time(12, 40), ZoneInfo(TZ)).astimezone(UTC)


def born(years: int) -> str:
    """A birth date `years` full years before today (and a month)."""
    return date(TODAY.year - years, TODAY.month, 1).isoformat() if TODAY.day > 1 else \
        date(TODAY.year - years - 1, 12, 1).isoformat()


@pytest.fixture
def school(app: Flask, engine: Engine, tmp_path: Path) -> tuple[Engine, str]:
    """sch1 with a 10-year-old (k10) and a 13-year-old (k13) in grade 5, paying, ordered lunch today;
    a synced terminal store."""
    seed_school(engine, "sch1")
    with engine.begin() as conn:
        import_rows(conn, "sch1", "students", [
            {"student_id": "k10", "full_name": "Зайцева Вера", "class": "5а", "shift": 1, "birth_date": born(10)},
            {"student_id": "k13", "full_name": "Белов Глеб", "class": "5а", "shift": 1, "birth_date": born(13)}])
        import_rows(conn, "sch1", "cards", [{"card": "EM:0000000010", "student_id": "k10"},
                                            {"card": "EM:0000000013", "student_id": "k13"}])
        import_rows(conn, "sch1", "orders", [{"student_id": s, "day": TODAY.isoformat(), "meals": "обед"}
                                             for s in ("k10", "k13")])
        import_rows(conn, "sch1", "topups", [{"student_id": s, "amount": "500,00", "paid_at": TODAY.isoformat(),
                                              "reference": f"pay-{s}"} for s in ("k10", "k13")], today=TODAY)
    _, token = enroll(engine)
    store = make_engine(tmp_path / "t.db")
    assert client_for(app, store, token).sync_once().ok
    return store, token


def lunch(group: str, *prices: int) -> list[menu.DishRow]:
    return [menu.DishRow("lunch", group, f"Блюдо {i}", yield_c=10000, price_kopecks=p) for i, p in enumerate(prices)]


def test_a_10_and_a_13_year_old_pay_their_groups_lunch_price(app: Flask, engine: Engine,
                                                              school: tuple[Engine, str]) -> None:
    store, token = school
    with engine.begin() as conn:  # the menu of today, saved in the office (the day is not over)
        menu.replace_day(conn, "stolovaya", "sch1", TODAY, [*lunch(AGE_YOUNGER, 2200, 4300, 800),
                                                            *lunch(AGE_OLDER, 2500, 5000, 800, 400)])
    with engine.connect() as conn:  # the server's review prices an unserved order as the window would
        books = {i.student_id: i.kopecks for i in items(conn, "sch1", TODAY, TODAY)
                 if i.kind == "ordered_not_served" and i.meal == "lunch"}
    assert books == {"k10": 7300, "k13": 8700}
    assert client_for(app, store, token).sync_once().applied
    counter = Counter(store)
    young = counter.tap_text("EM:0000000010", meal=Meal.LUNCH, now=lunch_time())
    old = counter.tap_text("EM:0000000013", meal=Meal.LUNCH, now=lunch_time())
    assert (young.outcome, young.paid_kopecks, young.balance_after_kopecks) == (Outcome.SERVE_PAID, 7300, 42700)
    assert (old.outcome, old.paid_kopecks, old.balance_after_kopecks) == (Outcome.SERVE_PAID, 8700, 41300)


def test_without_a_menu_the_price_files_price_serves_every_age(app: Flask, engine: Engine,
                                                               school: tuple[Engine, str]) -> None:
    store, _token = school
    counter = Counter(store)
    young = counter.tap_text("EM:0000000010", meal=Meal.LUNCH, now=lunch_time())
    old = counter.tap_text("EM:0000000013", meal=Meal.LUNCH, now=lunch_time())
    assert (young.paid_kopecks, old.paid_kopecks) == (11000, 11000)  # seed_school's price file: lunch 110 ₽


def test_a_menu_for_one_group_leaves_the_other_on_the_price_file(app: Flask, engine: Engine,
                                                                  school: tuple[Engine, str]) -> None:
    store, token = school
    with engine.begin() as conn:
        menu.replace_day(conn, "stolovaya", "sch1", TODAY, lunch(AGE_YOUNGER, 6000))
    assert client_for(app, store, token).sync_once().applied
    counter = Counter(store)
    assert counter.tap_text("EM:0000000010", meal=Meal.LUNCH, now=lunch_time()).paid_kopecks == 6000
    assert counter.tap_text("EM:0000000013", meal=Meal.LUNCH, now=lunch_time()).paid_kopecks == 11000


def test_a_group_removed_from_the_menu_is_removed_from_the_terminal(app: Flask, engine: Engine,
                                                                     school: tuple[Engine, str]) -> None:
    store, token = school
    with engine.begin() as conn:
        menu.replace_day(conn, "stolovaya", "sch1", TODAY, [*lunch(AGE_YOUNGER, 6000), *lunch(AGE_OLDER, 9000)])
    assert client_for(app, store, token).sync_once().applied
    with engine.begin() as conn:
        menu.replace_day(conn, "stolovaya", "sch1", TODAY, lunch(AGE_YOUNGER, 6000))
    assert client_for(app, store, token).sync_once().applied
    assert Counter(store).tap_text("EM:0000000013", meal=Meal.LUNCH, now=lunch_time()).paid_kopecks == 11000


def test_tomorrows_menu_does_not_change_todays_price(app: Flask, engine: Engine, school: tuple[Engine, str]) -> None:
    store, token = school
    with engine.begin() as conn:
        menu.replace_day(conn, "stolovaya", "sch1", TODAY + timedelta(days=1), lunch(AGE_OLDER, 9900))
    assert client_for(app, store, token).sync_once().ok
    assert Counter(store).tap_text("EM:0000000013", meal=Meal.LUNCH, now=lunch_time()).paid_kopecks == 11000
