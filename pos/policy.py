"""Regional rules as data: load, validate and apply a policy file (TOML).

A policy says, for one region and school year, which meals each benefit category gets free, by
grade band and shift; what each meal costs by age band (age on the serving date); which budget
line pays; an optional daily cap per student; milk for primary grades. The file format is
documented in README.md and by the shipped files in `pos/policies/`.

Everything is checked on load: a policy that is inconsistent or incomplete is refused with a
`PolicyError` naming the file, the line, the key and the problem.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from pos.domain import Meal
from pos.money import parse_rub

_ID = re.compile(r"[a-z][a-z0-9_]*")
_YEAR = re.compile(r"(\d{4})-(\d{4})")
MAX_GRADE = 11
COMMON_DOCUMENTS = "common"  # the key of [documents] that lists what every application needs


class PolicyError(ValueError):
    """A policy file that cannot be used, with where and why."""

    def __init__(self, path: str, problem: str, key: str = "", line: int | None = None) -> None:
        self.path, self.problem, self.key, self.line = path, problem, key, line
        where = path + (f":{line}" if line else "")
        super().__init__(f"{where}: {key + ': ' if key else ''}{problem}")


class EligibilityError(ValueError):
    """The policy cannot be applied to this student (e.g. no birth date where prices need the age)."""


@dataclass(frozen=True)
class Rule:
    """One row of a region's entitlement table: who gets which meals free, paid from which line."""

    grades: tuple[int, int]
    shifts: frozenset[int]
    categories: frozenset[str]
    excluded: frozenset[str]
    meals: Mapping[Meal, str]
    source: str = ""

    def applies(self, grade: int, shift: int, categories: frozenset[str]) -> bool:
        if not (self.grades[0] <= grade <= self.grades[1]) or shift not in self.shifts:
            return False
        if self.categories:
            return bool(self.categories & categories)
        return not (self.excluded & categories)


@dataclass(frozen=True)
class PriceRow:
    """Prices of meals for a grade band and, where the region prices by age, an age band."""

    grades: tuple[int, int]
    ages: tuple[int, int] | None
    prices: Mapping[Meal, int]

    def covers(self, grade: int) -> bool:
        return self.grades[0] <= grade <= self.grades[1]


@dataclass(frozen=True)
class FreeMeal:
    meal: Meal
    price_kopecks: int
    budget_line: str
    category: str = ""  # the benefit category that gave it; "" for the grade's own right (no category asked)
    rule: str = ""  # "<policy id>#<rule number in the file, from 1>": the rule as decided at the window


@dataclass(frozen=True)
class Policy:
    id: str
    region: str
    school_year: tuple[int, int]
    budget_lines: Mapping[str, str]
    categories: Mapping[str, str]
    rules: tuple[Rule, ...]
    prices: tuple[PriceRow, ...]
    daily_cap: int | None = None
    source: str = ""
    path: str = field(default="", compare=False)
    # The benefit paperwork (optional in a file): documents every application needs, those of each
    # category, and the reasons a commission may refuse (code -> wording).
    common_documents: tuple[str, ...] = ()
    category_documents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    refusal_reasons: Mapping[str, str] = field(default_factory=dict)

    def documents(self, category: str) -> tuple[str, ...]:
        """The checklist of an application for this category: the common documents, then its own."""
        return (*self.common_documents, *self.category_documents.get(category, ()))

    @property
    def needs_age(self) -> bool:
        return any(row.ages is not None for row in self.prices)

    def price(self, grade: int, age: int | None, meal: Meal) -> int:
        """The policy's price of `meal` for a student of this grade and age.

        A student younger or older than every band of the grade is priced by the nearest band.
        """
        rows = [row for row in self.prices if row.covers(grade) and meal in row.prices]
        if not rows:
            raise EligibilityError(f"в политике нет цены «{meal.ru}» для {grade} класса")
        if not self.needs_age:
            return rows[0].prices[meal]
        if age is None:
            raise EligibilityError("нет даты рождения: цена зависит от возраста")

        def distance(row: PriceRow) -> int:
            lo, hi = row.ages or (0, 99)
            return max(lo - age, 0, age - hi)

        return min(rows, key=distance).prices[meal]

    def free_meals(
        self, *, grade: int, shift: int, categories: Iterable[str], age: int | None
    ) -> list[FreeMeal]:
        """The meals a student gets free on a day: the union of every rule that applies.

        Where two rules give the same meal, the first in the file decides the budget line; the category
        recorded is the first of the rule's categories (in the policy's order) that the student has.
        """
        cats = frozenset(categories)
        chosen: dict[Meal, FreeMeal] = {}
        for number, rule in enumerate(self.rules, start=1):
            if rule.applies(grade, shift, cats):
                category = next((c for c in self.categories if c in rule.categories and c in cats), "")
                for meal, line in rule.meals.items():
                    if meal not in chosen:
                        chosen[meal] = FreeMeal(meal, self.price(grade, age, meal), line, category,
                                                f"{self.id}#{number}")
        return [chosen[m] for m in Meal if m in chosen]

    def explain(
        self, *, day: date, grade: int, shift: int, categories: Iterable[str], birth_date: date | None
    ) -> dict[str, Any]:
        """What a coordinator answers a parent: the free meals of that day, as JSON-ready data."""
        from pos.domain import age_on

        cats = list(categories)
        unknown = [c for c in cats if c not in self.categories]
        if unknown:
            raise EligibilityError(
                f"неизвестная категория {', '.join(unknown)}; в политике есть: {', '.join(self.categories)}"
            )
        age = age_on(birth_date, day) if birth_date else None
        meals = self.free_meals(grade=grade, shift=shift, categories=cats, age=age)
        total = sum(m.price_kopecks for m in meals)
        if self.daily_cap is not None:
            total = min(total, self.daily_cap)
        return {
            "date": day.isoformat(),
            "meals": [
                {"meal": m.meal.value, "price_kopecks": m.price_kopecks, "budget_line": m.budget_line}
                for m in meals
            ],
            "total_kopecks": total,
            "cap_kopecks": self.daily_cap,
        }


# ---------------------------------------------------------------------------------------------
# Loading and validation


def shipped_policies() -> dict[str, Path]:
    """The policies that ship with the product, by file stem."""
    folder = resources.files("pos") / "policies"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file. Raises PolicyError with file, line, key and problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(path), f"не удалось прочитать файл: {exc}") from exc
    return parse_policy(text, str(path))


def parse_policy(text: str, path: str = "<policy>") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise PolicyError(path, f"ошибка синтаксиса TOML: {exc}", line=int(line[1]) if line else None) from exc
    return _Loader(text, path).load(data)


class _Loader:
    def __init__(self, text: str, path: str) -> None:
        self.lines = text.splitlines()
        self.path = path

    def line_of(self, key: str) -> int | None:
        """Line of a key path such as ``rules[3].meals`` or ``policy.daily_cap``: where its table starts."""
        m = re.match(r"([a-z_]+)(?:\[(\d+)\])?(?:\.([a-z_]+))?", key)
        if not m:
            return None
        table, index, sub = m[1], m[2], m[3]
        header = re.compile(rf"^\s*\[\[\s*{table}\s*\]\]" if index is not None else rf"^\s*\[\s*{table}\s*\]")
        seen = -1
        for number, line in enumerate(self.lines, start=1):
            if header.match(line):
                seen += 1
                if index is None or seen == int(index):
                    if sub:
                        for offset, later in enumerate(self.lines[number:], start=number + 1):
                            if re.match(r"^\s*\[", later):
                                break
                            if re.match(rf"^\s*{sub}\s*=", later):
                                return offset
                    return number
        return None

    def fail(self, key: str, problem: str) -> PolicyError:
        return PolicyError(self.path, problem, key=key, line=self.line_of(key))

    def table(self, data: Mapping[str, Any], key: str, allowed: set[str], required: set[str]) -> None:
        extra = set(data) - allowed
        if extra:
            raise self.fail(key, f"неизвестные ключи: {', '.join(sorted(extra))}")
        missing = required - set(data)
        if missing:
            raise self.fail(key, f"не хватает ключей: {', '.join(sorted(missing))}")

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "ожидается непустая строка")
        return value

    def money(self, value: Any, key: str) -> int:
        if not isinstance(value, str):
            raise self.fail(key, f"сумма пишется строкой в рублях, например \"48,58\", а не {value!r}")
        try:
            kopecks = parse_rub(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from exc
        if kopecks <= 0:
            raise self.fail(key, "сумма должна быть больше нуля")
        return kopecks

    def band(self, value: Any, key: str, lo: int, hi: int) -> tuple[int, int]:
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
        if not ok or not (lo <= value[0] <= value[1] <= hi):
            raise self.fail(key, f"ожидается [от, до] в пределах {lo}..{hi}, а не {value!r}")
        return value[0], value[1]

    def ids(self, value: Any, key: str, known: Mapping[str, str], what: str) -> frozenset[str]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"ожидается непустой список {what}")
        unknown = [v for v in value if v not in known]
        if unknown:
            raise self.fail(key, f"неизвестные {what}: {', '.join(map(str, unknown))}")
        return frozenset(value)

    def meal(self, name: str, key: str) -> Meal:
        try:
            return Meal(name)
        except ValueError:
            raise self.fail(key, f"неизвестный приём пищи «{name}»; есть: {', '.join(Meal)}") from None

    def load(self, data: dict[str, Any]) -> Policy:
        self.table(data, "", {"policy", "budget_lines", "categories", "rules", "prices", "documents",
                              "refusal_reasons"},
                   {"policy", "budget_lines", "categories", "rules", "prices"})
        head = data["policy"]
        self.table(head, "policy", {"id", "region", "school_year", "source", "daily_cap"},
                   {"id", "region", "school_year"})
        year = _YEAR.fullmatch(str(head["school_year"]))
        if not year or int(year[2]) != int(year[1]) + 1:
            raise self.fail("policy.school_year", "учебный год пишется как \"2021-2022\"")
        lines = self.named_table(data["budget_lines"], "budget_lines")
        categories = self.named_table(data["categories"], "categories")
        rules = self.rules(data["rules"], lines, categories)
        prices = self.prices(data["prices"])
        common, per_category = self.documents(data.get("documents", {}), categories)
        reasons = self.named_table(data["refusal_reasons"], "refusal_reasons") if "refusal_reasons" in data else {}
        policy = Policy(
            id=self.string(head["id"], "policy.id"),
            region=self.string(head["region"], "policy.region"),
            school_year=(int(year[1]), int(year[2])),
            budget_lines=lines,
            categories=categories,
            rules=rules,
            prices=prices,
            daily_cap=self.money(head["daily_cap"], "policy.daily_cap") if "daily_cap" in head else None,
            source=str(head.get("source", "")),
            path=self.path,
            common_documents=common,
            category_documents=per_category,
            refusal_reasons=reasons,
        )
        self.check_complete(policy)
        return policy

    def named_table(self, value: Any, key: str) -> dict[str, str]:
        if not isinstance(value, dict) or not value:
            raise self.fail(key, "ожидается непустая таблица «код = название»")
        for name, title in value.items():
            if key == "categories" and not _ID.fullmatch(name):
                raise self.fail(key, f"код категории «{name}»: латинские строчные буквы, цифры и _")
            self.string(title, f"{key}.{name}")
        return dict(value)

    def documents(self, value: Any, categories: Mapping[str, str]
                  ) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
        """``[documents]``: ``common = [...]`` for every application, ``<category> = [...]`` for one."""
        if not isinstance(value, dict):
            raise self.fail("documents", "ожидается таблица «категория = [документы]»")
        if value and COMMON_DOCUMENTS in categories:
            raise self.fail("categories", f"код «{COMMON_DOCUMENTS}» занят общим списком документов [documents]")
        lists: dict[str, tuple[str, ...]] = {}
        for name, items in value.items():
            if name != COMMON_DOCUMENTS and name not in categories:
                raise self.fail("documents", f"«{name}»: нет такой категории (и это не {COMMON_DOCUMENTS})")
            if not isinstance(items, list) or not items:
                raise self.fail(f"documents.{name}", "ожидается непустой список документов")
            lists[name] = tuple(self.string(item, f"documents.{name}") for item in items)
        return lists.pop(COMMON_DOCUMENTS, ()), lists

    def rules(self, value: Any, lines: Mapping[str, str], categories: Mapping[str, str]) -> tuple[Rule, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("rules", "нужна хотя бы одна строка [[rules]]")
        rules = []
        for i, raw in enumerate(value):
            key = f"rules[{i}]"
            self.table(raw, key, {"grades", "shifts", "categories", "except", "meals", "source"},
                       {"grades", "meals"})
            shifts = raw.get("shifts", [1, 2])
            if not isinstance(shifts, list) or not shifts or not set(shifts) <= {1, 2}:
                raise self.fail(f"{key}.shifts", f"смены — список из 1 и/или 2, а не {shifts!r}")
            cats = self.ids(raw["categories"], f"{key}.categories", categories, "категории") \
                if "categories" in raw else frozenset()
            excluded: frozenset[str] = frozenset()
            if "except" in raw:
                if cats:
                    raise self.fail(f"{key}.except", "except имеет смысл только для права по классу (без categories)")
                excluded = self.ids(raw["except"], f"{key}.except", categories, "категории")
            meals_raw = raw["meals"]
            if not isinstance(meals_raw, dict) or not meals_raw:
                raise self.fail(f"{key}.meals", "ожидается таблица «приём пищи = статья бюджета»")
            meals: dict[Meal, str] = {}
            for name, line in meals_raw.items():
                meal = self.meal(name, f"{key}.meals")
                if line not in lines:
                    raise self.fail(f"{key}.meals", f"«{name}»: неизвестная статья бюджета «{line}»")
                meals[meal] = line
            rules.append(Rule(
                grades=self.band(raw["grades"], f"{key}.grades", 1, MAX_GRADE),
                shifts=frozenset(shifts),
                categories=cats,
                excluded=excluded,
                meals=meals,
                source=str(raw.get("source", "")),
            ))
        return tuple(rules)

    def prices(self, value: Any) -> tuple[PriceRow, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("prices", "нужна хотя бы одна строка [[prices]]")
        rows = []
        for i, raw in enumerate(value):
            key = f"prices[{i}]"
            self.table(raw, key, {"grades", "ages", "daily", "source", *Meal}, {"grades"})
            prices = {Meal(m): self.money(raw[m], f"{key}.{m}") for m in Meal if m in raw}
            if not prices:
                raise self.fail(key, "в строке цен нет ни одного приёма пищи")
            if "daily" in raw:
                daily = self.money(raw["daily"], f"{key}.daily")
                total = sum(p for m, p in prices.items() if m is not Meal.MILK)
                if total != daily:
                    raise self.fail(f"{key}.daily", f"сумма цен приёмов пищи {total / 100:.2f} не равна дневной цене "
                                    f"{daily / 100:.2f}".replace(".", ","))
            ages = self.band(raw["ages"], f"{key}.ages", 0, 25) if "ages" in raw else None
            rows.append(PriceRow(self.band(raw["grades"], f"{key}.grades", 1, MAX_GRADE), ages, prices))
        if len({row.ages is None for row in rows}) > 1:
            raise self.fail("prices", "либо все строки цен с возрастом (ages), либо ни одна")
        for i, a in enumerate(rows):
            for j in range(i):
                b = rows[j]
                same_grades = a.grades[0] <= b.grades[1] and b.grades[0] <= a.grades[1]
                same_ages = a.ages is None or b.ages is None or (a.ages[0] <= b.ages[1] and b.ages[0] <= a.ages[1])
                clash = set(a.prices) & set(b.prices)
                if same_grades and same_ages and clash:
                    raise self.fail(f"prices[{i}]", f"пересекается со строкой prices[{j}] по "
                                    f"{', '.join(m.ru for m in clash)}: цена неоднозначна")
        return tuple(rows)

    def check_complete(self, policy: Policy) -> None:
        """Every meal a rule gives free must have a price for every grade and age band it covers."""
        for i, rule in enumerate(policy.rules):
            for grade in range(rule.grades[0], rule.grades[1] + 1):
                bands = {row.ages for row in policy.prices if row.covers(grade)}
                for meal in rule.meals:
                    for band in bands or {None}:
                        if not any(r.covers(grade) and r.ages == band and meal in r.prices for r in policy.prices):
                            ages = f", возраст {band[0]}–{band[1]} лет" if band else ""
                            raise self.fail(f"rules[{i}].meals",
                                            f"нет цены «{meal.ru}» для {grade} класса{ages}")
