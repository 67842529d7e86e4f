"""The school's settings read from `meta` once, typed; the card-matching rule; dated rights in force."""

from __future__ import annotations

from datetime import date, time

import pytest

from pos.cards import CardStatus, Registered, judge, weaker_matches
from pos.domain import in_force
from pos.policy import shipped_policies
from pos.schedule import Tolerance
from pos.settings import DEFAULT_TIMEZONE, SchoolSettings, parse_week_days, school_meta
from pos.store import StoreError

POLICY = shipped_policies()["ryazan-2024"].read_text(encoding="utf-8")


def test_settings_round_trip_through_meta_with_booleans_and_week_days_typed() -> None:
    meta = school_meta(school_id="s-1", school_name="Школа", timezone="Asia/Krasnoyarsk", week_days={6, 1, 2},
                       policy_text=POLICY, tolerance=Tolerance(5, 20), refuse_outside_window=True,
                       year_starts=date(2026, 9, 1), year_ends=date(2027, 5, 31), order_deadline="09:30")
    assert (meta["week_days"], meta["refuse_outside_window"]) == ("1,2,6", "1")
    settings = SchoolSettings.from_meta({**meta, "terminal_id": "T-1"})
    assert settings.week_days == frozenset({1, 2, 6}) and settings.refuse_outside_window
    assert settings.tolerance == Tolerance(5, 20) and settings.policy.id == "ryazan-2024"
    assert (settings.year_starts, settings.year_ends) == (date(2026, 9, 1), date(2027, 5, 31))
    assert settings.order_deadline == time(9, 30)


def test_a_store_written_before_these_keys_gets_the_defaults() -> None:
    settings = SchoolSettings.from_meta({"policy": POLICY})
    assert settings.timezone == DEFAULT_TIMEZONE and str(settings.tz) == DEFAULT_TIMEZONE
    assert settings.week_days == frozenset({1, 2, 3, 4, 5}) and not settings.refuse_outside_window
    assert settings.tolerance == Tolerance(10, 10) and settings.terminal_id == "T-UNSET"
    assert settings.year_starts is None and settings.order_deadline == time(10)


def test_a_garbled_school_year_or_deadline_in_meta_falls_back_rather_than_stopping_the_window() -> None:
    settings = SchoolSettings.from_meta({"policy": POLICY, "year_starts": "2026-13-40", "order_deadline": "x"})
    assert settings.year_starts is None and settings.order_deadline == time(10)


def test_an_unknown_time_zone_falls_back_and_garbled_week_days_are_dropped() -> None:
    assert str(SchoolSettings.from_meta({"policy": POLICY, "timezone": "Mars/Olympus"}).tz) == DEFAULT_TIMEZONE
    assert parse_week_days("1, 3,x,,9,7") == frozenset({1, 3, 7})
    assert parse_week_days("") == frozenset()


def test_a_terminal_without_school_data_is_told_to_sync() -> None:
    with pytest.raises(StoreError, match="выполните синхронизацию"):
        SchoolSettings.from_meta({"timezone": "Europe/Moscow"})


def test_an_entitlement_is_in_force_from_its_first_to_its_last_day_inclusive() -> None:
    starts, ends = date(2026, 9, 2), date(2027, 5, 31)
    assert in_force(starts, ends, starts) and in_force(starts, ends, ends) and in_force(starts, None, date(2030, 1, 1))
    assert not in_force(starts, ends, date(2026, 9, 1)) and not in_force(starts, ends, date(2027, 6, 1))


def test_a_read_matches_a_card_registered_in_a_weaker_form_on_the_widest_form_both_have() -> None:
    assert weaker_matches("EM:55007EE424") == [("key32", 0x007EE424, frozenset({"D10"})),
                                               ("key24", 0x7EE424, frozenset({"W26"}))]
    assert weaker_matches("W26:126,58404") == [("key24", 0x7EE424, frozenset({"EM", "D10"}))]
    assert weaker_matches("UID:04A1B2C3") == []  # NFC ids match exactly


def test_matched_cards_of_two_students_are_ambiguous_and_only_blocked_ones_are_blocked() -> None:
    ok, lost = Registered("s1", False, "", "EM:1"), Registered("s1", True, "утеряна", "D10:1")
    assert judge([]).status is CardStatus.UNKNOWN
    assert judge([ok, Registered("s2", False, "", "W26:1")]).status is CardStatus.AMBIGUOUS
    assert (judge([lost]).status, judge([lost]).note) == (CardStatus.BLOCKED, "утеряна")
    assert (judge([lost, ok]).status, judge([lost, ok]).student_id) == (CardStatus.OK, "s1")
