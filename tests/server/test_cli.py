"""`canteen server ...` as an operator runs it: a fresh SQLite file named by CANTEEN_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, update

from pos.cli import main
from pos.policy import shipped_policies
from server.app import create_app, state
from server.db import make_server_engine
from server.models import Admin, School, Student
from tests.server.kit import school_today


class Canteen:
    """Runs `canteen server ...` against one database file and looks into it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return self.runner.invoke(main, ["server", *args], input=input,
                                  env={"CANTEEN_DATABASE_URL": self.url, "CANTEEN_ADMIN_PASSWORD": "", **(env or {})},
                                  catch_exceptions=False)

    def school(self, school_id: str = "sch1") -> None:
        done = self("school", "add", school_id, "--name", "МБОУ «СОШ № 3»", "--timezone", "Asia/Krasnoyarsk",
                    "--policy", "nazarovo-2021", "--week-days", "1,2,3,4,5,6,7")
        assert done.exit_code == 0, done.output


@pytest.fixture
def canteen(tmp_path: Path) -> Canteen:
    return Canteen(f"sqlite:///{tmp_path / 'server.db'}")


@pytest.fixture
def migrated(canteen: Canteen) -> Canteen:
    assert canteen("db", "upgrade").exit_code == 0
    canteen.school()
    return canteen


@pytest.fixture
def api(migrated: Canteen) -> Iterator[FlaskClient]:
    app = create_app({"database_url": migrated.url, "secret_key": "test"})
    yield app.test_client()
    state(app).engine.dispose()


def count(url: str, model: object) -> int:
    engine = make_server_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(model)).scalar_one())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_db_upgrade_creates_the_schema_in_a_fresh_sqlite_file(canteen: Canteen, tmp_path: Path) -> None:
    result = canteen("db", "upgrade")
    assert result.exit_code == 0 and "База обновлена до head" in result.output
    assert (tmp_path / "server.db").exists()
    engine = make_server_engine(canteen.url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"schools", "students", "events", "terminals", "admins", "alembic_version"} <= tables
    assert canteen("db", "upgrade").exit_code == 0  # running it again is harmless


def test_school_add_saves_the_school_with_its_time_zone_and_days(migrated: Canteen) -> None:
    engine = make_server_engine(migrated.url)
    with engine.connect() as conn:
        school = conn.execute(select(School).where(School.id == "sch1")).one()
    engine.dispose()
    assert (school.name, school.timezone, school.week_days) == ("МБОУ «СОШ № 3»", "Asia/Krasnoyarsk", "1,2,3,4,5,6,7")
    assert school.policy_text == shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")


def test_school_add_with_a_missing_policy_file_fails_in_russian(migrated: Canteen, tmp_path: Path) -> None:
    result = migrated("school", "add", "sch2", "--name", "Школа 2", "--timezone", "Asia/Krasnoyarsk",
                      "--policy", str(tmp_path / "нет.toml"))
    assert result.exit_code == 1 and "ОШИБКА: не удалось прочитать политику" in result.output


@pytest.mark.parametrize("school_id", ["Школа-3", "adm-3", "x" * 33])
def test_school_add_with_an_id_that_is_not_a_short_slug_fails_in_russian(canteen: Canteen, school_id: str) -> None:
    assert canteen("db", "upgrade").exit_code == 0
    result = canteen("school", "add", school_id, "--name", "Школа", "--timezone", "Asia/Krasnoyarsk",
                     "--policy", "nazarovo-2021")
    assert result.exit_code == 1 and "ОШИБКА: код школы: от 1 до 32 знаков" in result.output
    assert count(canteen.url, School) == 0


def test_terminal_add_prints_a_token_that_authenticates(migrated: Canteen, api: FlaskClient) -> None:
    result = migrated("terminal", "add", "sch1", "--name", "окно 1")
    assert result.exit_code == 0 and "Терминал sch1-T1 зарегистрирован" in result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("sch1-T1.")
    pulled = api.post("/api/sync/pull", json={}, headers={"Authorization": f"Bearer {token}"})
    assert pulled.status_code == 200 and pulled.json["terminal_id"] == "sch1-T1"  # type: ignore[index]


def test_terminal_revoke_makes_its_token_fail_with_401(migrated: Canteen, api: FlaskClient) -> None:
    token = migrated("terminal", "add", "sch1").output.strip().splitlines()[-1]
    result = migrated("terminal", "revoke", "sch1-T1")
    assert result.exit_code == 0 and "Токен терминала sch1-T1 отозван" in result.output
    refused = api.post("/api/sync/push", json={"events": []}, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and "отозван" in refused.json["message"]  # type: ignore[index]


def test_terminal_revoke_of_an_unknown_terminal_fails_in_russian(migrated: Canteen) -> None:
    result = migrated("terminal", "revoke", "sch1-T9")
    assert result.exit_code == 1 and result.output.startswith("ОШИБКА:")


def test_admin_add_creates_a_login_limited_to_its_school(migrated: Canteen, api: FlaskClient) -> None:
    migrated.school("sch2")
    result = migrated("admin", "add", "head1", "--school", "sch1", input="secret-pass\nsecret-pass\n")
    assert result.exit_code == 0 and "Администратор head1 сохранён" in result.output
    assert "secret-pass" not in result.output  # asked without echo
    assert count(migrated.url, Admin) == 1
    login = api.post("/api/auth/login", json={"login": "head1", "password": "secret-pass"})
    assert login.status_code == 200
    auth = {"Authorization": f"Bearer {login.json['token']}"}  # type: ignore[index]
    assert api.get("/api/schools/sch1", headers=auth).status_code == 200
    assert api.get("/api/schools/sch2", headers=auth).status_code == 403


def test_admin_add_takes_the_password_from_the_environment(migrated: Canteen, api: FlaskClient) -> None:
    result = migrated("admin", "add", "head1", env={"CANTEEN_ADMIN_PASSWORD": "from-the-env"})
    assert result.exit_code == 0 and "Пароль" not in result.output
    assert api.post("/api/auth/login", json={"login": "head1", "password": "from-the-env"}).status_code == 200


def test_admin_add_refuses_a_password_on_the_command_line(migrated: Canteen) -> None:
    result = migrated("admin", "add", "head1", "--password", "secret-pass", input="x\n")
    assert result.exit_code == 2 and "--password" in result.output
    assert count(migrated.url, Admin) == 0


@pytest.mark.parametrize("typed", ["secret-pass\nsecret-typo\n", ""])
def test_admin_add_with_passwords_that_differ_or_none_saves_nothing(migrated: Canteen, typed: str) -> None:
    result = migrated("admin", "add", "head1", input=typed)
    assert result.exit_code == 1 and "ОШИБКА: парол" in result.output
    assert count(migrated.url, Admin) == 0


def test_import_with_one_bad_row_names_its_row_and_imports_nothing(migrated: Canteen, tmp_path: Path) -> None:
    roster = tmp_path / "ученики.csv"
    roster.write_bytes(("Код ученика;ФИО;Класс;Смена;Дата рождения\n"
                        "n1;Белова Вера;2 Б;2;01.02.2017\n"
                        "n2;Гусев Лев;2б;2;31.02.2017\n"
                        "n3;Зуева Ада;3а;1;\n").encode("cp1251"))
    result = migrated("import", "sch1", "students", str(roster))
    assert result.exit_code == 1
    assert "Ничего не загружено: ошибок 1." in result.output
    assert "строка 3" in result.output and "31.02.2017" in result.output  # the Excel row of n2
    assert count(migrated.url, Student) == 0


def test_import_of_a_good_file_reports_the_rows(migrated: Canteen, tmp_path: Path) -> None:
    roster = tmp_path / "students.csv"
    roster.write_text("student_id,full_name,class\nn1,Белова Вера,2 Б\nn2,Гусев Лев,2б\n", encoding="utf-8")
    result = migrated("import", "sch1", "students", str(roster))
    assert result.exit_code == 0 and "Загружено строк: 2." in result.output
    assert count(migrated.url, Student) == 2


def test_import_replace_keeps_students_with_money_until_the_flag_says_so(migrated: Canteen, tmp_path: Path) -> None:
    roster = tmp_path / "students.csv"
    roster.write_text("student_id,full_name,class\nn1,Белова Вера,2 Б\nn2,Гусев Лев,2б\n", encoding="utf-8")
    assert migrated("import", "sch1", "students", str(roster)).exit_code == 0
    engine = make_server_engine(migrated.url)
    with engine.begin() as conn:
        conn.execute(update(Student).where(Student.id == "n2").values(balance_kopecks=135050))
    engine.dispose()
    roster.write_text("student_id,full_name,class\nn1,Белова Вера,2 Б\n", encoding="utf-8")
    refused = migrated("import", "sch1", "students", str(roster), "--replace")
    assert refused.exit_code == 1 and "у выбывающих учеников на счетах 1\u202f350,50 ₽: Гусев Лев" in refused.output
    assert "--leaving-with-money" in refused.output
    done = migrated("import", "sch1", "students", str(roster), "--replace", "--leaving-with-money")
    assert done.exit_code == 0, done.output
    engine = make_server_engine(migrated.url)
    with engine.connect() as conn:
        assert conn.execute(select(Student.active).where(Student.id == "n2")).scalar_one() is False
    engine.dispose()


def test_mismatches_csv_lists_ordered_but_not_served_with_russian_headers(migrated: Canteen,
                                                                         tmp_path: Path) -> None:
    day = school_today().isoformat()
    (tmp_path / "students.csv").write_text("student_id;full_name;class\nn1;Белова Вера;2б\n", encoding="utf-8")
    (tmp_path / "orders.csv").write_text(f"student_id;day;meals\nn1;{day};завтрак\n", encoding="utf-8")
    for kind in ("students", "orders"):
        assert migrated("import", "sch1", kind, str(tmp_path / f"{kind}.csv")).exit_code == 0
    result = migrated("mismatches", "sch1", "--from", day, "--to", day, "--csv")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("Дата;Класс;Код ученика;ФИО;Приём пищи;Расхождение")
    assert len(lines) == 2 and lines[1].startswith(f"{day};") and ";n1;Белова Вера;" in lines[1]


def test_mismatches_of_an_unknown_school_fails_in_russian(migrated: Canteen) -> None:
    result = migrated("mismatches", "nowhere", "--from", "2026-01-01", "--to", "2026-01-02")
    assert result.exit_code == 1 and "школа 'nowhere' не найдена" in result.output


@pytest.mark.parametrize("value", ["много", "-1", "nan"])
def test_a_server_setting_that_is_not_a_number_fails_naming_the_variable(canteen: Canteen, value: str) -> None:
    result = canteen("db", "upgrade", env={"CANTEEN_MAX_BATCH": value})
    assert result.exit_code == 1 and f"ОШИБКА: CANTEEN_MAX_BATCH: ожидается целое число ≥ 0, а не '{value}'" \
        in result.output
