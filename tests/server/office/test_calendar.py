"""The office calendar's rules (`server.office.calendar`): settings, holidays, class days off, the months
shown, the file of non-school days; every change takes a rev and leaves an audit entry, every removal a
tombstone. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from server.calendar import load_calendar
from server.models import AuditEntry, ClassDayOff, Holiday, School, Tombstone
from server.office import calendar as cal
from server.office import today as today_service
from server.office.changes import OfficeError
from tests.server.kit import seed_school

Y1, Y2 = date(2026, 9, 1), date(2027, 5, 31)


@pytest.fixture
def school(engine: Engine) -> Engine:
    seed_school(engine)
    with engine.begin() as conn:
        cal.set_settings(conn, "pitanie", "sch1", year_starts=Y1, year_ends=Y2, days_per_week=5)
    return engine


def _revs(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(select(School.rev, School.settings_rev).where(School.id == "sch1")).one()
    return row.rev, row.settings_rev


def test_settings_move_the_settings_rev_and_are_audited(school: Engine) -> None:
    rev, _ = _revs(school)
    with school.begin() as conn:
        s = cal.set_settings(conn, "pitanie", "sch1", days_per_week=6, order_deadline=" 9:30")
    assert s.week_days == frozenset({1, 2, 3, 4, 5, 6}) and s.order_deadline == "09:30" and s.days_per_week == 6
    assert _revs(school) == (rev + 1, rev + 1)  # the next pull carries the settings
    with school.connect() as conn:
        entry = conn.execute(select(AuditEntry.actor, AuditEntry.after).where(AuditEntry.entity == "calendar")
                             .order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.actor == "pitanie"
    assert json.loads(entry.after or "{}") == {"week_days": "1,2,3,4,5,6", "order_deadline": "09:30"}
    with school.begin() as conn:  # the same values again: nothing changes, no rev
        cal.set_settings(conn, "pitanie", "sch1", days_per_week=6)
    assert _revs(school) == (rev + 1, rev + 1)


@pytest.mark.parametrize("values, message", [
    ({"year_starts": Y2, "year_ends": Y1}, "должен быть позже"),
    ({"year_starts": Y1, "year_ends": Y1}, "должен быть позже"),
    ({"year_starts": Y1, "year_ends": date(2028, 5, 31)}, "длиннее 366"),
    ({"year_starts": Y1}, "и первый, и последний"),
    ({"days_per_week": 7}, "5 или 6"),
    ({"order_deadline": "10 утра"}, "ЧЧ:ММ"),
    ({"order_deadline": "25:00"}, "ЧЧ:ММ"),
    ({}, "нечего менять"),
])
def test_bad_settings_are_refused_in_russian(school: Engine, values: dict[str, object], message: str) -> None:
    before = _revs(school)
    with pytest.raises(OfficeError, match=message), school.begin() as conn:
        cal.set_settings(conn, "pitanie", "sch1", **values)  # type: ignore[arg-type]
    assert _revs(school) == before


def test_a_vacation_is_one_row_a_day_and_a_removal_leaves_tombstones(school: Engine) -> None:
    with school.begin() as conn:
        assert cal.add_holidays(conn, "pitanie", "sch1", date(2026, 12, 31), date(2027, 1, 11),
                                " Зимние   каникулы ") == 12
    with school.connect() as conn:
        rows = conn.execute(select(Holiday.day, Holiday.reason, Holiday.rev).where(Holiday.school_id == "sch1")).all()
        calendar = load_calendar(conn, "sch1")
    assert len(rows) == 12 and {r.reason for r in rows} == {"Зимние каникулы"} and len({r.rev for r in rows}) == 1
    assert not calendar.is_school_day(date(2027, 1, 11)) and calendar.is_school_day(date(2027, 1, 12))
    rev, _ = _revs(school)
    with school.begin() as conn:
        assert cal.remove_holidays(conn, "pitanie", "sch1", date(2027, 1, 4), date(2027, 1, 20)) == 8
    with school.connect() as conn:
        left = conn.execute(select(func.count()).select_from(Holiday)).scalar()
        stones = conn.execute(select(Tombstone.table, Tombstone.key, Tombstone.rev)).all()
        ranges = cal.holiday_ranges(conn, "sch1")
    assert left == 4 and len(stones) == 8 and {s.rev for s in stones} == {rev + 1}
    assert ("holidays", '["2027-01-04"]') in {(s.table, s.key) for s in stones}
    assert [(r.period, r.kind) for r in ranges] == [("31.12.2026–03.01.2027", cal.VACATION)]
    with pytest.raises(OfficeError, match="нет праздников"), school.begin() as conn:
        cal.remove_holidays(conn, "pitanie", "sch1", date(2027, 2, 1), date(2027, 2, 2))


@pytest.mark.parametrize("start, end, reason, message", [
    (date(2026, 12, 5), date(2026, 12, 1), "Карантин", "раньше начала"),
    (date(2026, 9, 1), date(2027, 9, 2), "Карантин", "длиннее 366"),
    (date(2027, 5, 30), date(2027, 6, 2), "Карантин", "выходит за учебный год"),
    (date(2026, 8, 31), date(2026, 8, 31), "Карантин", "выходит за учебный год"),
    (date(2026, 12, 1), date(2026, 12, 1), "К" * 201, "длиннее 200"),
    (date(2026, 12, 1), date(2026, 12, 1), "Карантин\x00", "управляющий"),
    (date(2026, 12, 1), date(2026, 12, 1), "   ", "укажите причину"),
])
def test_bad_holidays_are_refused_and_nothing_is_written(school: Engine, start: date, end: date, reason: str,
                                                         message: str) -> None:
    before = _revs(school)
    with pytest.raises(OfficeError, match=message), school.begin() as conn:
        cal.add_holidays(conn, "pitanie", "sch1", start, end, reason)
    with school.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Holiday)).scalar() == 0
    assert _revs(school) == before


def test_a_class_day_off_covers_school_days_only_and_says_who_added_it(school: Engine) -> None:
    with school.begin() as conn:  # Friday to Monday: the weekend is no school day anyway
        assert cal.add_days_off(conn, "uchitel", "sch1", "1 А", date(2026, 12, 11), date(2026, 12, 14),
                                "Экскурсия") == 2
    with school.connect() as conn:
        days = conn.execute(select(ClassDayOff.class_id, ClassDayOff.day)).tuples().all()
        calendar = load_calendar(conn, "sch1")
        shown, monday = cal.day_off_ranges(conn, "sch1")  # consecutive days make one range
    assert sorted(days) == [("1а", date(2026, 12, 11)), ("1а", date(2026, 12, 14))]
    assert calendar.why_not(date(2026, 12, 11), "1а") == "11.12.2026 — у класса нет занятий: Экскурсия"
    assert calendar.is_school_day(date(2026, 12, 11), "5а")
    assert (shown.class_name, shown.added_by, shown.reason, shown.period) == (
        "1А", "uchitel", "Экскурсия", "11.12.2026")
    assert monday.period == "14.12.2026"
    with school.begin() as conn:
        assert cal.remove_days_off(conn, "pitanie", "sch1", "1а", date(2026, 12, 14), date(2026, 12, 14)) == 1
    with school.connect() as conn:
        stones = conn.execute(select(Tombstone.table, Tombstone.key)).tuples().all()
        assert [(r.period, r.added_by) for r in cal.day_off_ranges(conn, "sch1")] == [("11.12.2026", "uchitel")]
    assert [(t, json.loads(k)) for t, k in stones] == [("class_days_off", ["1а", "2026-12-14"])]


@pytest.mark.parametrize("class_id, start, end, message", [
    ("9я", date(2026, 12, 11), date(2026, 12, 11), "класса «9я» нет в школе"),
    ("", date(2026, 12, 11), date(2026, 12, 11), "укажите класс"),
    ("1а", date(2026, 12, 12), date(2026, 12, 13), "нет учебных дней"),
    ("1а", date(2026, 12, 14), date(2026, 12, 11), "раньше начала"),
    ("1а", date(2027, 6, 1), date(2027, 6, 1), "выходит за учебный год"),
])
def test_bad_class_days_off_are_refused(school: Engine, class_id: str, start: date, end: date, message: str) -> None:
    with pytest.raises(OfficeError, match=message), school.begin() as conn:
        cal.add_days_off(conn, "pitanie", "sch1", class_id, start, end, "Экскурсия")


def test_the_months_mark_each_day_by_the_calendar(school: Engine) -> None:
    with school.begin() as conn:
        cal.add_holidays(conn, "pitanie", "sch1", date(2026, 11, 4), date(2026, 11, 4), "День народного единства")
        cal.add_holidays(conn, "pitanie", "sch1", date(2026, 11, 5), date(2026, 11, 6), "Карантин по гриппу")
        cal.add_days_off(conn, "pitanie", "sch1", "5а", date(2026, 11, 10), date(2026, 11, 10), "Экскурсия")
        shown = cal.view(conn, "sch1", date(2026, 8, 1), date(2026, 11, 30), today=date(2026, 11, 3))
    assert [m.title for m in shown.months] == ["Август 2026", "Сентябрь 2026", "Октябрь 2026", "Ноябрь 2026"]
    assert shown.columns == ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
    by_day = {d.day: d for m in shown.months for w in m.weeks for d in w if d}
    assert by_day[date(2026, 8, 31)].state == cal.OUTSIDE
    assert by_day[date(2026, 9, 1)].state == cal.SCHOOL_DAY
    assert by_day[date(2026, 9, 5)].state == cal.WEEKEND
    assert by_day[date(2026, 11, 4)].state == cal.HOLIDAY
    assert by_day[date(2026, 11, 5)].state == cal.QUARANTINE
    assert by_day[date(2026, 11, 3)].today and by_day[date(2026, 11, 10)].days_off == (("5а", "Экскурсия"),)
    november = shown.months[-1]
    assert november.weeks[0] == (None, None, None, None, None, None, by_day[date(2026, 11, 1)])  # a Sunday
    with school.begin() as conn:
        cal.set_settings(conn, "pitanie", "sch1", days_per_week=6)
        six = cal.view(conn, "sch1", date(2026, 11, 1), date(2026, 11, 30))
    assert six.columns == ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб")
    assert all(len(w) == 6 for w in six.months[0].weeks)
    assert [(s.number, s.classes, [b.meals for b in s.breaks]) for s in six.shifts] == [
        (1, ("1А", "5А"), [(("завтрак", ("1А", "5А")),)])]


def test_the_month_chart_counts_school_days_of_the_calendar(school: Engine) -> None:
    with school.begin() as conn:
        cal.add_holidays(conn, "pitanie", "sch1", date(2026, 9, 7), date(2026, 9, 8), "Карантин")
        days = [d.day for d in today_service.month(conn, "sch1", date(2026, 9, 10))]
        summer = [d.day for d in today_service.month(conn, "sch1", date(2026, 8, 31))]
    assert days == [date(2026, 9, d) for d in (1, 2, 3, 4, 9, 10)]
    assert summer == []  # outside the school year: no school days


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def test_a_file_of_non_school_days_is_previewed_then_imported(school: Engine) -> None:
    data = _csv("с;по;причина;класс\n04.11.2026;;День народного единства;\n31.12.2026;11.01.2027;Зимние каникулы;\n"
                "10.12.2026;10.12.2026;Экскурсия;5 а\n")
    with school.connect() as conn:
        seen = cal.preview_file(conn, "sch1", data, "дни.csv")
    assert seen.errors == [] and [(r.period, r.class_name) for r in seen.rows] == [
        ("04.11.2026", ""), ("31.12.2026–11.01.2027", ""), ("10.12.2026", "5А")]
    with school.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Holiday)).scalar() == 0  # a preview writes nothing
    with school.begin() as conn:
        cal.import_file(conn, "pitanie", "sch1", data, "дни.csv")
    with school.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Holiday)).scalar() == 13
        assert conn.execute(select(ClassDayOff.class_id)).scalars().all() == ["5а"]


def test_an_xlsx_file_with_dates_as_dates_is_read(school: Engine) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["С", "По", "Причина"])
    sheet.append([date(2027, 3, 23), date(2027, 3, 31), "Весенние каникулы"])
    out = io.BytesIO()
    book.save(out)
    with school.connect() as conn:
        seen = cal.preview_file(conn, "sch1", out.getvalue(), "каникулы.xlsx")
    assert seen.ok and seen.rows[0].period == "23.03.2027–31.03.2027"


@pytest.mark.parametrize("content, expected", [
    ("с;по;причина\n05.12.2026;01.12.2026;Карантин\n", "строка 2: конец периода (01.12.2026) раньше начала"),
    ("с;по;причина\n2026-13-01;;Карантин\n", "строка 2, «с»: неверная дата «2026-13-01»"),
    ("с;по;причина\n01.07.2027;;Лето\n", "строка 2: период 01.07.2027–01.07.2027 выходит за учебный год"),
    ("с;по;причина;класс\n10.12.2026;;Экскурсия;11Я\n", "строка 2: класса «11Я» нет в школе"),
    ("с;по;причина\n10.12.2026;;\u0007Карантин\n", "строка 2, «причина»: в ячейке невидимый управляющий символ"),
    ("с;по\n10.12.2026;\n", "нет обязательного столбца «причина»"),
    ("дата;название\n10.12.2026;x\n", "нет обязательного столбца «с»"),
])
def test_bad_rows_are_reported_and_nothing_is_imported(school: Engine, content: str, expected: str) -> None:
    with school.connect() as conn:
        seen = cal.preview_file(conn, "sch1", _csv(content), "дни.csv")
    assert not seen.ok and any(e.startswith(expected) for e in seen.errors), seen.errors
    with pytest.raises(OfficeError), school.begin() as conn:
        cal.import_file(conn, "pitanie", "sch1", _csv(content), "дни.csv")
    with school.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Holiday)).scalar() == 0


@pytest.mark.parametrize("data, name, expected", [
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "дни.xls", "старого формата"),
    (b"PK\x03\x04not really a zip", "дни.xlsx", ""),
    (b"\x00\x01\x02\xff\xfe", "дни.pdf", "не поддерживается"),
    (b"", "дни.csv", "файл пуст"),
    (b"\xef\xbb\xbf\n\n", "дни.csv", ""),
])
def test_hostile_or_broken_files_are_refused_with_a_message(school: Engine, data: bytes, name: str,
                                                            expected: str) -> None:
    with school.connect() as conn:
        seen = cal.preview_file(conn, "sch1", data, name)
    assert not seen.ok and seen.errors and all(isinstance(e, str) for e in seen.errors)
    assert expected in " ".join(seen.errors)


def test_a_formula_or_markup_in_a_reason_is_kept_as_plain_text(school: Engine) -> None:
    data = _csv("с;по;причина\n10.12.2026;;=HYPERLINK(\"http://x\");\n11.12.2026;;<script>alert(1)</script>\n")
    with school.begin() as conn:
        cal.import_file(conn, "pitanie", "sch1", data, "дни.csv")
        reasons = set(conn.execute(select(Holiday.reason)).scalars())
    assert reasons == {'=HYPERLINK("http://x")', "<script>alert(1)</script>"}


def test_a_benefit_ordered_without_an_end_lasts_to_the_school_years_last_day(school: Engine) -> None:
    from server.models import Entitlement
    from server.office import benefits

    with school.begin() as conn:
        cal.set_settings(conn, "pitanie", "sch1", year_starts=date(2026, 9, 1), year_ends=date(2027, 5, 28))
        app_id = benefits.register(conn, "коорд", "sch1", student_id="s5", category="low_income",
                                   registered_on=date(2026, 10, 1), applicant="Козлова", received=[1, 2, 3, 4, 5])
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=True, decided_on=date(2026, 10, 5))
        entitlement_id = benefits.record_order(conn, "директор", "sch1", app_id, order_no="1",
                                               order_date=date(2026, 10, 7))
        ends = conn.execute(select(Entitlement.ends).where(Entitlement.id == entitlement_id)).scalar_one()
    assert ends == date(2027, 5, 28)
