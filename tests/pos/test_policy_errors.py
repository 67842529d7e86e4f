"""A policy that is inconsistent or incomplete is refused on load, naming file, line, key and problem."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from pos.policy import EligibilityError, PolicyError, load_policy, parse_policy, shipped_policies

GOOD = shipped_policies()["kirovsk-2020"].read_text(encoding="utf-8")


def broken(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def test_every_shipped_policy_loads() -> None:
    assert {"nazarovo-2021", "ryazan-2024", "kirovsk-2020"} <= set(shipped_policies())
    for path in shipped_policies().values():
        load_policy(path)


def test_missing_price_for_a_free_meal_names_the_rule_line_and_meal() -> None:
    text = broken('lunch = "64,80"\n', "").replace('daily = "108,00"\n', "")
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "kirovsk.toml")
    assert err.value.key == "rules[0].meals"
    assert "нет цены «обед» для 1 класса" in err.value.problem
    assert err.value.line == line_of(text, "meals = { breakfast = \"free_meals\", lunch")
    assert str(err.value).startswith(f"kirovsk.toml:{err.value.line}: rules[0].meals: ")


def test_unknown_category_in_a_rule_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"rules\[2\]\.categories: неизвестные категории: orphans"):
        parse_policy(broken('categories = ["tb_register"', 'categories = ["orphans", "tb_register"'))


def test_unknown_meal_and_unknown_budget_line_are_refused() -> None:
    with pytest.raises(PolicyError, match="неизвестный приём пищи «brekfast»"):
        parse_policy(broken("meals = { milk = ", "meals = { brekfast = "))
    with pytest.raises(PolicyError, match="неизвестная статья бюджета «dairy»"):
        parse_policy(broken('milk = "milk" }', 'milk = "dairy" }'))


def test_daily_price_that_does_not_add_up_is_refused() -> None:
    expected = r"prices\[0\]\.daily: сумма цен приёмов пищи 108,10 не равна дневной цене 108,00"
    with pytest.raises(PolicyError, match=expected):
        parse_policy(broken('lunch = "64,80"', 'lunch = "64,90"'))


def test_price_written_as_a_float_is_refused_with_the_expected_form() -> None:
    with pytest.raises(PolicyError, match=r"prices\[0\]\.milk: сумма пишется строкой"):
        parse_policy(broken('milk = "13,50"', "milk = 13.5"))


def test_toml_syntax_error_gives_the_line() -> None:
    text = broken("[budget_lines]", "[budget_lines")
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "x.toml")
    assert err.value.line == line_of(text, "[budget_lines")
    assert "синтаксиса TOML" in err.value.problem


def test_unknown_key_and_missing_section_are_refused() -> None:
    with pytest.raises(PolicyError, match=r"rules\[1\]: неизвестные ключи: grade"):
        parse_policy(broken("grades = [1, 4]\nmeals = { milk", "grade = [1, 4]\nmeals = { milk"))
    with pytest.raises(PolicyError, match="не хватает ключей: prices"):
        parse_policy(GOOD[: GOOD.index("[[prices]]")])


def test_overlapping_price_rows_are_ambiguous() -> None:
    text = GOOD + '\n[[prices]]\ngrades = [3, 5]\nmilk = "10,00"\n'
    with pytest.raises(PolicyError, match=r"prices\[1\]: пересекается со строкой prices\[0\] по молоко"):
        parse_policy(text)


def test_bad_school_year_and_grade_band_are_refused() -> None:
    with pytest.raises(PolicyError, match=r"policy\.school_year"):
        parse_policy(broken('school_year = "2020-2021"', 'school_year = "2020-2022"'))
    with pytest.raises(PolicyError, match=r"rules\[0\]\.grades: ожидается \[от, до\] в пределах 1..11"):
        parse_policy(broken("grades = [1, 4]", "grades = [4, 1]"))


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PolicyError, match=re.escape(str(path)) + ": не удалось прочитать файл"):
        load_policy(path)
    with pytest.raises(PolicyError, match="не удалось прочитать файл"):
        load_policy(tmp_path / "missing.toml")


def test_explain_without_birth_date_where_prices_depend_on_age_is_an_error() -> None:
    nazarovo = load_policy(shipped_policies()["nazarovo-2021"])
    with pytest.raises(EligibilityError, match="нет даты рождения"):
        nazarovo.explain(day=date(2026, 11, 23), grade=2, shift=1, categories=[], birth_date=None)


def test_explain_with_an_unknown_category_lists_the_known_ones() -> None:
    nazarovo = load_policy(shipped_policies()["nazarovo-2021"])
    with pytest.raises(EligibilityError, match="неизвестная категория orphan; в политике есть: low_income"):
        nazarovo.explain(day=date(2026, 11, 23), grade=2, shift=1, categories=["orphan"], birth_date=None)
