"""Values in imports: numbers from JSON and XLSX meet the rules CSV text meets, dates are plausible,
class names are one spelling, and a payment number used before for another payment is an error."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from server import rows as r
from server.importer import ImportFailed, import_file, import_rows
from server.models import MealSlot, MenuPrice, Order, SchoolClass, Student, TopUp
from tests.server.kit import make_admin, school_today, seed_school


def token(client: FlaskClient, engine: Engine) -> dict[str, str]:
    make_admin(engine)
    login = client.post("/api/auth/login", json={"login": "admin", "password": "secret-pass"})
    return {"Authorization": f"Bearer {login.json['token']}"}  # type: ignore[index]


def failures(engine: Engine, kind: str, rows: list[dict[str, object]], today: date | None = None) -> list[str]:
    with engine.begin() as conn, pytest.raises(ImportFailed) as failed:
        import_rows(conn, "sch1", kind, rows, today=today)
    return failed.value.errors


def xlsx(*rows: list[object]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_nan_infinity_and_huge_json_numbers_are_refused_not_500(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    auth = {**token(client, engine), "Content-Type": "application/json"}
    paid = school_today().isoformat()

    def rows(*amounts: tuple[str, str]) -> str:
        return '{"rows": [' + ", ".join(
            f'{{"student_id": "s5", "amount": {amount}, "paid_at": "{paid}", "reference": "{ref}"}}'
            for amount, ref in amounts) + "]}"

    for constant in ("NaN", "Infinity", "-Infinity"):  # not JSON, though Python's parser would take them
        response = client.post("/api/schools/sch1/import/topups", headers=auth, data=rows((constant, "a")))
        assert response.status_code == 400 and "не JSON" in response.json["message"]  # type: ignore[index]
    response = client.post("/api/schools/sch1/import/topups", headers=auth, data=rows(("1e20", "c"), ("[1]", "d")))
    assert response.status_code == 422
    assert response.json["errors"] == [  # type: ignore[index]
        "строка 1, «Сумма»: сумма больше 100\u202f000,00 ₽",
        "строка 2, «Сумма»: ожидается текст, число или дата"]
    prices = client.post("/api/schools/sch1/import/prices", headers=auth,
                         json={"rows": [{"day": paid, "meal": "lunch", "price": -5},
                                        {"day": paid, "meal": "breakfast", "price": 1e20}]})
    assert prices.status_code == 422
    assert prices.json["errors"] == ["строка 1, «Цена»: сумма не может быть отрицательной",  # type: ignore[index]
                                     "строка 2, «Цена»: сумма больше 3\u202f000,00 ₽"]
    with engine.connect() as conn:
        assert conn.execute(select(Student.balance_kopecks).where(Student.id == "s5")).scalar() == 0


def test_xlsx_numbers_meet_the_csv_rules(engine: Engine) -> None:
    seed_school(engine)
    day = school_today()
    data = xlsx(["Дата", "Приём пищи", "Цена"], [day, "обед", -48.58], [day, "завтрак", 48.585],
                [day, "полдник", 1e20], [day + timedelta(days=1), "обед", 48.58])
    with engine.begin() as conn, pytest.raises(ImportFailed) as failed:
        import_file(conn, "sch1", "prices", data, "цены.xlsx")
    assert failed.value.errors == ["строка 2, «Цена»: сумма не может быть отрицательной",
                                   "строка 3, «Цена»: в сумме 48.585 больше двух знаков после запятой",
                                   "строка 4, «Цена»: сумма больше 3\u202f000,00 ₽"]
    with engine.begin() as conn:
        import_file(conn, "sch1", "prices", xlsx(["Дата", "Приём пищи", "Цена"], [day, "обед", 48.58]), "ц.xlsx")
    with engine.connect() as conn:
        assert conn.execute(select(MenuPrice.price_kopecks).where(MenuPrice.day == day,
                                                                  MenuPrice.meal == "lunch")).scalar() == 4858


def test_a_top_up_is_capped_at_100_000_roubles(engine: Engine) -> None:
    seed_school(engine)
    paid = school_today().isoformat()
    assert failures(engine, "topups", [{"student_id": "s5", "amount": "100 000,01", "paid_at": paid,
                                        "reference": "big"}]) == ["строка 1, «Сумма»: сумма больше 100\u202f000,00 ₽"]
    with engine.begin() as conn:
        import_rows(conn, "sch1", "topups", [{"student_id": "s5", "amount": "100 000,00", "paid_at": paid,
                                              "reference": "max"}])


def test_money_from_russian_excel_with_no_break_spaces_is_accepted(engine: Engine) -> None:
    seed_school(engine)
    paid = school_today().strftime("%d.%m.%Y")
    data = (f"Код ученика;Сумма;Дата платежа;Номер платежа\r\n"
            f"s5;1\u00a0000,50;{paid};p-1\r\ns5;2\u202f000,50 ₽;{paid};p-2\r\n").encode("utf-8-sig")
    with engine.begin() as conn:
        assert import_file(conn, "sch1", "topups", data, "платежи.csv").rows == 2
    with engine.connect() as conn:
        assert conn.execute(select(Student.balance_kopecks).where(Student.id == "s5")).scalar() == 300_100


def test_control_characters_in_a_cell_are_a_row_error(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    data = "Код ученика;ФИО;Класс\nn1;Белова\x00Вера;2б\nn2;Гусев Лев;2б\n".encode()
    with engine.begin() as conn, pytest.raises(ImportFailed) as failed:
        import_file(conn, "sch1", "students", data, "ученики.csv")
    assert failed.value.errors == ["строка 2, «ФИО»: в ячейке невидимый управляющий символ (код U+0000): удалите его"]
    response = client.post("/api/schools/sch1/import/students", headers={
        **token(client, engine), "Content-Type": "application/json"},
        data='{"rows": [{"student_id": "n3", "full_name": "\\ud800", "class": "2б"}]}')
    assert response.status_code == 422
    assert "управляющий символ (код U+D800)" in response.json["errors"][0]  # type: ignore[index]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Student)).scalar() == 6


def test_a_header_given_twice_is_an_error_naming_it(engine: Engine) -> None:
    seed_school(engine)
    data = "Код ученика;ФИО;Класс;name\nn1;Белова Вера;2б;Вера\n".encode()
    with engine.begin() as conn, pytest.raises(ImportFailed) as failed:
        import_file(conn, "sch1", "students", data, "ученики.csv")
    assert failed.value.errors == ["столбец «ФИО» указан дважды: «ФИО» и «name» (столбцы 2 и 4)"]


def test_birth_dates_in_the_future_or_before_1990_are_refused(engine: Engine) -> None:
    seed_school(engine)
    tomorrow = school_today() + timedelta(days=1)
    errors = failures(engine, "students", [
        {"student_id": "n1", "full_name": "Белова Вера", "class": "2б", "birth_date": tomorrow.isoformat()},
        {"student_id": "n2", "full_name": "Гусев Лев", "class": "2б", "birth_date": "31.12.1989"},
        {"student_id": "n3", "full_name": "Зуева Ада", "class": "2б", "birth_date": "01.01.1990"}])
    assert errors == [f"строка 1, «Дата рождения»: дата рождения {tomorrow:%d.%m.%Y} в будущем",
                      "строка 2, «Дата рождения»: дата рождения 31.12.1989 раньше 01.01.1990: проверьте год"]


def test_order_days_lie_in_the_current_or_next_school_year(engine: Engine) -> None:
    seed_school(engine)
    today = date(2026, 9, 1)  # a past day is refused on its own (server.office.orders)
    rows: list[dict[str, object]] = [{"student_id": "s1", "day": d, "meals": "завтрак"}
                                     for d in ("2026-08-31", "2026-09-01", "2028-08-31", "2028-09-01")]
    assert failures(engine, "orders", rows, today) == [
        "строка 1, «Дата»: дата 31.08.2026 вне текущего и следующего учебного года (01.09.2026–31.08.2028)",
        "строка 4, «Дата»: дата 01.09.2028 вне текущего и следующего учебного года (01.09.2026–31.08.2028)"]
    with engine.begin() as conn:
        import_rows(conn, "sch1", "orders", [rows[1], rows[2]], today=today)
    with engine.connect() as conn:
        days = set(conn.execute(select(Order.day).where(Order.student_id == "s1")).scalars())
        assert {date(2026, 9, 1), date(2028, 8, 31)} <= days


def test_payments_older_than_a_year_or_in_the_future_are_refused(engine: Engine) -> None:
    seed_school(engine)
    today = school_today()
    old, future = today - timedelta(days=366), today + timedelta(days=1)
    assert failures(engine, "topups", [
        {"student_id": "s5", "amount": 10, "paid_at": old.isoformat(), "reference": "o"},
        {"student_id": "s5", "amount": 10, "paid_at": f"{future} 09:00", "reference": "f"},
        {"student_id": "s5", "amount": 10, "paid_at": (today - timedelta(days=365)).isoformat(), "reference": "ok"},
    ]) == [f"строка 1, «Дата платежа»: дата {old:%d.%m.%Y} старше года (раньше "
           f"{today - timedelta(days=365):%d.%m.%Y}): проверьте год",
           f"строка 2, «Дата платежа»: дата {future:%d.%m.%Y} в будущем"]


def test_spellings_of_one_class_are_merged_and_reported(engine: Engine) -> None:
    seed_school(engine)
    spellings = ["5-А", "5 «А»", "5 A", "5а"]  # the third has a Latin A
    with engine.begin() as conn:
        result = import_rows(conn, "sch1", "students", [
            {"student_id": f"n{i}", "full_name": "Ученик", "class": c} for i, c in enumerate(spellings)])
        assert result.notes == ("классы объединены: «5 A», «5 «А»», «5-А», «5а» → «5А»",)
        slots = import_rows(conn, "sch1", "meal_slots", [{"class": "5 A", "meal": "lunch", "shift": 1,
                                                          "break_no": 1}])
        assert slots.notes == ()
    with engine.connect() as conn:
        assert {s.class_id for s in conn.execute(select(Student.class_id).where(Student.id.like("n%")))} == {"5а"}
        assert conn.execute(select(SchoolClass.name).where(SchoolClass.id == "5а")).scalar() == "5А"
        assert conn.execute(select(MealSlot.class_id).where(MealSlot.meal == "lunch")).scalar() == "5а"


def test_names_are_stored_in_nfc(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:  # й typed as и + a combining breve, as some systems export it
        import_rows(conn, "sch1", "students", [{"student_id": "n1", "full_name": "Зуи\u0306ко Ёжи\u0306",
                                                "class": "2б"}])
    with engine.connect() as conn:
        name = conn.execute(select(Student.full_name).where(Student.id == "n1")).scalar()
    assert name == "Зу\u0439ко Ёж\u0439"


def test_a_payment_number_used_before_for_another_payment_is_a_conflict(engine: Engine) -> None:
    seed_school(engine)  # pay-1: s4, 500,00 ₽, thirty days ago
    paid = (school_today() - timedelta(days=30)).isoformat()
    with engine.begin() as conn:
        again = import_rows(conn, "sch1", "topups", [{"student_id": "s4", "amount": "500", "paid_at": paid,
                                                      "reference": "pay-1"}])
    assert (again.rows, again.skipped) == (0, 1)  # the same payment: a harmless re-import
    errors = failures(engine, "topups", [
        {"student_id": "s5", "amount": "500", "paid_at": paid, "reference": "pay-1"},
        {"student_id": "s4", "amount": "20", "paid_at": school_today().isoformat(), "reference": "pay-2"}])
    assert len(errors) == 1 and errors[0].startswith("строка 1, «Номер платежа»: платёж № pay-1 уже загружен ")
    assert f"ученик s4, 500,00 ₽, дата {school_today() - timedelta(days=30):%d.%m.%Y} 00:00" in errors[0]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TopUp)).scalar() == 1
        assert conn.execute(select(Student.balance_kopecks).where(Student.id == "s5")).scalar() == 0


def test_class_name_spellings() -> None:
    assert {r.class_name(s) for s in ("5-А", "5 «А»", "5 A", "5а", "5\u2013а", " 5 \"a\" ")} == {"5А"}
    assert r.class_name("10-1") == "10-1"
    assert r.class_name("11 к") == "11К"
    # A class named by a word is tidied, not upper-cased and glued: «6 инклюзия» stays readable.
    assert {r.class_name(s) for s in ("6 инклюзия", " 6  инклюзия ", "6 «инклюзия»")} == {"6 инклюзия"}
    assert r.class_name("ГПД 1") == "ГПД 1"


def test_rows_that_would_collide_in_the_database_are_row_errors(engine: Engine) -> None:
    seed_school(engine)
    order = "п" * 60  # the stored benefit id is cut to 64 characters: these two would be one row
    assert failures(engine, "benefits", [
        {"student_id": "s1", "category": "low_income", "order_no": order + "1", "order_date": "2026-09-01"},
        {"student_id": "s1", "category": "low_income", "order_no": order + "2", "order_date": "2026-09-01"},
    ]) == ["строка 2: повтор строки 1"]
    assert failures(engine, "students", [{"student_id": "n1", "full_name": "Белова Вера", "class": "5" + "İ" * 40}]
                    ) == ["строка 1, «Класс»: название класса длиннее 64 символов"]
