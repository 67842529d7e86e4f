"""The daily edit check of the claim (7 CFR 210.8 style): free meals per category and meal over the students
entitled and present are an item of the review queue; a silent school day is flagged; both need a comment."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, insert

from server.models import Absence, Order
from server.office.reviews import Filters, ReviewError, queue, resolve
from tests.server.office.tabel_kit import L3040, L75660, SCHOOL, build, d, event, store

TODAY = date(2026, 12, 3)  # the queue judges 01.12 and 02.12 (03.12 is not over)


def checks(engine: Engine) -> dict[tuple[str, str, str, str], tuple[int, int]]:
    with engine.connect() as conn:
        q = queue(conn, SCHOOL, Filters(d(1), d(2), kinds=frozenset({"edit_check", "no_data"})), today=TODAY)
    return {(e.item.day, e.item.subject, e.item.meal, e.item.kind): (e.item.count, e.item.kopecks) for e in q.entries}


def test_claims_over_the_entitled_and_present_are_flagged(engine: Engine) -> None:
    build(engine)
    # Orders of 01.12 (attendance): a1, a2 (ОВЗ), c1 (малообеспеченные). a2 is ordered but marked absent on 02.12.
    with engine.begin() as conn:
        conn.execute(insert(Order), [{"school_id": SCHOOL, "student_id": s, "day": d(1), "meal": "breakfast", "rev": 1}
                                     for s in ("a1", "a2", "c1")])
    # 01.12: the kit's claims are within the entitled and present (a1 grade right, a2 ОВЗ breakfast + lunch,
    # b1/b2 2nd shift, c1) — served students count as present. One more ОВЗ breakfast is claimed for c2, who has
    # no benefit: ОВЗ breakfasts 01.12 = a2 + c2 = 2 > 1 entitled (a2; b2 is 2nd shift: no breakfast) -> 1 over,
    # 56,49 + 48,58 = 105,07 / 2 = 52,53 (the average free amount of the claims).
    store(engine, event(d(1), "c2", "breakfast", free=5649, line=L75660, category="ovz", rule="9"))
    # 02.12: a2 marked absent, yet two ОВЗ meals claimed for a2 (breakfast, lunch) -> both over (0 present).
    with engine.begin() as conn:
        conn.execute(insert(Absence).values(school_id=SCHOOL, student_id="a2", day=d(2), reason="болеет"))
    found = checks(engine)
    assert found == {
        ("2026-12-01", "категория:ovz", "breakfast", "edit_check"): (1, 5253),
        ("2026-12-02", "категория:ovz", "breakfast", "edit_check"): (1, 4858),
        ("2026-12-02", "категория:ovz", "lunch", "edit_check"): (1, 7288),
    }
    # the grade's own right on 01.12: a1 breakfast (1А) + b1 lunch (2Б) claimed, both present: nothing.
    assert not any(k[1] == "категория:по классу" for k in found) and L3040


def test_a_silent_school_day_is_flagged_and_resolved_only_with_a_comment(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        q = queue(conn, SCHOOL, Filters(d(1), d(9), kinds=frozenset({"no_data"})), today=date(2026, 12, 10))
    # Served on 01.12, 02.12 and 08.12; 03.12's only meal was reversed: 03.12, 04.12, 07.12, 09.12 are silent
    # (05–06 the weekend).
    assert [e.item.day for e in q.entries] == ["2026-12-03", "2026-12-04", "2026-12-07", "2026-12-09"]
    assert q.entries[0].item.subject == "школа" and q.counts()["no_data"]["open"] == 4
    key = q.entries[0].key
    with engine.begin() as conn, pytest.raises(ReviewError, match="нужен комментарий"):
        resolve(conn, SCHOOL, [(key, None)], reason="excused", comment="", who="коорд", today=date(2026, 12, 10))
    with engine.begin() as conn:
        resolve(conn, SCHOOL, [(key, None)], reason="excused", comment="терминал не работал, учёт на бумаге",
                who="коорд", today=date(2026, 12, 10))
    with engine.connect() as conn:
        q = queue(conn, SCHOOL, Filters(d(1), d(9), kinds=frozenset({"no_data"}), status="resolved"),
                  today=date(2026, 12, 10))
    assert [e.item.day for e in q.entries] == ["2026-12-03"]
