"""The school's policy per school year (`server.office.history.set_policy`): the year from the file, files
refused in Russian, the current year's going to the terminals, past days judged by their year's policy, a
day of a year without one reported as not judged; `add_school` keeps its year; the page, the CLI, the demo."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine, insert, select

from pos.cli import main
from pos.domain import Meal
from pos.policy import parse_policy, shipped_policies
from pos.settings import read_meta
from pos.store import make_engine
from server.accounts import add_school
from server.mismatches import report
from server.models import Order, School, SchoolPolicy
from server.office import history
from server.office.changes import NotFound, OfficeError
from server.office.roles import Role
from sync.client import SyncClient
from tests.server.kit import TZ, enroll, school_today, seed_school
from tests.server.office.conftest import Office

NAZAROVO = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
PAST_DAY = date(2026, 3, 10)  # school year 2025/26; s1 (born 01.03.2018) is 8


def nazarovo(year: str, breakfast_1_4: str = "48,58") -> str:
    """The Nazarovo file stated for `year`, with the 1-4 grades' breakfast for ages 6-10 at `breakfast_1_4`."""
    return (NAZAROVO.replace('school_year = "2021-2022"', f'school_year = "{year}"', 1)
            .replace('id = "nazarovo-2021"', f'id = "nazarovo-{year[:4]}"', 1)
            .replace('breakfast = "48,58"', f'breakfast = "{breakfast_1_4}"', 1))


def _years(engine: Engine, school: str = "sch1") -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(SchoolPolicy.school_year, SchoolPolicy.policy_text)
                            .where(SchoolPolicy.school_id == school)).tuples().all()
    return {year: parse_policy(text).id for year, text in rows}


def _school(engine: Engine) -> tuple[str, int]:
    with engine.connect() as conn:
        row = conn.execute(select(School.policy_text, School.settings_rev).where(School.id == "sch1")).one()
    return parse_policy(row.policy_text).id, int(row.settings_rev)


def test_a_past_year_s_policy_is_kept_for_its_year_and_leaves_the_terminals_alone(engine: Engine) -> None:
    seed_school(engine)
    before = _school(engine)
    with engine.begin() as conn:
        done = history.set_policy(conn, "admin1", "sch1", nazarovo("2025-2026", "50,00"))
        listed = history.list_policies(conn, "sch1")
    assert (done.school_year, done.policy_id, done.current) == ("2025-2026", "nazarovo-2025", False)
    assert _years(engine) == {"2025-2026": "nazarovo-2025", "2026-2027": "nazarovo-2026"}
    assert _school(engine) == before
    assert [(y.label, y.policy_id, y.current, y.at_terminals) for y in listed] == [
        ("2026/27", "nazarovo-2026", True, True), ("2025/26", "nazarovo-2025", False, False)]
    assert listed[1].set_by == "admin1" and listed[1].region == "Красноярский край, г. Назарово"


def test_the_current_year_s_policy_reaches_the_terminals_on_their_next_pull(app: Flask, engine: Engine,
                                                                            tmp_path: Path) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    store = make_engine(tmp_path / "t.db")
    client = SyncClient(store, "http://server", token, transport=httpx.WSGITransport(app=app))
    assert client.sync_once().ok
    with store.connect() as conn:
        assert parse_policy(read_meta(conn)["policy"]).id == "nazarovo-2026"
    year = history.school_year_of(school_today())
    text = nazarovo(year, "51,00").replace(f'id = "nazarovo-{year[:4]}"', 'id = "nazarovo-new"')
    _, rev_before = _school(engine)
    with engine.begin() as conn:
        done = history.set_policy(conn, "admin1", "sch1", text)
    assert done.current and _school(engine)[0] == "nazarovo-new" and _school(engine)[1] > rev_before
    assert client.sync_once().ok
    with store.connect() as conn:
        pulled = parse_policy(read_meta(conn)["policy"])
    assert pulled.id == "nazarovo-new" and pulled.price(1, 8, Meal.BREAKFAST) == 5100
    store.dispose()


@pytest.mark.parametrize(("text", "message"), [
    (NAZAROVO.replace('school_year = "2021-2022"\n', ""), "в файле политики не указан учебный год"),
    (NAZAROVO.replace("[policy]", "[policy", 1), "ошибка синтаксиса TOML"),
    (NAZAROVO.replace('school_year = "2021-2022"', 'school_year = "2026/27"'), "учебный год пишется как"),
    (NAZAROVO.replace("[budget_lines]", "[budget_lines]\n'x' = 'y'", 1) + "\x00", "недопустимые символы"),
    ("x = 1\n" * 60_000, "больше 256 КБ"),
    ("", "не указан учебный год"),
    ("<script>alert(1)</script>", "ошибка синтаксиса TOML"),
])
def test_a_policy_file_that_cannot_be_used_is_refused_in_russian_and_nothing_changes(
        engine: Engine, text: str, message: str) -> None:
    seed_school(engine)
    before = (_years(engine), _school(engine))
    with pytest.raises(OfficeError, match=message), engine.begin() as conn:
        history.set_policy(conn, "admin1", "sch1", text)
    assert (_years(engine), _school(engine)) == before
    with pytest.raises(NotFound), engine.begin() as conn:
        history.set_policy(conn, "admin1", "nowhere", nazarovo("2025-2026"))


def _order(engine: Engine, day: date, student: str = "s1") -> None:
    with engine.begin() as conn:
        conn.execute(insert(Order).values(school_id="sch1", student_id=student, day=day, meal="breakfast", rev=1))


def _ordered_not_served(engine: Engine, day: date) -> tuple[list[int], list[str]]:
    with engine.connect() as conn:
        data = report(conn, "sch1", day, day)
    return ([i["kopecks"] for i in data["items"] if i["student_id"] == "s1" and i["kind"] == "ordered_not_served"],
            data["not_judged"])


def test_a_past_day_is_priced_by_its_year_s_policy_and_a_day_without_one_is_not_judged(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        history.set_policy(conn, "admin1", "sch1", nazarovo("2025-2026", "50,00"))
    yesterday = school_today() - timedelta(days=1)
    unjudged = date(2025, 5, 12)  # school year 2024/25: no policy
    for day in (PAST_DAY, yesterday, unjudged):
        _order(engine, day)
    # s1, grade 1, age 8: breakfast is free; an ordered breakfast not taken is at stake at the policy's price
    # (no menu price on these days): 50,00 ₽ by the 2025/26 file, 48,58 ₽ by the current one.
    assert _ordered_not_served(engine, PAST_DAY) == ([5000], [])
    assert _ordered_not_served(engine, yesterday) == ([4858], [])
    items, lines = _ordered_not_served(engine, unjudged)
    assert items == [0]  # no policy: no policy price
    assert lines == ["12.05.2025–12.05.2025: нет политики питания на 2024/25 учебный год (в школе есть: 2025/26, "
                     "2026/27); дни не оцениваются — право на бесплатное питание не проверено, цены политики не "
                     "применены"]
    with engine.connect() as conn:  # a period over two years: one line for the year without a policy
        data = report(conn, "sch1", date(2025, 8, 25), date(2025, 9, 2))
    assert data["not_judged"] == [data["not_judged"][0]] and data["not_judged"][0].startswith(
        "25.08.2025–31.08.2025: нет политики питания на 2024/25 учебный год")


def test_add_school_keeps_its_policy_under_the_file_s_school_year(engine: Engine) -> None:
    with engine.begin() as conn:
        add_school(conn, school_id="kir", name="Кировск", timezone=TZ,
                   policy_text=shipped_policies()["kirovsk-2020"].read_text(encoding="utf-8"))
    assert _years(engine, "kir") == {"2020-2021": "kirovsk-2020"}
    with engine.begin() as conn:
        add_school(conn, school_id="kir", name="Кировск", timezone=TZ,
                   policy_text=shipped_policies()["kirovsk-2026"].read_text(encoding="utf-8"))
        by = conn.execute(select(SchoolPolicy.set_by).where(SchoolPolicy.school_id == "kir")).scalars().all()
    assert _years(engine, "kir") == {"2020-2021": "kirovsk-2020", "2026-2027": "kirovsk-2026"}
    assert set(by) == {"system"}


def test_the_policy_page_lists_the_years_and_takes_a_file_from_the_school_admin(office: Office) -> None:
    office.app.config["WTF_CSRF_ENABLED"] = False
    admin = office.client(Role.SCHOOL_ADMIN)
    page = admin.get("/office/sch1/policy").get_data(as_text=True)
    assert "2026/27 <small>(текущий)</small>" in page and "nazarovo-2026" in page and 'type="file"' in page
    hostile = nazarovo("2025-2026").replace(
        'source = "Положение', 'source = "<script>alert(1)</script> Положение', 1)
    done = admin.post("/office/sch1/policy", data={"file": (io.BytesIO(hostile.encode()), "p.toml")})
    assert done.status_code == 303
    page = admin.get("/office/sch1/policy").get_data(as_text=True)
    assert "Политика nazarovo-2025 сохранена на 2025/26 учебный год; текущий учебный год она не меняет." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    bad = admin.post("/office/sch1/policy", data={"file": (io.BytesIO(b"\xff\xfe[policy"), "p.toml")})
    assert bad.status_code == 422 and "не в кодировке UTF-8" in bad.get_data(as_text=True)
    none = admin.post("/office/sch1/policy", data={})
    assert none.status_code == 422 and "выберите файл политики" in none.get_data(as_text=True)
    got = admin.get("/office/sch1/policy/2025-2026.toml")
    assert got.status_code == 200 and 'id = "nazarovo-2025"' in got.get_data(as_text=True)
    assert admin.get("/office/sch1/policy/1999-2000.toml").status_code == 404
    coordinator = office.client(Role.COORDINATOR)
    read = coordinator.get("/office/sch1/policy").get_data(as_text=True)
    assert "nazarovo-2025" in read and 'type="file"' not in read
    assert coordinator.post("/office/sch1/policy", data={}).status_code == 403
    assert office.client(Role.TEACHER).get("/office/sch1/policy").status_code == 403
    assert "Политика" in admin.get("/office/sch1/students").get_data(as_text=True)  # the menu item


def test_the_cli_sets_and_lists_a_school_s_policies(db_url: str, engine: Engine, tmp_path: Path) -> None:
    seed_school(engine)
    runner = CliRunner()

    def canteen(*args: str) -> tuple[int, str]:
        done = runner.invoke(main, ["server", "policy", *args], env={"CANTEEN_DATABASE_URL": db_url},
                             catch_exceptions=False)
        return done.exit_code, done.output

    path = tmp_path / "past.toml"
    path.write_text(nazarovo("2025-2026"), encoding="utf-8")
    assert canteen("set", "sch1", str(path)) == (0, "Политика nazarovo-2025 сохранена на 2025/26 учебный год.\n")
    path.write_text(NAZAROVO.replace('school_year = "2021-2022"\n', ""), encoding="utf-8")
    code, out = canteen("set", "sch1", str(path))
    assert code != 0 and "не указан учебный год" in out
    code, out = canteen("set", "sch1", "ryazan-2026")  # a shipped one by name
    assert code == 0 and "ryazan-2026 сохранена на 2026/27 учебный год: текущий год" in out
    code, out = canteen("list", "sch1")
    assert code == 0 and out.splitlines()[0].startswith("2026/27: ryazan-2026 — г. Рязань; Пример на 2026/27")
    assert "(текущий год, на терминалах)" in out.splitlines()[0] and out.splitlines()[1].startswith("2025/26: nazarovo")
    code, out = canteen("set", "nowhere", "ryazan-2026")
    assert code != 0 and "школа nowhere не найдена" in out


def test_the_demo_school_serves_by_the_current_year_s_example_policy(engine: Engine) -> None:
    from pos.demo import demo_policy
    from server.office.demo import build

    assert demo_policy(2026).stem == "nazarovo-2026" and demo_policy(2021).stem == "nazarovo-2021"
    day = build(engine, day=date(2026, 12, 3), serve=False)
    assert _years(engine, "nazarovo-3") == {"2026-2027": "nazarovo-2026"}
    with engine.connect() as conn:
        assert report(conn, "nazarovo-3", day, day)["not_judged"] == []
        text = conn.execute(select(School.policy_text).where(School.id == "nazarovo-3")).scalar_one()
    policy = parse_policy(text)
    assert policy.id == "nazarovo-2026" and policy.source.startswith("Пример на 2026/27 учебный год")
