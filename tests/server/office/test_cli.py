"""`canteen server student` and `canteen server benefits overdue` as an operator runs them."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner, Result
from sqlalchemy import Engine

from pos.cli import main
from server.office import benefits
from tests.server.kit import seed_school


def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["server", *args], env={"CANTEEN_DATABASE_URL": db_url}, catch_exceptions=False)


def test_student_finds_one_and_shows_the_card(db_url: str, engine: Engine) -> None:
    seed_school(engine)
    done = run(db_url, "student", "sch1", "мария орлова")
    assert done.exit_code == 0, done.output
    assert "Орлова Мария (код s4), класс 5А" in done.output and "Баланс: 500,00 ₽" in done.output
    assert "Карта EM:0000000004" in done.output


def test_student_lists_several_and_says_when_none(db_url: str, engine: Engine) -> None:
    seed_school(engine)
    two = run(db_url, "student", "sch1", "о")  # Орлова Мария, Волков Олег
    assert "s4: Орлова Мария, 5А" in two.output and "s6: Волков Олег, 1А" in two.output
    assert "Баланс" not in two.output
    assert "никого не найдено" in run(db_url, "student", "sch1", "ов").output  # no word starts so


def test_benefits_overdue_lists_the_late_applications(db_url: str, engine: Engine) -> None:
    seed_school(engine)
    assert "нет" in run(db_url, "benefits", "overdue", "sch1").output
    with engine.begin() as conn:
        benefits.register(conn, "коорд", "sch1", student_id="s5", category="ovz", registered_on=date(2026, 3, 2))
    done = run(db_url, "benefits", "overdue", "sch1")
    assert done.exit_code == 0 and "02.03.2026 Козлов Егор (5а)" in done.output and "16.03.2026" in done.output
    assert run(db_url, "benefits", "overdue", "nope").exit_code == 1
