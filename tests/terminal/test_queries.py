"""pos.queries: the read models of the serving screen, on the demo school's real store."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import Engine

from drivers.card import CardRead
from pos.counter import Counter
from pos.domain import Meal
from pos.queries import (
    class_counts,
    current_break,
    day_summary,
    expected_cards,
    missing_students,
    search_students,
)
from tests.terminal.conftest import DAY, FIRST_1A, NOT_ORDERED_1B, TZ, card_of


def at(hh: int, mm: int) -> datetime:
    return datetime.combine(DAY, time(hh, mm), tzinfo=TZ)


def test_the_break_on_now_is_found_with_the_schools_tolerance(engine: Engine) -> None:
    schedule = Counter(engine).schedule  # the value the verdicts are decided by
    first = current_break(schedule, at(8, 35))
    second = current_break(schedule, at(9, 45))
    between = current_break(schedule, at(9, 20))
    lunch = current_break(schedule, at(8, 45), meal=Meal.LUNCH)
    evening = current_break(schedule, at(20, 0))
    assert first is not None and (first.shift, first.number, first.in_window) == (1, 1, True)
    assert [c.name for c in first.classes][:3] == ["1а", "1б", "4б"] and first.meals == (Meal.BREAKFAST,)
    assert second is not None and second.number == 2 and {c.name for c in second.classes} == {"4а", "5а", "5б"}
    assert between is not None and (between.number, between.in_window) == (2, False)  # the next one
    assert lunch is not None and lunch.meals == (Meal.LUNCH,) and not lunch.in_window
    assert evening is not None and (evening.shift, evening.in_window) == (2, False)  # the last of the day


def test_counts_follow_serves_and_orders(engine: Engine) -> None:
    counter = Counter(engine)
    counter.tap(CardRead(uid=card_of(engine, FIRST_1A)), now=at(8, 41).astimezone(UTC))
    counter.tap(CardRead(uid=card_of(engine, NOT_ORDERED_1B)), now=at(8, 41).astimezone(UTC))
    with engine.connect() as conn:
        counts = {c.name: (c.ordered, c.served, c.to_come) for c in class_counts(
            conn, DAY, [("c01", Meal.BREAKFAST), ("c02", Meal.BREAKFAST)])}
        missing = missing_students(conn, DAY, "c01", Meal.BREAKFAST)
        summary = day_summary(conn, DAY)
        queue = expected_cards(conn, DAY, 1, 1)
    assert counts == {"1а": (24, 1, 23), "1б": (22, 0, 22)}  # 1б's refused child has no order
    assert len(missing) == 23 and FIRST_1A not in {m.id for m in missing}
    assert len(summary) == sum(1 for _ in summary) and {s.meal for s in summary} == {Meal.BREAKFAST, Meal.LUNCH,
                                                                                     Meal.SNACK}
    assert queue[0].student_id == FIRST_1A and queue[0].served and not queue[1].served


def test_search_finds_cyrillic_names_in_any_case_and_by_class(engine: Engine) -> None:
    with engine.connect() as conn:
        by_name = search_students(conn, "ОРЛОВ")
        by_name_and_class = search_students(conn, "орлов 1а")
        by_class = search_students(conn, "1а", limit=100)
        yo = search_students(conn, "семенов")
        nothing = search_students(conn, "   ")
    assert by_name and all("Орлов" in h.full_name for h in by_name)
    assert by_name_and_class and all(h.class_name == "1а" for h in by_name_and_class)
    assert len(by_class) == 24
    assert yo and all("Семёнов" in h.full_name for h in yo)  # ё and е are one letter to a searcher
    assert nothing == []
