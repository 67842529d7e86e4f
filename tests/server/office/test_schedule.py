"""The canteen schedule (seed 004 приложение 6) from the breaks and meal slots (see test_request_kit)."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from server.office.changes import OfficeError
from server.reports import schedule
from tests.server.office.test_request_kit import MARCH, nazarovo


def test_counts_breaks_and_slots(engine: Engine) -> None:
    nazarovo(engine)
    with engine.connect() as conn:
        s = schedule.build(conn, "naz", MARCH, seats=120)
        only_6b = schedule.build(conn, "naz", MARCH, class_id="6б")
    # On 01.03: 1а p1, p2 (2); 5а s1 (by its history), s2, s3, s4 (4); 6б s5 (1): 3 classes, 7 students.
    assert (s.classes, s.students, s.primary_classes, s.primary_students) == (3, 7, 1, 2)
    # Benefit students of 5–11 on 01.03: s1, s3, s5 (s2's benefit starts on 16.03).
    assert s.benefit_senior == 3 and s.seats == 120
    assert [(b.shift, b.number, b.minutes) for b in s.breaks] == [(1, 1, 20), (1, 2, 20), (2, 1, 15)]
    assert [(x.shift, x.starts, x.meal_title, x.classes, x.heads) for x in s.slots] == [
        (1, "08:40", "завтрак", ("1А",), 2), (1, "09:45", "завтрак", ("5А",), 4),
        (2, "13:40", "обед", ("6Б",), 1), (2, "13:40", "полдник", ("6Б",), 1)]
    assert [x.meal for x in only_6b.slots] == ["lunch", "snack"] and only_6b.students == 7
    assert dict(schedule.summary(s))["Перемены, 1 смена"] == (
        "1. с 08:40 по 09:00 (20 мин); 2. с 09:45 по 10:05 (20 мин)")


def test_seats_argument_formats(engine: Engine) -> None:
    nazarovo(engine)
    for bad in ("много", "0", "-5", "1e3"):
        with pytest.raises(OfficeError, match="посадочных мест"):
            schedule.options({"seats": bad})
    assert schedule.options({"seats": " 80 "}) == {"seats": 80} and schedule.options({}) == {}
    with engine.connect() as conn:
        s = schedule.build(conn, "naz", MARCH)
    assert dict(schedule.summary(s))["К-во посадочных мест в обеденном зале"] == "—"
    got = json.loads(json.dumps(schedule.to_json(s)))
    assert got["benefit_students_5_11"] == 3 and got["slots"][1]["classes"] == ["5А"] and got["seats"] is None
    assert "1;2;с 09:45 по 10:05;завтрак;5А;4" in schedule.to_csv(s)
    sheet = load_workbook(io.BytesIO(schedule.to_xlsx(s))).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["1 смена: с 09:45 по 10:05", "завтрак", "5А", 4] in rows
    assert ["К-во обучающихся", "3 классов / 7 учащихся", None, None] in rows
    assert schedule.to_pdf(s).startswith(b"%PDF")
