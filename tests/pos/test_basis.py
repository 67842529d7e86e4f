"""What made a meal free is decided once, at the window, and journaled with the event (`free_category`,
`free_rule`): the registers report a past day as it was decided, whatever the policy or the benefits say
later."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from drivers.card import CardRead
from pos.domain import Meal
from pos.models import Event
from pos.policy import load_policy, shipped_policies
from tests.pos.school import School, at, make_school

NAZAROVO = load_policy(shipped_policies()["nazarovo-2021"])


@pytest.mark.parametrize(("grade", "shift", "categories", "expected"), [
    (1, 1, (), {Meal.BREAKFAST: ("", "nazarovo-2021#1")}),  # the grade's own right
    (1, 1, ("ovz",), {Meal.BREAKFAST: ("ovz", "nazarovo-2021#3"), Meal.LUNCH: ("ovz", "nazarovo-2021#3")}),
    (1, 1, ("transported",), {Meal.BREAKFAST: ("", "nazarovo-2021#1"),
                              Meal.LUNCH: ("transported", "nazarovo-2021#5")}),
    # two categories of one rule: the first in the policy's list is the one recorded
    (5, 1, ("large_family", "low_income"), {Meal.BREAKFAST: ("low_income", "nazarovo-2021#7")}),
    (5, 2, ("single_parent",), {Meal.LUNCH: ("single_parent", "nazarovo-2021#8")}),
    (5, 1, (), {}),
])
def test_each_free_meal_names_its_category_and_rule(grade: int, shift: int, categories: tuple[str, ...],
                                                    expected: dict[Meal, tuple[str, str]]) -> None:
    meals = NAZAROVO.free_meals(grade=grade, shift=shift, categories=categories, age=12)
    assert {m.meal: (m.category, m.rule) for m in meals} == expected


@pytest.fixture
def school(tmp_path: Path) -> School:
    s = make_school(tmp_path)
    s.add_class("c1", "1а", 1, slots={Meal.BREAKFAST: (1, 1), Meal.LUNCH: (1, 5)})
    s.add_class("c5", "5а", 5, slots={Meal.BREAKFAST: (1, 2)})
    return s


def journal(school: School) -> list[tuple[str, str | None, str, str, int, int]]:
    with school.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(  # type: ignore[misc]
            Event.kind, Event.meal, Event.free_category, Event.free_rule, Event.free_kopecks, Event.paid_kopecks)
            .order_by(Event.seq))]


def test_the_journal_keeps_the_basis_of_free_meals_and_none_for_paid_ones_and_undo_copies_it(
        school: School) -> None:
    school.add_student("ovz", "c1", card="EM:0000000001", orders=(Meal.BREAKFAST, Meal.LUNCH), categories=("ovz",))
    school.add_student("payer", "c5", card="EM:0000000002", balance=100_00, birth=None)
    counter = school.counter()
    assert counter.tap(CardRead("EM:0000000001"), now=at(8, 45), meal=Meal.LUNCH).served
    assert counter.tap(CardRead("EM:0000000002"), now=at(9, 45)).served
    assert counter.undo_last(staff="Повар", reason="ошибка", now=at(9, 46)).served is False
    price = NAZAROVO.price(1, 8, Meal.LUNCH)
    assert journal(school) == [
        ("serve", "lunch", "ovz", "nazarovo-2021#3", price, 0),
        ("serve", "breakfast", "", "", 0, 7500),
        ("reversal", "breakfast", "", "", 0, -7500),
    ]


def test_undo_of_a_free_meal_carries_its_basis(school: School) -> None:
    school.add_student("ovz", "c1", card="EM:0000000001", orders=(Meal.BREAKFAST,), categories=("ovz",))
    counter = school.counter()
    assert counter.tap(CardRead("EM:0000000001"), now=at(8, 45)).served
    assert counter.undo_last(staff="Повар", reason="ошибка", now=at(8, 46)).served is False
    price = NAZAROVO.price(1, 8, Meal.BREAKFAST)
    assert journal(school) == [("serve", "breakfast", "ovz", "nazarovo-2021#3", price, 0),
                               ("reversal", "breakfast", "ovz", "nazarovo-2021#3", -price, 0)]


def test_a_refusal_records_no_basis(school: School) -> None:
    school.add_student("s1", "c1", card="EM:0000000001", orders=())
    assert not school.counter().tap(CardRead("EM:0000000001"), now=at(8, 45)).served
    assert journal(school) == [("refuse", "breakfast", "", "", 0, 0)]
