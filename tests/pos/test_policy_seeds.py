"""The shipped policies against the seeds' own tables: each row of seed 002's price and entitlement
tables, seed 003's daily cap and seed 004's daily price and milk."""

from __future__ import annotations

from datetime import date

import pytest

from pos.policy import Policy, load_policy, parse_policy, shipped_policies

DAY = date(2026, 11, 23)
REG, PRIM = "0110075660", "01100L3040"


def born_aged(age: int) -> date:
    return date(DAY.year - age, 1, 15)


def free(policy: Policy, grade: int, shift: int, categories: list[str], age: int | None) -> dict[str, tuple[int, str]]:
    result = policy.explain(day=DAY, grade=grade, shift=shift, categories=categories,
                            birth_date=born_aged(age) if age is not None else None)
    return {m["meal"]: (m["price_kopecks"], m["budget_line"]) for m in result["meals"]}


@pytest.fixture(scope="module")
def nazarovo() -> Policy:
    return load_policy(shipped_policies()["nazarovo-2021"])


# Seed 002, price table × entitlement table. Each row: grade, age, categories, then what shift 1 and
# shift 2 give free: {meal: (kopecks, budget line)}.
SEED_002_ROWS = [
    pytest.param(2, 8, [], {"breakfast": (4858, PRIM)}, {"lunch": (7288, PRIM)}, id="1-4/6-10/all-but-OVZ"),
    pytest.param(3, 9, ["ovz"], {"breakfast": (4858, REG), "lunch": (7288, REG)},
                 {"lunch": (7288, REG), "snack": (3644, REG)}, id="1-4/6-10/OVZ"),
    pytest.param(1, 7, ["transported"], {"breakfast": (4858, PRIM), "lunch": (7288, REG)},
                 {"lunch": (7288, PRIM), "snack": (3644, REG)}, id="1-4/6-10/transported"),
    pytest.param(4, 11, [], {"breakfast": (5649, PRIM)}, {"lunch": (8472, PRIM)}, id="1-4/11-13/all-but-OVZ"),
    pytest.param(4, 12, ["ovz"], {"breakfast": (5649, REG), "lunch": (8472, REG)},
                 {"lunch": (8472, REG), "snack": (4236, REG)}, id="1-4/11-13/OVZ"),
    pytest.param(4, 13, ["low_income", "transported"], {"breakfast": (5649, PRIM), "lunch": (8472, REG)},
                 {"lunch": (8472, PRIM), "snack": (4236, REG)}, id="1-4/11-13/transported"),
    pytest.param(5, 10, ["large_family"], {"breakfast": (4858, REG)}, {"lunch": (7288, REG)},
                 id="5-11/6-10/benefit"),
    pytest.param(5, 10, ["ovz"], {"breakfast": (4858, REG), "lunch": (7288, REG)},
                 {"lunch": (7288, REG), "snack": (3644, REG)}, id="5-11/6-10/OVZ"),
    pytest.param(5, 10, ["single_parent", "transported"], {"breakfast": (4858, REG), "lunch": (7288, REG)},
                 {"lunch": (7288, REG), "snack": (3644, REG)}, id="5-11/6-10/transported"),
    pytest.param(9, 15, ["social_danger"], {"breakfast": (5649, REG)}, {"lunch": (8472, REG)},
                 id="5-11/11-18/benefit"),
    pytest.param(11, 17, ["ovz"], {"breakfast": (5649, REG), "lunch": (8472, REG)},
                 {"lunch": (8472, REG), "snack": (4236, REG)}, id="5-11/11-18/OVZ"),
    pytest.param(7, 13, ["low_income", "transported"], {"breakfast": (5649, REG), "lunch": (8472, REG)},
                 {"lunch": (8472, REG), "snack": (4236, REG)}, id="5-11/11-18/transported"),
]


@pytest.mark.parametrize(("grade", "age", "categories", "shift1", "shift2"), SEED_002_ROWS)
def test_nazarovo_free_meals_follow_seed_002_tables(
    nazarovo: Policy, grade: int, age: int, categories: list[str], shift1: dict[str, tuple[int, str]],
    shift2: dict[str, tuple[int, str]],
) -> None:
    assert free(nazarovo, grade, 1, categories, age) == shift1
    assert free(nazarovo, grade, 2, categories, age) == shift2


def test_nazarovo_grades_5_to_11_without_category_get_nothing_free(nazarovo: Policy) -> None:
    assert free(nazarovo, 8, 1, [], 14) == {}
    assert free(nazarovo, 8, 2, [], 14) == {}


def test_nazarovo_ovz_in_primary_does_not_also_get_the_grade_right_from_the_federal_line(nazarovo: Policy) -> None:
    # "все, кроме ОВЗ": the breakfast of an ОВЗ first-grader is paid from the regional line.
    assert free(nazarovo, 1, 1, ["ovz"], 7)["breakfast"] == (4858, REG)


def test_nazarovo_ages_outside_every_band_use_the_nearest_band(nazarovo: Policy) -> None:
    assert free(nazarovo, 1, 1, [], 5)["breakfast"] == (4858, PRIM)
    assert free(nazarovo, 11, 1, ["ovz"], 19)["breakfast"] == (5649, REG)


def test_nazarovo_explain_totals_and_has_no_cap(nazarovo: Policy) -> None:
    result = nazarovo.explain(day=DAY, grade=3, shift=2, categories=["ovz"], birth_date=born_aged(9))
    assert result["total_kopecks"] == 7288 + 3644
    assert result["cap_kopecks"] is None
    assert result["date"] == "2026-11-23"


def test_ryazan_caps_free_meals_at_142_22_a_day() -> None:
    ryazan = load_policy(shipped_policies()["ryazan-2024"])
    result = ryazan.explain(day=DAY, grade=6, shift=1, categories=["svo_mobilized"], birth_date=born_aged(12))
    assert [(m["meal"], m["budget_line"]) for m in result["meals"]] == [("breakfast", "city"), ("lunch", "city")]
    assert result["cap_kopecks"] == 14222
    assert result["total_kopecks"] == 14222  # 57,00 + 85,22: the example menu fits the cap


def test_ryazan_cap_limits_the_total_when_the_menu_costs_more() -> None:
    text = shipped_policies()["ryazan-2024"].read_text(encoding="utf-8").replace('lunch = "85,22"', 'lunch = "95,00"')
    result = parse_policy(text).explain(day=DAY, grade=9, shift=2, categories=["ovz"], birth_date=None)
    assert sum(m["price_kopecks"] for m in result["meals"]) == 15200
    assert result["total_kopecks"] == 14222


def test_ryazan_primary_grade_right_is_the_federal_meal_and_benefit_adds_up_to_the_cap() -> None:
    ryazan = load_policy(shipped_policies()["ryazan-2024"])
    plain = ryazan.explain(day=DAY, grade=2, shift=1, categories=[], birth_date=None)
    assert plain["meals"] == [{"meal": "breakfast", "price_kopecks": 5700, "budget_line": "federal"}]
    assert plain["total_kopecks"] == 5700
    ovz = ryazan.explain(day=DAY, grade=2, shift=2, categories=["ovz"], birth_date=None)
    assert {m["meal"]: m["budget_line"] for m in ovz["meals"]} == {"breakfast": "city", "lunch": "federal"}
    assert ovz["total_kopecks"] == 14222


def test_kirovsk_primary_grades_get_breakfast_and_lunch_at_108_a_day_and_milk() -> None:
    kirovsk = load_policy(shipped_policies()["kirovsk-2020"])
    result = kirovsk.explain(day=DAY, grade=3, shift=1, categories=[], birth_date=None)
    meals = {m["meal"]: (m["price_kopecks"], m["budget_line"]) for m in result["meals"]}
    assert meals == {"breakfast": (4320, "free_meals"), "lunch": (6480, "free_meals"), "milk": (1350, "milk")}
    assert meals["breakfast"][0] + meals["lunch"][0] == 10800


def test_kirovsk_grades_5_to_11_need_a_category_and_get_no_milk() -> None:
    kirovsk = load_policy(shipped_policies()["kirovsk-2020"])
    assert kirovsk.explain(day=DAY, grade=6, shift=1, categories=[], birth_date=None)["meals"] == []
    tb = kirovsk.explain(day=DAY, grade=6, shift=2, categories=["tb_register"], birth_date=None)
    assert [m["meal"] for m in tb["meals"]] == ["breakfast", "lunch"]
    assert tb["total_kopecks"] == 10800
