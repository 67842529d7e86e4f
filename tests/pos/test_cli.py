"""`canteen policy check|explain` and `canteen demo`, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def canteen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pos.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


def test_policy_check_lists_the_category_ids() -> None:
    result = canteen("policy", "check", "nazarovo-2021")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: nazarovo-2021 — Красноярский край, г. Назарово, 2021-2022 уч. год: "
                                    "6 категорий, 12 правил, 4 строк цен")
    assert "  ovz: Обучающиеся с ОВЗ, п. 4.5" in result.stdout


def test_policy_check_of_a_broken_file_exits_1_naming_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    good = (ROOT / "pos" / "policies" / "kirovsk-2020.toml").read_text(encoding="utf-8")
    bad.write_text(good.replace('school_year = "2020-2021"', 'school_year = "2020-2021"\nfoo = 1'), encoding="utf-8")
    result = canteen("policy", "check", str(bad))
    assert result.returncode == 1
    line = good[: good.index("[policy]")].count("\n") + 1
    assert result.stderr.strip() == f"ОШИБКА: {bad}:{line}: policy: неизвестные ключи: foo"
    bad.write_text("[policy]\n", encoding="utf-8")
    assert canteen("policy", "check", str(bad)).stderr.strip() == (
        f"ОШИБКА: {bad}: не хватает ключей: budget_lines, categories, prices, rules")


def test_policy_explain_prints_the_documented_json() -> None:
    result = canteen("policy", "explain", "nazarovo-2021", "--date", "2026-11-23", "--grade", "3",
                     "--birth-date", "2017-05-01", "--shift", "2", "--category", "ovz")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "date": "2026-11-23",
        "meals": [{"meal": "lunch", "price_kopecks": 7288, "budget_line": "0110075660"},
                  {"meal": "snack", "price_kopecks": 3644, "budget_line": "0110075660"}],
        "total_kopecks": 10932,
        "cap_kopecks": None,
    }


def test_policy_explain_without_category_gives_the_grade_right_and_accepts_russian_dates() -> None:
    result = canteen("policy", "explain", "kirovsk-2020", "--date", "23.11.2026", "--grade", "1", "--shift", "1")
    assert json.loads(result.stdout)["total_kopecks"] == 4320 + 6480 + 1350


def test_policy_explain_with_unknown_category_fails_clearly() -> None:
    result = canteen("policy", "explain", "ryazan-2024", "--date", "2026-11-23", "--grade", "5", "--shift", "1",
                     "--category", "sirota")
    assert result.returncode == 1
    assert "неизвестная категория sirota" in result.stderr


def test_demo_serves_a_breakfast_break_and_prints_each_verdict(tmp_path: Path) -> None:
    result = canteen("demo", "--db", str(tmp_path / "d.db"), "--date", "2026-11-23")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Демо-школа: 401 учеников, 411 карт; база {tmp_path / 'd.db'}"
    assert lines[1] == "Раздача 23.11.2026, I смена, 1-я перемена (завтрак), терминал DEMO-1"
    assert any("ОТКАЗ" in line and "Карта не зарегистрирована" in line for line in lines)
    assert any("Завтрак уже выдан в " in line for line in lines)
    assert any("Не время класса 5а" in line for line in lines)
    assert lines[-1].startswith("Итого: выдано ")
