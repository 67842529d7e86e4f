"""A student list imported with a preview: a school's real export (a title row, ФИО in three columns, no
code, CSV/XLSX/XLS) is read, the difference is shown, nothing is written before the confirm; a full list
never deactivates students with money unless that is confirmed (the CLI and API too)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select, update

from pos.money import format_rub
from pos.policy import parse_policy
from server.importer import ImportFailed, import_rows
from server.models import Entitlement, School, Student
from server.office import imports
from tests.server.kit import seed_school

FILES = Path(__file__).parent / "files"
TABLE = [["Список учащихся МБОУ СОШ № 1 на 01.09"], [],
         ["Фамилия", "Имя", "Отчество", "Класс", "Дата рождения", "Особенности питания"],
         ["Иванов", "Иван", "", "1а", "01.03.2018", ""],  # s1, as stored
         ["Орлова", "Мария", "", "5а", "11.02.2014", "без молока"],  # s4: a new diet note
         ["Новикова", "Алёна", "Сергеевна", "5 А", "07.06.2014", ""]]  # new


def _csv(table: list[list[str]]) -> bytes:
    return "\r\n".join(";".join(row) for row in table).encode("cp1251")


def _xlsx(table: list[list[str]]) -> bytes:
    book = Workbook()
    for row in table:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _students(engine: Engine) -> dict[str, Student]:
    with engine.connect() as conn:
        return {s.full_name: s for s in conn.execute(select(Student).where(Student.school_id == "sch1"))}


def _money_on(engine: Engine) -> None:
    """s2 and s5 (who are not in TABLE) hold 850,50 ₽ and 500,00 ₽."""
    with engine.begin() as conn:
        conn.execute(update(Student).where(Student.id == "s2").values(balance_kopecks=85050))
        conn.execute(update(Student).where(Student.id == "s5").values(balance_kopecks=50000))


@pytest.mark.parametrize(("name", "make"), [("ученики.csv", _csv), ("ученики.xlsx", _xlsx)])
def test_a_title_row_three_name_columns_and_no_code_import_after_the_preview(engine: Engine, name: str,
                                                                              make: object) -> None:
    seed_school(engine)
    data = make(TABLE)  # type: ignore[operator]
    with engine.connect() as conn:
        seen = imports.preview(conn, "sch1", data, name)
    assert seen.errors == [] and seen.header_row == 3
    assert seen.mapping == ["last_name", "first_name", "middle_name", "class", "birth_date", "diet_note"]
    assert seen.add == [{"name": "Новикова Алёна Сергеевна", "class": "5А", "birth": "07.06.2014"}]
    assert [(c.student_id, c.fields) for c in seen.change] == [("s4", (("Особенности питания", "—",
                                                                         "без молока"),))]
    assert seen.unchanged == 1 and seen.leave == []
    assert "Новикова Алёна Сергеевна" not in _students(engine)  # the preview wrote nothing
    with engine.begin() as conn:
        _, result = imports.confirm(conn, "admin", "sch1", data, name, mapping=seen.mapping, replace=False,
                                    digest=seen.digest, leaving_with_money=False)
    assert result is not None and result.rows == 3
    after = _students(engine)
    assert after["Новикова Алёна Сергеевна"].class_id == "5а"
    assert after["Орлова Мария"].diet_note == "без молока" and after["Орлова Мария"].id == "s4"
    assert after["Петрова Анна"].active  # not a full list: nobody leaves


def test_an_old_xls_is_read_through_calamine(engine: Engine) -> None:
    seed_school(engine)
    data = (FILES / "ucheniki.xls").read_bytes()  # made with xlwt: a title row, the header in row 3
    with engine.connect() as conn:
        seen = imports.preview(conn, "sch1", data, "ucheniki.xls")
    assert seen.errors == [] and seen.header_row == 3
    assert [a["name"] for a in seen.add] == ["Новикова Алёна Сергеевна"] and seen.unchanged == 1


def test_the_replace_preview_lists_the_leaving_students_with_their_money(engine: Engine) -> None:
    seed_school(engine)
    _money_on(engine)
    data = _csv(TABLE)
    with engine.connect() as conn:
        seen = imports.preview(conn, "sch1", data, "ученики.csv", replace=True)
    assert [(s.full_name, s.balance_kopecks) for s in seen.leave] == [
        ("Волков Олег", 0), ("Петрова Анна", 85050), ("Козлов Егор", 50000), ("Сидоров Пётр", 0)]
    assert seen.money_warning == f"у выбывающих учеников на счетах {format_rub(135050)}"
    with engine.begin() as conn:  # the same preview confirmed without a word about the money: refused
        again, result = imports.confirm(conn, "admin", "sch1", data, "ученики.csv", mapping=seen.mapping, replace=True,
                                        digest=seen.digest, leaving_with_money=False)
    assert result is None and again.errors == [f"{seen.money_warning}: отметьте, что деньги учтены, и подтвердите "
                                               "снова"]
    assert _students(engine)["Петрова Анна"].active
    with engine.begin() as conn:
        _, result = imports.confirm(conn, "admin", "sch1", data, "ученики.csv", mapping=seen.mapping, replace=True,
                                    digest=seen.digest, leaving_with_money=True)
    assert result is not None
    after = _students(engine)
    assert not after["Петрова Анна"].active and after["Петрова Анна"].balance_kopecks == 85050
    assert after["Иванов Иван"].active


def test_a_confirm_of_a_difference_no_longer_true_shows_the_new_one_and_writes_nothing(engine: Engine) -> None:
    seed_school(engine)
    data = _csv(TABLE)
    with engine.connect() as conn:
        seen = imports.preview(conn, "sch1", data, "ученики.csv", replace=True)
    _money_on(engine)  # money arrived after the preview was seen
    with engine.begin() as conn:
        again, result = imports.confirm(conn, "admin", "sch1", data, "ученики.csv", mapping=seen.mapping, replace=True,
                                        digest=seen.digest, leaving_with_money=True)
    assert result is None and again.money_warning and again.digest != seen.digest
    assert _students(engine)["Петрова Анна"].active


def test_a_changed_mapping_changes_the_preview(engine: Engine) -> None:
    seed_school(engine)
    with engine.connect() as conn:
        seen = imports.preview(conn, "sch1", _csv(TABLE), "ученики.csv",
                               mapping=["last_name", "first_name", "", "class", "birth_date", ""])
    assert [a["name"] for a in seen.add] == ["Новикова Алёна"] and seen.change == []
    with engine.connect() as conn:
        bad = imports.preview(conn, "sch1", _csv(TABLE), "ученики.csv",
                              mapping=["full_name", "first_name", "", "class", "class", "nonsense"])
    assert bad.errors == ["поле «Класс» выбрано для нескольких столбцов",
                          "выберите либо один столбец «ФИО», либо «Фамилия», «Имя», «Отчество»"]
    assert bad.mapping[5] == "" and not bad.ok  # an unknown field is «не загружать»


def test_rows_that_match_two_students_are_row_errors(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        import_rows(conn, "sch1", "students", [{"student_id": "twin", "full_name": "Иванов Иван", "class": "1а",
                                                 "birth_date": "2018-03-01"}])
        seen = imports.preview(conn, "sch1", _csv(TABLE), "ученики.csv")
    assert seen.errors == ["строка 4, «ФИО»: в школе несколько учеников «Иванов Иван» с той же датой рождения в "
                           "этом классе: укажите код ученика"] and not seen.ok


def test_bad_cells_are_reported_by_the_row_the_user_sees(engine: Engine) -> None:
    seed_school(engine)
    table = [*TABLE[:3], ["Иванов", "Иван", "", "1а", "31.02.2018", ""], ["", "", "", "5а", "", ""]]
    with engine.connect() as conn:
        seen = imports.preview(conn, "sch1", _csv(table), "ученики.csv")
    assert seen.errors[0].startswith("строка 4, «Дата рождения»: неверная дата «31.02.2018»")
    assert seen.errors[1] == "строка 5, «ФИО»: не заполнено"


def test_a_file_without_a_header_is_refused_in_russian(engine: Engine) -> None:
    seed_school(engine)
    with engine.connect() as conn, pytest.raises(imports.PreviewError, match="нет заголовков столбцов"):
        imports.preview(conn, "sch1", _csv([["a", "b"], ["1", "2"]]), "x.csv")


def test_an_upload_is_only_for_its_user_in_its_school() -> None:
    token = imports.store(b"data", "ученики.csv", "sch1", "admin")
    assert imports.load(token, "sch1", "admin") == (b"data", "ученики.csv")
    for school, login in (("sch2", "admin"), ("sch1", "coordinator")):
        with pytest.raises(imports.PreviewError, match="не найден или устарел"):
            imports.load(token, school, login)
    with pytest.raises(imports.PreviewError):
        imports.load("../../etc/passwd", "sch1", "admin")
    imports.discard(token)
    with pytest.raises(imports.PreviewError):
        imports.load(token, "sch1", "admin")


def test_the_cli_and_api_replace_keeps_students_with_money_unless_told(engine: Engine) -> None:
    seed_school(engine)
    _money_on(engine)
    rows = [{"student_id": s, "full_name": n, "class": c} for s, n, c in
            (("s1", "Иванов Иван", "1а"), ("s3", "Сидоров Пётр", "5а"), ("s4", "Орлова Мария", "5а"),
             ("s6", "Волков Олег", "1а"))]
    with engine.begin() as conn, pytest.raises(ImportFailed) as refused:
        import_rows(conn, "sch1", "students", rows, replace=True)
    assert refused.value.errors[0].startswith(f"у выбывающих учеников на счетах {format_rub(135050)}: "
                                              f"Петрова Анна ({format_rub(85050)}), Козлов Егор")
    assert _students(engine)["Петрова Анна"].active
    with engine.begin() as conn:
        import_rows(conn, "sch1", "students", rows, replace=True, leaving_with_money=True)
    assert not _students(engine)["Петрова Анна"].active


def test_a_benefit_category_may_be_given_by_its_russian_title(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        policy = conn.execute(select(School.policy_text).where(School.id == "sch1")).scalar_one()
        title = parse_policy(policy).categories["low_income"]
        import_rows(conn, "sch1", "benefits", [{"student_id": "s5", "category": title.upper(), "order_no": "7",
                                                "order_date": "2020-09-01"}])
        stored = conn.execute(select(Entitlement.category).where(Entitlement.student_id == "s5")).scalar_one()
    assert stored == "low_income"
