"""Bank payment registers: Sberbank's text register (cp1251, totals line) and a named-column table are read
exactly, applied once through the top-up import, every conflict is shown and kept, never skipped silently."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from server.models import PaymentConflict, PaymentImport, School, Student, TopUp
from server.office import payments
from server.office.changes import OfficeError
from tests.server.kit import seed_school

FILES = Path(__file__).parent / "files"
TODAY = date(2026, 12, 3)  # the sample registers are of late November 2026


def _file(name: str) -> bytes:
    return (FILES / name).read_bytes()


def _balances(engine: Engine, school_id: str = "sch1") -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Student.id, Student.balance_kopecks).where(Student.school_id == school_id))
                    .tuples().all())


def _apply(engine: Engine, data: bytes, name: str, fmt: str = "auto", today: date = TODAY, school_id: str = "sch1"
           ) -> tuple[payments.Preview, payments.Applied]:
    with engine.begin() as conn:
        seen, done = payments.apply(conn, "coord", school_id, data, name, fmt, today=today)
    assert done is not None
    return seen, done


def sber(rows: list[tuple[str, str, str]], day: date, totals: str | None = None) -> bytes:
    """A Sberbank register of (operation, account, amount) paid on `day`, with its right totals line."""
    lines = [f"{day:%d-%m-%Y};10-{i % 60:02d}-00;8646/0123;1;{op};{acc};Плательщик {i};;{amount};{amount};0.00"
             for i, (op, acc, amount) in enumerate(rows)]
    total = sum((payments._decimal(a) for _o, _a, a in rows), Decimal(0))
    lines.append(totals if totals is not None else f"={len(rows)};{total};{total};0.00")
    return "\r\n".join(lines).encode("cp1251")


def test_sber_register_in_cp1251_is_read_with_its_totals() -> None:
    register = payments.parse(_file("sber_reestr.txt"), "7701234567_40703810000000000001_001_1126.txt")
    assert register.fmt == "sber" and register.totals_checked == "итоги сверены: платежей 3"
    assert [(r.op_id, r.account, r.amount, r.paid_at, r.commission) for r in register.rows] == [
        ("5012345678901", "s1", 50000, datetime(2026, 11, 25, 9, 15, 2), 500),
        ("5012345678902", "s4", 100000, datetime(2026, 11, 25, 12, 40, 11), 1000),
        ("5012345678903", "s2", 25050, datetime(2026, 11, 26, 18, 2, 59), 251)]
    assert register.rows[0].payer == "Иванов Пётр Сергеевич" and register.total == 175050
    assert register.commission == 1751
    utf8 = _file("sber_reestr.txt").decode("cp1251").encode("utf-8")  # the bank may send UTF-8 too
    assert [r.amount for r in payments.parse(utf8, "r.txt").rows] == [50000, 100000, 25050]
    koi8 = _file("sber_reestr.txt").decode("cp1251").encode("koi8_r")
    assert [r.payer for r in payments.parse(koi8, "r.txt").rows] == [r.payer for r in register.rows]


def test_table_register_csv_and_xlsx_are_read_by_column_names() -> None:
    register = payments.parse(_file("platezhi_tablica.csv"), "platezhi_tablica.csv")
    assert register.fmt == "csv" and register.totals_checked  # its «Итого» row matched
    assert [(r.reference, r.account, r.amount, r.paid_at, r.payer) for r in register.rows] == [
        ("csv:A-100001", "s5", 120000, datetime(2026, 11, 28, 8, 30), "Козлова Ирина Павловна"),
        ("csv:A-100002", "s6", 35075, datetime(2026, 11, 28, 9, 45), "Волков Сергей")]
    book = Workbook()
    for row in (["Номер платежа", "Л/С", "Сумма платежа", "Дата платежа"],
                ["СБП-77", "s1", 48.58, datetime(2026, 11, 30, 14, 5)], ["СБП-78", 1001, 100, "30.11.2026"]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    rows = payments.parse(out.getvalue(), "sbp.xlsx").rows
    assert [(r.op_id, r.account, r.amount, r.paid_at) for r in rows] == [
        ("СБП-77", "s1", 4858, datetime(2026, 11, 30, 14, 5)), ("СБП-78", "1001", 10000, datetime(2026, 11, 30))]


def test_applying_credits_each_payment_once_by_its_exact_kopecks(engine: Engine) -> None:
    seed_school(engine)
    before = _balances(engine)
    with engine.connect() as conn:
        rev = conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one()
        seen = payments.preview(conn, "sch1", payments.parse(_file("sber_reestr.txt"), "r.txt"), TODAY)
    assert [r.status for r in seen.rows] == ["new"] * 3 and seen.new_kopecks == 175050
    assert _balances(engine) == before  # a preview writes nothing
    _seen, done = _apply(engine, _file("sber_reestr.txt"), "r.txt")
    assert (done.applied, done.applied_kopecks, done.already, done.conflicts) == (3, 175050, 0, 0)
    after = _balances(engine)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {"s1": 50000, "s4": 100000,
                                                                                  "s2": 25050}
    with engine.connect() as conn:
        refs = set(conn.execute(select(TopUp.reference).where(TopUp.school_id == "sch1")).scalars())
        assert {"sber:5012345678901", "sber:5012345678902", "sber:5012345678903"} <= refs
        moved = conn.execute(select(Student.rev).where(Student.school_id == "sch1", Student.id == "s1")).scalar_one()
        assert moved > rev  # terminals pull the new balance
    again, twice = _apply(engine, _file("sber_reestr.txt"), "r.txt")  # re-import is harmless
    assert [r.status for r in again.rows] == ["done"] * 3 and "уже загружен" in again.rows[0].message
    assert (twice.applied, twice.already, twice.conflicts) == (0, 3, 0)
    assert _balances(engine) == after
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PaymentImport)).scalar_one() == 2


def test_every_conflict_is_shown_kept_and_not_applied(engine: Engine) -> None:
    seed_school(engine)
    _apply(engine, _file("sber_reestr.txt"), "r.txt")
    before = _balances(engine)
    seen, done = _apply(engine, _file("sber_conflicts.txt"), "c.txt")
    by_line = {r.line: r for r in seen.rows}
    assert [(n, by_line[n].status, by_line[n].kind) for n in range(1, 11)] == [
        (1, "conflict", "unknown_account"), (2, "conflict", "amount"), (3, "conflict", "amount"),
        (4, "conflict", "amount"), (5, "conflict", "amount"), (6, "conflict", "date"), (7, "new", ""),
        (8, "conflict", "duplicate"), (9, "conflict", "reference_differs"), (10, "new", "")]
    assert "нулю" in by_line[2].message and "отрицательная" in by_line[3].message
    assert "двух знаков" in by_line[4].message and "не число" in by_line[5].message
    assert "строке 7" in by_line[8].message and "s1" in by_line[9].message and "500,00" in by_line[9].message
    assert by_line[10].payer.startswith("'=HYPERLINK")  # never a formula in a spreadsheet
    assert (done.applied, done.applied_kopecks, done.conflicts) == (2, 35000, 8)
    after = _balances(engine)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {"s5": 20000, "s6": 15000}
    with engine.connect() as conn:
        kept = conn.execute(select(PaymentConflict.line, PaymentConflict.kind, PaymentConflict.status)
                            .order_by(PaymentConflict.line)).all()
        _imp, report = payments.import_report(conn, "sch1", done.import_id)
    assert [k.line for k in kept] == [1, 2, 3, 4, 5, 6, 8, 9] and {k.status for k in kept} == {"open"}
    assert [c.line for c in report] == [1, 2, 3, 4, 5, 6, 8, 9]
    # the same register again: nothing credited, no conflict kept twice, each shown as already known
    again, twice = _apply(engine, _file("sber_conflicts.txt"), "c.txt")
    assert (twice.applied, twice.conflicts, twice.known, twice.already) == (0, 0, 8, 2)
    assert {r.status for r in again.rows} == {"known", "done"} and _balances(engine) == after


def test_conflicts_are_resolved_by_hand(engine: Engine) -> None:
    seed_school(engine)
    _apply(engine, _file("sber_reestr.txt"), "r.txt")
    _apply(engine, _file("sber_conflicts.txt"), "c.txt")
    before = _balances(engine)
    with engine.connect() as conn:
        ids = {c.line: c.id for c in payments.open_conflicts(conn, "sch1")}
    with engine.begin() as conn:
        assert payments.assign(conn, "coord", "sch1", ids[1], "s3", today=TODAY) == 30000
        assert payments.assign(conn, "coord", "sch1", str(ids[9]), "s1", today=TODAY) == 70000  # number reused
        payments.dismiss(conn, "coord", "sch1", ids[8], "банк прислал операцию дважды")
    after = _balances(engine)
    assert (after["s3"] - before["s3"], after["s1"] - before["s1"]) == (30000, 70000)
    with engine.connect() as conn:
        refs = set(conn.execute(select(TopUp.reference)).scalars())
        assert {"sber:5012345678904", f"sber:5012345678901/конфликт-{ids[9]}"} <= refs
        assert len(payments.open_conflicts(conn, "sch1")) == 5
    for bad, message in (((ids[1], "s3"), "уже разобран"), ((ids[2], "s3"), "только отклонить"),
                         ((ids[3], "нет-такого"), "только отклонить"), ((999999, "s3"), "нет"),
                         (("x'; drop", "s3"), "нет")):
        with pytest.raises(OfficeError, match=message), engine.begin() as conn:
            payments.assign(conn, "coord", "sch1", bad[0], bad[1], today=TODAY)
    with pytest.raises(OfficeError, match="причину"), engine.begin() as conn:
        payments.dismiss(conn, "coord", "sch1", ids[2], "   ")
    seed_school(engine, "sch2")
    with pytest.raises(OfficeError, match="нет"), engine.begin() as conn:  # another school's conflict
        payments.dismiss(conn, "coord", "sch2", ids[2], "чужой")
    _seen, done = _apply(engine, _file("sber_conflicts.txt"), "c.txt")  # resolved rows stay resolved
    assert (done.applied, done.conflicts) == (0, 0) and _balances(engine) == after


def test_an_open_conflict_whose_student_appears_is_applied_on_the_next_import(engine: Engine) -> None:
    seed_school(engine)
    register = sber([("9001", "s77", "120.00")], TODAY - timedelta(days=1))
    _seen, first = _apply(engine, register, "r.txt")
    assert (first.applied, first.conflicts) == (0, 1)
    from server.importer import import_rows
    with engine.begin() as conn:
        import_rows(conn, "sch1", "students", [{"student_id": "s77", "full_name": "Новый Ученик", "class": "2б"}])
    seen, second = _apply(engine, register, "r.txt")
    assert seen.rows[0].closes is not None and (second.applied, second.applied_kopecks) == (1, 12000)
    with engine.connect() as conn:
        assert payments.open_conflicts(conn, "sch1") == []
    assert _balances(engine)["s77"] == 12000


@pytest.mark.parametrize(("data", "message"), [
    (sber([("1", "s1", "100.00"), ("2", "s2", "50.00")], TODAY, "=2;150.01"), "150,01 ₽ не равна сумме строк 150,00 ₽"),
    (sber([("1", "s1", "100.00"), ("2", "s2", "50.00")], TODAY, "=3;150.00"), "строк платежей 2"),
    (sber([("1", "s1", "100.00")], TODAY, "=1;100.00;99.00"), "сумма к перечислению"),
    (sber([("1", "s1", "100.00")], TODAY, "=один;100.00"), "количество"),
    (sber([("1", "s1", "100.00")], TODAY, "")[:-2], "нет строки итогов"),
    (sber([("1", "s1", "100.00")], TODAY) + b"\r\n01-12-2026;10-00-00;1;1;2;s1;X;;1.00;1.00;0", "после строки итогов"),
    (b"01-12-2026;10-00-00;1;2;3\r\n=1;1", "не реестр Сбербанка"),
    (b"\x00\x01\x02PNG binary" * 100, "двоичный"),
    (b"01-12-2026;10-00-00;1;1;2;s1;X\x1b;;1.00;1.00;0\r\n=1;1.00", "управляющий символ"),
    (b"", "пуст"),
])
def test_a_damaged_or_hostile_register_is_refused_whole(engine: Engine, data: bytes, message: str) -> None:
    seed_school(engine)
    before = _balances(engine)
    with pytest.raises(payments.PaymentsRefused, match=message), engine.begin() as conn:
        payments.apply(conn, "coord", "sch1", data, "r.txt", "sber", today=TODAY)
    assert _balances(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PaymentImport)).scalar_one() == 0


def test_hostile_tables_and_formats_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payments, "MAX_FILE_BYTES", 1000)
    with pytest.raises(payments.PaymentsRefused, match="больше"):
        payments.parse(b"x" * 1001, "r.txt")
    with pytest.raises(payments.PaymentsRefused, match="Лицевой счёт"):
        payments.parse("Сумма;Дата;Номер операции\r\n1;01.12.2026;7".encode(), "r.csv", "csv")
    with pytest.raises(payments.PaymentsRefused, match="неизвестный формат"):
        payments.parse(b"1;2", "r.csv", "swift")
    with pytest.raises(payments.PaymentsRefused, match="не равна"):
        payments.parse("Лицевой счёт;Сумма;Дата;Номер операции\r\ns1;1,00;01.12.2026;7\r\nИтого;2,00;;".encode(),
                       "r.csv")
    with pytest.raises(payments.PaymentsRefused):
        payments.parse(b"PK\x03\x04broken zip", "r.xlsx")


def test_dates_outside_a_year_are_conflicts(engine: Engine) -> None:
    seed_school(engine)
    future = sber([("1", "s1", "10.00")], TODAY + timedelta(days=2))
    old = sber([("2", "s1", "10.00")], TODAY - timedelta(days=400))
    for data, word in ((future, "будущем"), (old, "старше года")):
        seen, done = _apply(engine, data, "r.txt")
        assert seen.rows[0].kind == "date" and word in seen.rows[0].message and done.applied == 0


def test_the_digest_guards_against_a_register_judged_on_other_data(engine: Engine) -> None:
    seed_school(engine)
    data = _file("sber_reestr.txt")
    with engine.connect() as conn:
        digest = payments.preview(conn, "sch1", payments.parse(data, "r.txt"), TODAY).digest
    _apply(engine, data, "r.txt")  # someone else applied it meanwhile
    with engine.begin() as conn:
        seen, done = payments.apply(conn, "coord", "sch1", data, "r.txt", digest=digest, today=TODAY)
    assert done is None and {r.status for r in seen.rows} == {"done"}


ACCOUNTS = ("s1", "s2", "s4", "nobody")
payment = st.tuples(st.sampled_from([f"op{i}" for i in range(8)]), st.sampled_from(ACCOUNTS),
                    st.sampled_from(["0.00", "1.00", "48.58", "100.5", "250.00", "7.777", "-3.00"]))


SCHOOLS = iter(range(1_000_000))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(registers=st.lists(st.lists(payment, min_size=1, max_size=6), min_size=1, max_size=4), repeat=st.booleans())
def test_money_is_never_created_nor_lost(engine: Engine, registers: list[list[tuple[str, str, str]]],
                                         repeat: bool) -> None:
    school = f"p{next(SCHOOLS)}"  # a school of its own per example
    seed_school(engine, school)
    day = TODAY - timedelta(days=1)
    files = [sber(rows, day) for rows in registers]
    for data in files + (files if repeat else []):
        _apply(engine, data, "r.txt", school_id=school)
    with engine.connect() as conn:
        balances = conn.execute(select(func.sum(Student.balance_kopecks)).where(Student.school_id == school)
                                ).scalar_one()
        topups = conn.execute(select(func.sum(TopUp.amount_kopecks)).where(TopUp.school_id == school)).scalar_one()
        applied = conn.execute(select(func.sum(PaymentImport.applied_kopecks)).where(
            PaymentImport.school_id == school)).scalar_one()
    assert balances == topups  # every kopeck on an account came in by a top-up
    assert topups == 50000 + applied  # the seed's 500 ₽ and what the registers applied, once each


def test_cli_previews_then_applies(db_url: str, engine: Engine, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pos.cli import main
    from tests.server.kit import school_today

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, ["server", "payments", "import", *args],
                                  env={"CANTEEN_DATABASE_URL": db_url}, catch_exceptions=False)

    seed_school(engine)
    path = tmp_path / "7701234567_40703810000000000001_001_1226.txt"
    path.write_bytes(sber([("5001", "s2", "300.00"), ("5002", "s9", "20.00")], school_today()))
    before = _balances(engine)
    shown = run("sch1", str(path))
    assert shown.exit_code == 0 and "К зачислению: 1 на 300,00 ₽" in shown.output, shown.output
    assert "строка 2: неизвестный лицевой счёт" in shown.output and _balances(engine) == before
    done = run("sch1", str(path), "--format", "sber", "--apply")
    assert done.exit_code == 0 and "Зачислено: 1 на 300,00 ₽" in done.output, done.output
    assert _balances(engine)["s2"] == before["s2"] + 30000
    again = run("sch1", str(path), "--apply")
    assert "Зачислено: 0" in again.output and "уже загружены: 1" in again.output
    assert _balances(engine)["s2"] == before["s2"] + 30000
    path.write_bytes(sber([("5003", "s2", "1.00")], school_today(), "=1;2.00"))
    refused = run("sch1", str(path), "--apply")
    assert refused.exit_code == 1 and "не равна сумме строк" in refused.output
    assert run("nope", str(path)).exit_code == 1


def test_api_previews_and_applies_a_register(client: Any, engine: Engine) -> None:
    from tests.server.kit import make_admin, school_today
    from tests.server.office.test_api import token

    seed_school(engine)
    seed_school(engine, "sch2")
    make_admin(engine, school_id="sch1")
    make_admin(engine, "other", school_id="sch2")
    headers = token(client)
    data = sber([("8001", "s3", "64.20"), ("8002", "ghost", "10.00")], school_today())

    def post(query: str, body: bytes = data, who: dict[str, str] = headers) -> Any:
        return client.post(f"/api/schools/sch1/payments{query}", headers=who,
                           data={"file": (io.BytesIO(body), "r.txt")}, content_type="multipart/form-data")

    before = _balances(engine)
    shown = post("")
    assert shown.status_code == 200 and shown.json["new_kopecks"] == 6420 and shown.json["applied"] is None
    assert [r["status"] for r in shown.json["rows"]] == ["new", "conflict"] and _balances(engine) == before
    done = post("?apply=1&format=sber")
    assert done.status_code == 200 and done.json["applied"]["kopecks"] == 6420
    assert done.json["applied"]["conflicts"] == 1 and _balances(engine)["s3"] == before["s3"] + 6420
    assert post("?apply=1").json["applied"]["already"] == 1 and _balances(engine)["s3"] == before["s3"] + 6420
    refused = post("?apply=1", sber([("8003", "s3", "1.00")], school_today(), "=2;1.00"))
    assert refused.status_code == 422 and "строк платежей 1" in refused.json["message"]
    assert post("?format=swift").status_code == 400
    assert client.post("/api/schools/sch1/payments", headers=headers, json={}).status_code == 400
    assert post("?apply=1", who=token(client, "other")).status_code == 403
