"""Next month's funding request (seed 004 приложение 4): the form's rows, the days per level and the forecast,
worked out by hand from the policies' price tables (see test_request_kit for the schools)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, delete

from server.models import SchoolPolicy
from server.office.changes import OfficeError
from server.reports import KINDS, request
from tests.server.office.test_request_kit import FEBRUARY, MARCH, kirovsk, nazarovo


def figures(r: request.FundingRequest) -> dict[str, tuple[int, int, int]]:
    """Row -> (heads, student-days, kopecks), rows with anything in them."""
    return {x.number: (x.heads, x.student_days, x.kopecks) for x in r.rows if x.heads}


def test_nazarovo_march_rows_days_and_forecast(engine: Engine) -> None:
    nazarovo(engine)
    with engine.connect() as conn:
        r = request.build(conn, "naz", MARCH)
    # Days: six-day week, 27 Mon–Sat less 08.03 = 26 for 5–11; 1а's Saturdays off: 23 Mon–Fri less 08.03 = 22.
    assert (r.days_primary, r.days_senior) == (22, 26)
    assert figures(r) == {
        # 1.4 ОВЗ: p2 22 × (48,58 + 72,88 = 121,46) = 2 672,12; s5 26 × (84,72 + 42,36 = 127,08) = 3 304,08
        "1.4": (2, 22 + 26, 267212 + 330408),
        # 1.6 многодетные: s2 from 16.03 (приказ of 15.03): 14 school days × 56,49 = 790,86
        "1.6": (1, 14, 79086),
        # 1.7 малообеспеченные: s1 (in 5а on 01.03 by its class history) 26 × 56,49 = 1 468,74
        "1.7": (1, 26, 146874),
        # 1.9* одинокие родители (no row in the form): s3 16 × 48,58 + 10 × 56,49 (11 y. from 20.03) = 1 342,18
        "1.9*": (1, 26, 77728 + 56490),
        # 1 = 1.4 + 1.6 + 1.7 + 1.9*: 5 students, 48 + 14 + 26 + 26 = 114 days, 9 577,98
        "1": (5, 114, 957798),
        # 2 primary by the grade's own right: p1 22 × 48,58 = 1 068,76 (p2's meals are ОВЗ's, row 1.4)
        "2": (1, 22, 106876),
    }
    assert r.row("3").heads == 0  # Nazarovo gives no milk
    assert r.total_kopecks == 957798 + 106876
    assert r.row("1.9*").day_prices == (4858, 5649)
    assert r.row("1.9*").price_text == "48,58 ₽ – 56,49 ₽"
    assert "Одинокие родители (доход не выше 1,25 ПМ), п. 4.3 в" in r.row("1.9*").categories
    assert "Обучающиеся с ОВЗ, п. 4.5" in r.row("1.4").categories
    # The basis: the protocol of the application whose entitlement is in force in March.
    assert r.basis_text == "решение комиссии по питанию: протокол от 02.12.2026 № 7"


def test_kirovsk_primary_meals_and_milk_kept_apart(engine: Engine) -> None:
    kirovsk(engine)
    with engine.connect() as conn:
        r = request.build(conn, "kir", FEBRUARY)
    # 20 weekdays of February 2027 less 23.02 = 19 for every class.
    assert (r.days_primary, r.days_senior) == (19, 19)
    assert figures(r) == {
        "1.4": (1, 19, 19 * 10800),  # k3: 19 × 108,00 = 2 052,00
        "1.8": (1, 19, 19 * 10800),  # k4 трудная жизненная ситуация
        "1": (2, 38, 2 * 19 * 10800),
        "2": (2, 38, 2 * 19 * 10800),  # k1, k2: 2 × 19 × 108,00 = 4 104,00
        "3": (2, 38, 2 * 19 * 1350),  # milk: 2 × 19 × 13,50 = 513,00
    }
    assert r.basis_text.startswith("решение комиссии по питанию протокол от ____")  # no application protocols


def test_a_month_without_a_policy_and_garbage_months_are_refused_in_russian(engine: Engine) -> None:
    kirovsk(engine)
    with engine.begin() as conn:
        conn.execute(delete(SchoolPolicy).where(SchoolPolicy.school_id == "kir"))
    with engine.connect() as conn, pytest.raises(OfficeError, match="нет политики питания на 2026/27"):
        request.build(conn, "kir", FEBRUARY)
    for garbage in ("2027-13", "февраль", "", "2027-02-30x", "1899-01"):
        with pytest.raises(OfficeError, match="месяц"):
            request.parse_month(garbage)
    assert request.parse_month("2027-02") == request.parse_month("02.2027") == FEBRUARY


def test_formats_from_the_same_build(engine: Engine) -> None:
    nazarovo(engine)
    with engine.connect() as conn:
        r = KINDS["request"].build(conn, "naz", MARCH)
    data = json.loads(json.dumps(request.to_json(r)))
    rows = {x["number"]: x for x in data["rows"]}
    assert rows["1.6"]["kopecks"] == 79086 and data["school_days"] == {"primary": 22, "grades_5_11": 26}
    assert data["total_kopecks"] == 1064674 and data["month"] == "2027-03"
    text = request.to_csv(r)
    assert text.startswith("\ufeff№;") and "1.6;" in text and ";790,86" in text and ";10 646,74" in text
    sheet = load_workbook(io.BytesIO(request.to_xlsx(r))).active
    assert sheet is not None
    cells = {sheet.cell(row, 1).value: row for row in range(1, sheet.max_row + 1)}
    assert sheet.cell(cells["1.4"], 3).value == 2 and sheet.cell(cells["1.4"], 6).value == pytest.approx(5976.20)
    assert sheet.cell(cells["1.4"], 6).number_format == request.MONEY_FORMAT
    assert int(sheet.page_setup.paperSize) == 9 and int(sheet.page_setup.fitToWidth) == 1  # A4, fit to width
    assert sheet.print_title_rows and sheet.print_title_rows.startswith("$")
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert any("Руководитель ОУ ____" in t for t in texts)
    assert any("начальные классы 22 дн." in t for t in texts)
    pdf = request.to_pdf(r)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_a_class_is_refused_for_the_school_wide_request(engine: Engine) -> None:
    nazarovo(engine)
    with engine.connect() as conn, pytest.raises(OfficeError, match="на всю школу"):
        request.build(conn, "naz", date(2027, 3, 1), class_id="1а")
