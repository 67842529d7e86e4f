"""Lists per category (seed 004 приложение 5) with each student's basis document (see test_request_kit)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from server.office.changes import OfficeError
from server.reports import lists
from tests.server.office.test_request_kit import MARCH, nazarovo


def by_category(data: lists.Lists) -> dict[str, list[tuple[str, str]]]:
    return {c.code: [(r.full_name, r.class_name) for r in c.rows] for c in data.lists if c.rows}


def test_lists_on_the_first_and_on_a_later_day_with_their_basis(engine: Engine) -> None:
    nazarovo(engine)
    with engine.connect() as conn:
        first = lists.build(conn, "naz", MARCH)
        later = lists.build(conn, "naz", MARCH, day=date(2027, 3, 16))
        only_1a = lists.build(conn, "naz", MARCH, class_id="1а")
    # On 01.03: p2 and s5 (ОВЗ, primary first), s1 (in 5а by its class history, though 6б now), s3; not yet s2.
    assert by_category(first) == {"low_income": [("Борисов Борис", "5А")], "single_parent": [("Дьякова Дина", "5А")],
                                  "ovz": [("Белова Алла", "1А"), ("Жукова Жанна", "6Б")]}
    assert first.count == 4 and [c.code for c in first.lists][:2] == ["low_income", "large_family"]
    assert {c.code: c.form_row for c in first.lists}["single_parent"] == "1.9*"
    # From 16.03 (the day after приказ 01-04-77 of 15.03.2027) s2 is in the list of многодетные.
    (s2,) = next(c for c in later.lists if c.code == "large_family").rows
    assert s2.birth_date == date(2015, 2, 1) and s2.class_name == "5А"
    # Its basis: the application's own documents (the common «Заявление» left out), the protocol and the приказ.
    assert s2.documents == ("Копия свидетельства о рождении обучающегося", "Сведения о составе семьи",
                            "СНИЛС обучающегося", "Сведения о размере доходов каждого члена семьи")
    assert s2.basis.endswith("протокол № 7 от 02.12.2026; приказ № 01-04-77 от 15.03.2027")
    # An imported entitlement: its приказ.
    p2 = next(c for c in first.lists if c.code == "ovz").rows[0]
    assert p2.basis == "приказ № 01-04-10 от 01.09.2026"
    assert by_category(only_1a) == {"ovz": [("Белова Алла", "1А")]}


def test_formats_and_bad_days(engine: Engine) -> None:
    nazarovo(engine)
    with engine.connect() as conn:
        data = lists.build(conn, "naz", MARCH, day=date(2027, 3, 16))
        with pytest.raises(OfficeError, match="не в месяце"):
            lists.build(conn, "naz", MARCH, day=date(2027, 4, 1))
        with pytest.raises(OfficeError, match="класса «9я» нет"):
            lists.build(conn, "naz", MARCH, class_id="9я")
    with pytest.raises(OfficeError, match="дата"):
        lists.options({"day": "32.03.2027"})
    got = json.loads(json.dumps(lists.to_json(data)))
    large = next(c for c in got["lists"] if c["category"] == "large_family")
    assert large["form_row"] == "1.6" and large["students"][0]["birth_date"] == "2015-02-01"
    text = lists.to_csv(data)
    assert "1.6;Многодетные (доход не выше 1,25 ПМ), п. 4.3 б;1;Гусев Глеб;01.02.2015;5А;" in text
    sheet = load_workbook(io.BytesIO(lists.to_xlsx(data))).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    gusev = next(r for r in rows if r[1] == "Гусев Глеб")
    assert gusev[2] == date(2015, 2, 1) or gusev[2].date() == date(2015, 2, 1)
    assert sheet.cell(next(i for i, r in enumerate(rows, 1) if r[1] == "Гусев Глеб"), 3).number_format == "DD.MM.YYYY"
    assert sheet.print_title_rows and sheet.page_setup.orientation == "landscape"
    assert any(r[0] and "Организатор питания ____" in str(r[0]) for r in rows)
    assert lists.to_pdf(data).startswith(b"%PDF")
