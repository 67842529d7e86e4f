"""A demo school for trying the product: seed 002's canteen schedule with generated students.

The classes, head counts, shifts and breaks are seed 002's table («График посещения столовой»,
МБОУ «СОШ № 3» г. Назарово); the policy is the shipped Nazarovo one. Names, birth dates, cards,
categories, orders and balances are generated (deterministic for a given seed). The bell times
are not in the seed; the ones below are a typical two-shift day.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, insert, select

from drivers.card import em_marine
from pos.cards import match_keys
from pos.domain import Meal
from pos.models import (
    Base,
    Break,
    Card,
    Entitlement,
    Holiday,
    MealSlot,
    MenuPrice,
    Order,
    SchoolClass,
    Student,
)
from pos.policy import shipped_policies
from pos.settings import school_meta, write_meta

TIMEZONE = "Asia/Krasnoyarsk"

# (class, head count, breakfast break, lunch (shift, break), snack (shift, break), shift) — seed 002.
# «на 5 перемене» for shift-1 classes is break 5 of shift 1; the shift-2 inclusion classes have
# lunch «на 6 перемене» before their shift and the snack «на 2 перемене во второй смене».
# ГПД (the after-school group, 25 children of other classes) is not a class and is left out.
SEED_002_CLASSES: list[tuple[str, int, int | None, tuple[int, int] | None, tuple[int, int] | None, int]] = [
    ("1а", 24, 1, None, None, 1),
    ("1б", 23, 1, None, None, 1),
    ("4б", 15, 1, None, None, 1),
    ("6 инклюзия", 2, 1, (1, 5), None, 1),
    ("7 инклюзия", 2, 1, (1, 5), None, 1),
    ("8 инклюзия", 2, 1, (1, 5), None, 1),
    ("5 инклюзия", 1, 1, (1, 5), None, 1),
    ("4а", 24, 2, None, None, 1),
    ("5а", 23, 2, None, None, 1),
    ("5б", 23, 2, None, None, 1),
    ("10а", 18, 3, None, None, 1),
    ("11а", 19, 3, None, None, 1),
    ("8а", 22, 4, None, None, 1),
    ("9а", 20, 4, None, None, 1),
    ("9б", 19, 4, None, None, 1),
    ("1 инклюзия", 1, None, (1, 6), (2, 2), 2),
    ("2 инклюзия", 1, None, (1, 6), (2, 2), 2),
    ("3 инклюзия", 2, None, (1, 6), (2, 2), 2),
    ("4 инклюзия", 2, None, (1, 6), (2, 2), 2),
    ("2а", 16, None, (2, 1), None, 2),
    ("2б", 17, None, (2, 1), None, 2),
    ("3б", 16, None, (2, 2), None, 2),
    ("6а", 21, None, (2, 2), None, 2),
    ("3а", 24, None, (2, 2), None, 2),
    ("6б", 20, None, (2, 2), None, 2),
    ("7а", 21, None, (2, 2), None, 2),
    ("7б", 23, None, (2, 2), None, 2),
]

BELLS = {
    1: [("08:40", "09:00"), ("09:40", "10:00"), ("10:40", "11:00"), ("11:40", "11:55"), ("12:35", "12:55"),
        ("13:35", "13:50")],
    2: [("14:40", "15:00"), ("15:40", "16:00"), ("16:40", "16:55"), ("17:35", "17:45")],
}

MENU = {Meal.BREAKFAST: 7500, Meal.LUNCH: 11000, Meal.SNACK: 4500}

SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
            "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
            "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров"]
BOYS = ["Александр", "Михаил", "Максим", "Артём", "Иван", "Даниил", "Дмитрий", "Кирилл", "Андрей", "Егор"]
GIRLS = ["Анна", "Мария", "Софья", "Алиса", "Виктория", "Полина", "Елизавета", "Дарья", "Варвара", "Ксения"]
DIETS = ["Аллергия: орехи", "Без глютена", "Аллергия: молоко (лактоза)", "Аллергия: цитрусовые"]
BENEFITS = ["low_income", "large_family", "single_parent", "social_danger"]


def grade_of(class_name: str) -> int:
    m = re.match(r"\d+", class_name)
    if not m:
        raise ValueError(f"в названии класса нет номера: {class_name!r}")
    return int(m[0])


def next_school_day(day: date) -> date:
    """The demo school works six days a week (seed 002, п. 3.3)."""
    while day.isoweekday() == 7:
        day += timedelta(days=1)
    return day


def demo_policy(first_year: int) -> Path:
    """The shipped Nazarovo policy of the school year starting in `first_year` (nazarovo-2026, the example
    for 2026/27), else the latest one before it: the demo does not serve a year by another year's policy
    where the product ships the right one."""
    shipped = {int(name.rsplit("-", 1)[1]): path for name, path in shipped_policies().items()
               if name.startswith("nazarovo-")}
    return shipped[max((y for y in shipped if y <= first_year), default=min(shipped))]


@dataclass(frozen=True)
class DemoSchool:
    day: date
    students: int
    cards: int


def build(engine: Engine, *, day: date, seed: int = 2021, terminal_id: str = "DEMO-1") -> DemoSchool:
    """Fill an empty store with the demo school, orders and prices for `day` and the next days."""
    rng = random.Random(seed)
    year_start = date(day.year if day.month >= 9 else day.year - 1, 9, 1)
    policy_text = demo_policy(year_start.year).read_text(encoding="utf-8")
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in {"events", "outbox"}:
                conn.execute(delete(table))
        write_meta(conn, {
            "terminal_id": terminal_id, "demo": "1",
            **school_meta(school_id="nazarovo-3", school_name="МБОУ «СОШ № 3» г. Назарово", timezone=TIMEZONE,
                          week_days={1, 2, 3, 4, 5, 6}, policy_text=policy_text),
        })
        for shift, bells in BELLS.items():
            conn.execute(insert(Break), [
                {"shift": shift, "number": n, "starts": s, "ends": e} for n, (s, e) in enumerate(bells, 1)])
        conn.execute(insert(Holiday), [{"day": date(day.year, 12, 31), "reason": "Новогодние каникулы"}])
        days = [day + timedelta(days=i) for i in range(3)]
        conn.execute(insert(MenuPrice), [
            {"day": d, "meal": m.value, "price_kopecks": p} for d in days for m, p in MENU.items()])
        n_students = n_cards = 0
        for index, (name, count, breakfast, lunch, snack, shift) in enumerate(SEED_002_CLASSES):
            class_id = f"c{index + 1:02d}"
            grade = grade_of(name)
            conn.execute(insert(SchoolClass).values(id=class_id, name=name, grade=grade, shift=shift))
            slots: list[tuple[Meal, int, int]] = []
            if breakfast:
                slots.append((Meal.BREAKFAST, shift, breakfast))
            if lunch:
                slots.append((Meal.LUNCH, *lunch))
            if snack:
                slots.append((Meal.SNACK, *snack))
            conn.execute(insert(MealSlot), [
                {"class_id": class_id, "meal": m.value, "shift": s, "break_no": b} for m, s, b in slots])
            for k in range(count):
                n_students += 1
                n_cards += _student(conn, rng, f"s{n_students:05d}", class_id, name, grade, k, slots, days,
                                    year_start)
    return DemoSchool(day=day, students=n_students, cards=n_cards)


def _student(conn: Connection, rng: random.Random, student_id: str, class_id: str, class_name: str, grade: int,
             k: int, slots: list[tuple[Meal, int, int]], days: list[date], year_start: date) -> int:
    girl = rng.random() < 0.5
    surname = rng.choice(SURNAMES) + ("а" if girl else "")
    first = rng.choice(GIRLS if girl else BOYS)
    born = date(year_start.year - 6 - grade, 1, 1) + timedelta(days=rng.randrange(365))
    conn.execute(insert(Student).values(
        id=student_id, full_name=f"{surname} {first}", class_id=class_id,
        birth_date=None if (grade == 9 and k == 3) else born,
        diet_note=rng.choice(DIETS) if rng.random() < 0.06 else "",
        daily_limit_kopecks=15000 if rng.random() < 0.1 else None,
        balance_kopecks=rng.choice([0, 5000, 20000, 50000, 150000]),
    ))
    categories: list[str] = []
    if "инклюзия" in class_name:
        categories.append("ovz")
    elif rng.random() < 0.15:
        categories.append(rng.choice(BENEFITS))
        if rng.random() < 0.2:
            categories.append("transported")
    for n, category in enumerate(categories):
        expired = class_name == "5а" and k == 0
        conn.execute(insert(Entitlement).values(
            id=f"{student_id}-e{n}", student_id=student_id, category=category,
            starts=year_start + timedelta(days=1),
            ends=(days[0] - timedelta(days=7)) if expired else date(year_start.year + 1, 5, 31),
        ))
    uid = em_marine(f"{rng.getrandbits(40):010X}")
    key32, key24 = match_keys(uid)
    conn.execute(insert(Card).values(uid=uid, student_id=student_id, key32=key32, key24=key24))
    cards = 1
    if rng.random() < 0.03:
        old = em_marine(f"{rng.getrandbits(40):010X}")
        o32, o24 = match_keys(old)
        conn.execute(insert(Card).values(uid=old, student_id=student_id, key32=o32, key24=o24, blocked=True,
                                         blocked_reason="утеряна, выдана новая"))
        cards += 1
    ordered = bool(categories) or grade <= 4 or rng.random() < 0.7
    if ordered and not (class_name == "1б" and k == 5):
        conn.execute(insert(Order), [
            {"student_id": student_id, "day": d, "meal": m.value} for d in days for m, _, _ in slots])
    return cards


def break_queue(engine: Engine, *, shift: int, break_no: int) -> list[tuple[str, str, str]]:
    """(card uid, student name, class name) of every student expected at a break, class by class."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Card.uid, Student.full_name, SchoolClass.name)
            .join(Student, Student.id == Card.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .join(MealSlot, MealSlot.class_id == SchoolClass.id)
            .where(MealSlot.shift == shift, MealSlot.break_no == break_no, Card.blocked.is_(False))
            .order_by(SchoolClass.id, Student.id)).all()
    return [(r.uid, r.full_name, r.name) for r in rows]


def breakfast_script(engine: Engine, day: date) -> Iterator[tuple[datetime, str]]:
    """A simulated first breakfast break: (local time, card text) taps, with the usual mishaps."""
    queue = break_queue(engine, shift=1, break_no=1)
    at = datetime.combine(day, time(8, 40, 5))
    for i, (uid, _, _) in enumerate(queue):
        yield at, uid
        if i == 3:
            yield at + timedelta(seconds=1), uid  # the card bounced on the reader: one tap
        if i == 10:
            yield at + timedelta(seconds=2), "EM:00DEADBEEF"  # a card nobody registered
        if i == 20:
            yield at + timedelta(seconds=3), "Em-Mar"  # a garbled read
        at += timedelta(seconds=7)
    with engine.connect() as conn:
        late = conn.execute(
            select(Card.uid).join(Student, Student.id == Card.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .where(SchoolClass.name == "5а", Card.blocked.is_(False)).order_by(Student.id).limit(2)).scalars().all()
    for uid in late:  # two pupils of 5а come at the first break instead of the second
        at += timedelta(seconds=9)
        yield at, uid
    if queue:
        yield at + timedelta(seconds=30), queue[0][0]  # back for seconds


def is_demo_store(path: Path) -> bool:
    """Whether the file is a store this module built (so the demo may rebuild it)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
    except sqlite3.Error:
        return False
    return bool(row and row[0] == "1")


def default_db() -> Path:
    return Path("var") / "demo.db"
