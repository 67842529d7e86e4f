"""The ledger's rules: what counts as served, what moves money, which amounts and reversals are possible."""

from __future__ import annotations

import pytest

from pos.ledger import (
    MAX_MEAL_KOPECKS,
    Booked,
    EventKind,
    Flag,
    amount_problem,
    balance_delta,
    cancelled,
    counts_as_served,
    join_flags,
    reversal_flags,
    reversal_problem,
)

SERVE = Booked("a" * 32, EventKind.SERVE, "t1", "s1", "lunch", 5000, 0)


def test_serves_and_overrides_count_as_served_refusals_and_reversals_do_not() -> None:
    assert [counts_as_served(k) for k in EventKind] == [True, False, True, False]


def test_a_serve_debits_a_reversal_credits_back_a_refusal_moves_nothing() -> None:
    assert balance_delta(EventKind.SERVE, 4858) == -4858
    assert balance_delta(EventKind.REVERSAL, -4858) == 4858
    assert balance_delta(EventKind.REFUSE, 4858) == 0


@pytest.mark.parametrize(("kind", "paid", "free"), [
    (EventKind.SERVE, -1, 0), (EventKind.SERVE, 0, -100_000_000), (EventKind.SERVE, MAX_MEAL_KOPECKS + 1, 0),
    (EventKind.REVERSAL, 100, 0), (EventKind.REFUSE, 1, 0), (EventKind.OVERRIDE, 5000, 0),
])
def test_impossible_amounts_are_named(kind: EventKind, paid: int, free: int) -> None:
    assert amount_problem(kind, paid, free)


@pytest.mark.parametrize(("kind", "paid", "free"), [
    (EventKind.SERVE, 0, 0), (EventKind.SERVE, 1422, 14222), (EventKind.REVERSAL, -1422, -14222),
    (EventKind.REFUSE, 0, 0), (EventKind.OVERRIDE, 0, 0), (EventKind.SERVE, MAX_MEAL_KOPECKS, 0),
])
def test_possible_amounts_pass(kind: EventKind, paid: int, free: int) -> None:
    assert amount_problem(kind, paid, free) is None


def test_a_reversal_must_match_its_serve_exactly_once() -> None:
    ok = {"student_id": "s1", "paid_kopecks": -5000, "free_kopecks": 0}
    assert reversal_problem(**ok, target=SERVE, already_reversed=False) is None
    assert reversal_problem(**ok, target=None, already_reversed=False)
    assert reversal_problem(**ok, target=SERVE, already_reversed=True)
    assert reversal_problem(**{**ok, "student_id": "s2"}, target=SERVE, already_reversed=False)
    assert reversal_problem(**{**ok, "paid_kopecks": -6000}, target=SERVE, already_reversed=False)
    refusal = Booked("b" * 32, EventKind.REFUSE, "t1", "s1", "lunch", 0, 0)
    assert reversal_problem(student_id="s1", paid_kopecks=0, free_kopecks=0, target=refusal, already_reversed=False)


def test_a_reversal_from_another_window_is_flagged() -> None:
    assert reversal_flags("t1", SERVE) == ()
    assert reversal_flags("t2", SERVE) == (Flag.FOREIGN_REVERSAL,)


def test_flags_join_once_in_order_and_reversals_cancel_their_serves() -> None:
    assert join_flags([Flag.CLONE, "", Flag.STALE_DATA, Flag.CLONE]) == "clone,stale_data"
    assert cancelled([("r", EventKind.REVERSAL, "a"), ("a", EventKind.SERVE, None)]) == {"a"}
