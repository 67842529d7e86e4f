"""What was true on a past day (`server.history`): the class of a student on a day from the class spans, and
the policy of the day's school year — a day of a year without a policy is not judged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, delete, insert

from pos.policy import shipped_policies
from server.history import NoPolicy, class_book, policy_for, school_year_of
from server.models import HISTORY_START, SchoolPolicy, StudentClassSpan
from tests.server.kit import seed_school


def test_the_school_year_runs_from_september_to_august() -> None:
    assert school_year_of(date(2026, 9, 1)) == "2026-2027" == school_year_of(date(2027, 8, 31))
    assert school_year_of(date(2026, 8, 31)) == "2025-2026"


def test_a_student_is_in_the_class_of_the_latest_span_that_has_started(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        conn.execute(insert(StudentClassSpan), [
            {"school_id": "sch1", "student_id": "m", "starts": HISTORY_START, "class_id": "5а"},
            {"school_id": "sch1", "student_id": "m", "starts": date(2026, 11, 16), "class_id": "5б"}])
        book = class_book(conn, "sch1")
        only = class_book(conn, "sch1", ["nobody"])
    assert book.class_on("m", date(2026, 11, 15)) == "5а"
    assert book.class_on("m", date(2026, 11, 16)) == book.class_on("m", date(2027, 1, 1)) == "5б"
    assert book.class_on("m", date(1999, 12, 31)) is None and book.class_on("x", date(2026, 11, 16)) is None
    assert only.class_on("m", date(2026, 11, 16)) is None


def test_a_day_is_judged_by_its_year_s_policy_and_not_at_all_without_one(engine: Engine) -> None:
    seed_school(engine)
    text = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    with engine.begin() as conn:
        conn.execute(delete(SchoolPolicy))  # the seeded school's policy of the current year
        conn.execute(insert(SchoolPolicy).values(school_id="sch1", school_year="2021-2022", policy_text=text,
                                                 set_by="t", set_at=datetime.now(UTC).replace(tzinfo=None)))
        assert policy_for(conn, "sch1", date(2022, 3, 1)).id == "nazarovo-2021"
        with pytest.raises(NoPolicy, match=r"01\.12\.2026: нет политики питания на 2026/27 учебный год "
                                            r"\(в школе есть: 2021/22\)"):
            policy_for(conn, "sch1", date(2026, 12, 1))
