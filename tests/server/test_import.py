"""Imports from the files schools have: CSV (cp1251, semicolons), XLSX; all or nothing, errors by row."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from server.importer import ImportFailed, import_file
from server.models import Entitlement, SchoolClass, Student
from tests.server.kit import make_admin, school_today, seed_school


def test_csv_from_russian_excel_is_read_with_russian_headers(engine: Engine) -> None:
    seed_school(engine)
    data = ("Код ученика;ФИО;Класс;Смена;Дата рождения\n"
            "n1;Белова Вера;2 Б;2;01.02.2017\n"
            "n2;Гусев Лев;2б;2;\n").encode("cp1251")
    with engine.begin() as conn:
        result = import_file(conn, "sch1", "students", data, "ученики.csv")
    assert result.rows == 2
    with engine.connect() as conn:
        cls = conn.execute(select(SchoolClass).where(SchoolClass.id == "2б")).one()
        assert (cls.name, cls.grade, cls.shift) == ("2Б", 2, 2)
        assert conn.execute(select(Student.class_id).where(Student.id == "n2")).scalar() == "2б"


def test_file_with_errors_imports_nothing_and_names_every_bad_row(engine: Engine) -> None:
    seed_school(engine)
    data = ("Код ученика,Категория,Номер приказа,Дата приказа,Действует по\n"
            "s1,low_income,5,01.09.2025,\n"
            "ghost,low_income,5,01.09.2025,\n"
            "s2,astronauts,5,01.09.2025,\n"
            "s4,large_family,5,31.02.2025,\n"
            "s5,large_family,6,01.09.2025,01.01.2025\n").encode()
    with engine.begin() as conn, pytest.raises(ImportFailed) as failed:
        import_file(conn, "sch1", "benefits", data, "льготы.csv")
    errors = failed.value.errors
    assert [e.split(",")[0] for e in errors] == ["строка 3", "строка 4", "строка 5", "строка 6"]
    assert "ghost" in errors[0] and "astronauts" in errors[1] and "31.02.2025" in errors[2]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Entitlement)).scalar() == 1  # the seed's one


def test_xlsx_topups_are_credited_once_even_if_imported_twice(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    make_admin(engine)
    token = client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"}).json["token"]
    book = Workbook()
    sheet = book.active
    sheet.append(["Код ученика", "Сумма", "Дата платежа", "Номер платежа"])
    sheet.append(["s5", 250.5, f"{school_today() - timedelta(days=3)} 10:00", "bank-77"])
    buffer = io.BytesIO()
    book.save(buffer)
    for _ in range(2):
        response = client.post("/api/schools/sch1/import/topups", headers={"Authorization": f"Bearer {token}"},
                               data={"file": (io.BytesIO(buffer.getvalue()), "платежи.xlsx")})
        assert response.status_code == 200
    assert response.json == {"kind": "topups", "rows": 0, "skipped": 1, "notes": []}
    with engine.connect() as conn:
        assert conn.execute(select(Student.balance_kopecks).where(Student.id == "s5")).scalar() == 25050


def test_json_import_errors_come_back_as_422_with_rows(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    make_admin(engine)
    token = client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"}).json["token"]
    response = client.post("/api/schools/sch1/import/orders", headers={"Authorization": f"Bearer {token}"},
                           json={"rows": [{"student_id": "s1", "day": school_today().isoformat(), "meals": "ужин"}]})
    assert response.status_code == 422
    assert response.json["errors"] == ["строка 1, «Питание»: неизвестный приём пищи «ужин»; допустимо: завтрак, "
                                       "обед, полдник, молоко"]
