"""The office's demo: the terminal's demo school (`pos.demo`, seed 002's schedule) on the server, a
breakfast break served through the real counter and pushed through the server's ingest, and one demo
user per role; `python -m server.office.demo` (``make office``) serves it on an embedded SQLite database.

The school's data travels the way a school's would: the terminal demo builds its store, whose rows
go through the server's import (`server.importer.import_rows`) and whose served events go through
`server.ingest`.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, insert, select

from pos import demo as school
from pos import models as pm
from pos.calendar import Calendar
from pos.settings import parse_week_days, read_meta
from server.accounts import Principal, add_school, enroll_terminal
from server.calendar import load_calendar
from server.importer import import_rows
from server.ingest import ingest
from server.models import Card, ClassOrder, SchoolClass, StandingOrder, Student
from server.office.roles import Grant, Role, Scope
from server.office.users import add_user
from sync.wire import event_to_wire

SCHOOL_ID = "nazarovo-3"
TEACHER_CLASS = "1а"
UNSUBMITTED_CLASS = "3б"  # the one class whose order for the serving day is not submitted


@dataclass(frozen=True)
class DemoLogin:
    login: str
    password: str
    role: Role
    note: str = ""


LOGINS = (
    DemoLogin("admin", "demo-admin", Role.SCHOOL_ADMIN),
    DemoLogin("pitanie", "demo-pitanie", Role.COORDINATOR),
    DemoLogin("uchitel", "demo-uchitel", Role.TEACHER, f"класс {TEACHER_CLASS}"),
    DemoLogin("stolovaya", "demo-stolovaya", Role.CANTEEN),
    DemoLogin("roditel", "demo-roditel", Role.PARENT, f"ребёнок из класса {TEACHER_CLASS.upper()}"),
    DemoLogin("uo", "demo-uo-1", Role.DISTRICT),
)
DISTRICT_ID = "nazarovo"
NAMES = {Role.SCHOOL_ADMIN: "Смирнова Ольга Петровна", Role.COORDINATOR: "Кузнецова Ирина Викторовна",
         Role.TEACHER: "Орлова Анна Сергеевна", Role.CANTEEN: "Лебедева Галина Ивановна",
         Role.PARENT: "Родитель (демо)",
         Role.DISTRICT: "Белова Наталья Юрьевна"}


def build(engine: Engine, *, day: date | None = None, serve: bool = True) -> date:
    """Fill an empty, migrated server database with the demo school; returns the serving day."""
    tz = ZoneInfo(school.TIMEZONE)
    day = school.next_school_day(day or datetime.now(tz).date())
    with tempfile.TemporaryDirectory() as tmp:
        from pos.store import make_engine

        store = make_engine(Path(tmp) / "terminal.db")
        try:
            with engine.begin() as conn:
                _school(conn, store, day)
                _menu(conn, day)
                terminal_id, _token = enroll_terminal(conn, SCHOOL_ID, name="окно 1")
            if serve:
                _serve(engine, store, terminal_id, day)
        finally:
            store.dispose()
    with engine.begin() as conn:
        _calendar(conn, day)
        from server import district

        district.add(conn, "demo", DISTRICT_ID, "Управление образования администрации г. Назарово")
        district.attach(conn, "demo", DISTRICT_ID, [SCHOOL_ID])
        for demo in LOGINS:
            scope = (Grant(demo.role, Scope.CLASS, SCHOOL_ID, school_class_id(TEACHER_CLASS))
                     if demo.role is Role.TEACHER else demo_child(conn) if demo.role is Role.PARENT
                     else Grant(demo.role, Scope.DISTRICT, None, DISTRICT_ID) if demo.role is Role.DISTRICT
                     else Grant(demo.role, Scope.SCHOOL, SCHOOL_ID))
            add_user(conn, demo.login, name=NAMES[demo.role], password=demo.password, grants=[scope])
    return day


def demo_child(conn: Connection) -> Grant:
    """The demo parent's child: the first student of the teacher's class with a card."""
    student_id = conn.execute(select(Student.id).join(Card, (Card.school_id == Student.school_id)
                                                      & (Card.student_id == Student.id)).where(
        Student.school_id == SCHOOL_ID, Student.class_id == school_class_id(TEACHER_CLASS),
        Card.blocked.is_(False)).order_by(Student.full_name, Student.id)).scalars().first()
    assert student_id is not None
    return Grant(Role.PARENT, Scope.STUDENT, SCHOOL_ID, student_id)


def school_class_id(name: str) -> str:
    from server.importer import class_id_of

    return class_id_of(name)


def _school(conn: Connection, store: Engine, day: date) -> None:
    school.build(store, day=day)
    with store.connect() as t:
        meta = read_meta(t)
        add_school(conn, school_id=SCHOOL_ID, name=meta["school_name"], timezone=meta["timezone"],
                   policy_text=meta["policy"], week_days=meta["week_days"])
        classes = {c.id: c for c in t.execute(select(pm.SchoolClass))}
        rows = {
            "breaks": [{"shift": b.shift, "number": b.number, "starts": b.starts, "ends": b.ends}
                       for b in t.execute(select(pm.Break))],
            "students": [{"student_id": s.id, "full_name": s.full_name, "class": classes[s.class_id].name,
                          "shift": classes[s.class_id].shift, "birth_date": s.birth_date, "diet_note": s.diet_note,
                          "daily_limit": None if s.daily_limit_kopecks is None else s.daily_limit_kopecks / 100}
                         for s in t.execute(select(pm.Student))],
            "meal_slots": [{"class": classes[m.class_id].name, "meal": m.meal, "shift": m.shift,
                            "break_no": m.break_no} for m in t.execute(select(pm.MealSlot))],
            "cards": [{"card": c.uid, "student_id": c.student_id, "blocked": c.blocked,
                       "blocked_reason": c.blocked_reason} for c in t.execute(select(pm.Card))],
            "benefits": [{"student_id": e.student_id, "category": e.category, "order_no": "1-демо",
                          "order_date": e.starts, "starts": e.starts, "ends": e.ends}
                         for e in t.execute(select(pm.Entitlement))],
            "prices": [{"day": p.day, "meal": p.meal, "price": p.price_kopecks / 100}
                       for p in t.execute(select(pm.MenuPrice))],
            "holidays": [{"day": h.day, "reason": h.reason} for h in t.execute(select(pm.Holiday))],
        }
        orders: dict[tuple[str, date], list[str]] = {}
        for o in t.execute(select(pm.Order)):
            orders.setdefault((o.student_id, o.day), []).append(o.meal)
        calendar = Calendar(week_days=parse_week_days(meta["week_days"]),
                            holidays={h["day"]: h["reason"] for h in rows["holidays"]})
        rows["orders"] = [{"student_id": s, "day": d, "meals": ",".join(m)} for (s, d), m in orders.items()
                          if calendar.is_school_day(d)]  # the import refuses orders for days without lessons
    for kind in ("breaks", "students", "meal_slots", "cards", "benefits", "prices", "holidays", "orders"):
        import_rows(conn, SCHOOL_ID, kind, rows[kind], today=day)
    _class_orders(conn, day)


def _class_orders(conn: Connection, day: date) -> None:
    """The serving day's orders submitted by every class but one, and two students' standing paid lunches."""
    classes = conn.execute(select(SchoolClass.id).where(SchoolClass.school_id == SCHOOL_ID)).scalars().all()
    at = datetime.combine(day, datetime.min.time()).replace(hour=1, minute=30)  # 08:30 in Krasnoyarsk
    conn.execute(insert(ClassOrder), [
        {"school_id": SCHOOL_ID, "class_id": c, "day": day, "submitted_by": "uchitel" if c == school_class_id(
            TEACHER_CLASS) else "pitanie", "submitted_at": at}
        for c in classes if c != school_class_id(UNSUBMITTED_CLASS)])
    pupils = conn.execute(select(Student.id).where(Student.school_id == SCHOOL_ID, Student.class_id == school_class_id(
        TEACHER_CLASS)).order_by(Student.full_name).limit(2)).scalars().all()
    conn.execute(insert(StandingOrder), [{"school_id": SCHOOL_ID, "student_id": sid, "weekday": w, "meal": "lunch"}
                                         for sid in pupils for w in (1, 3, 5)])


# A week of menus for both age groups (`server.office.menu`), three days in turn. A dish: section, recipe,
# name, yields (7–11, 12+) in grams, price in roubles, kcal/proteins/fats/carbs of the 7–11 portion (the
# 12+ portion's grow with its yield), allergens. Each meal costs what the terminal demo's price list says
# (pos.demo.MENU: breakfast 75 ₽, lunch 110 ₽) for both groups: older students get larger portions.
_BREAKFASTS = (
    (("гор.блюдо", "174", "Каша молочная рисовая с маслом", 200, 250, 38, 240, 6.1, 7.9, 36.2, "молоко"),
     ("гор.напиток", "376", "Чай с сахаром", 200, 200, 6, 60, 0.2, 0, 15, ""),
     ("бутерброд", "3", "Бутерброд с сыром", 45, 60, 21, 150, 6.4, 7.6, 14.6, "молоко, глютен"),
     ("фрукты", "338", "Яблоко", 100, 100, 10, 47, 0.4, 0.4, 9.8, "")),
    (("гор.блюдо", "210", "Омлет натуральный", 150, 180, 40, 250, 13.9, 20.6, 2.7, "яйцо, молоко"),
     ("гор.напиток", "382", "Какао с молоком", 200, 200, 14, 145, 3.8, 3.5, 24.5, "молоко"),
     ("хлеб", "", "Хлеб пшеничный", 30, 40, 4, 70, 2.3, 0.2, 14.8, "глютен"),
     ("фрукты", "338", "Груша", 100, 100, 17, 47, 0.4, 0.3, 10.3, "")),
    (("гор.блюдо", "223", "Запеканка из творога со сгущённым молоком", 150, 200, 48, 330, 20.5, 13.4, 31.2,
      "молоко, яйцо, глютен"),
     ("гор.напиток", "377", "Чай с лимоном", 200, 200, 7, 62, 0.3, 0, 15.2, ""),
     ("хлеб", "", "Батон нарезной", 30, 40, 4, 78, 2.3, 0.9, 15.4, "глютен"),
     ("фрукты", "338", "Банан", 100, 100, 16, 96, 1.5, 0.5, 21, "")),
)
_LUNCHES = (
    (("закуска", "52", "Салат из свёклы с растительным маслом", 60, 100, 9, 55, 0.9, 3.6, 5.0, ""),
     ("1 блюдо", "88", "Щи из свежей капусты со сметаной", 200, 250, 22, 88, 1.6, 5.4, 8.0, "молоко, сельдерей"),
     ("2 блюдо", "268", "Котлета мясная", 90, 100, 43, 210, 12.4, 14.2, 8.8, "глютен, яйцо"),
     ("гарнир", "312", "Пюре картофельное", 150, 180, 20, 138, 3.1, 5.3, 19.8, "молоко"),
     ("напиток", "349", "Компот из сухофруктов", 200, 200, 8, 113, 0.6, 0, 27.3, ""),
     ("хлеб черн.", "", "Хлеб ржаной", 40, 50, 4, 79, 2.6, 0.5, 16.7, "глютен"),
     ("хлеб бел.", "", "Хлеб пшеничный", 30, 40, 4, 70, 2.3, 0.2, 14.8, "глютен")),
    (("закуска", "71", "Огурец свежий", 60, 100, 12, 8, 0.5, 0.1, 1.5, ""),
     ("1 блюдо", "102", "Суп гороховый", 200, 250, 24, 119, 4.4, 4.2, 13.2, "сельдерей"),
     ("2 блюдо", "291", "Плов из птицы", 200, 240, 58, 346, 17.8, 16.3, 31.6, ""),
     ("напиток", "358", "Кисель", 200, 200, 8, 116, 0.1, 0, 28.8, ""),
     ("хлеб черн.", "", "Хлеб ржаной", 40, 50, 4, 79, 2.6, 0.5, 16.7, "глютен"),
     ("хлеб бел.", "", "Хлеб пшеничный", 30, 40, 4, 70, 2.3, 0.2, 14.8, "глютен")),
    (("закуска", "67", "Винегрет овощной", 60, 100, 12, 76, 0.8, 6.1, 4.5, ""),
     ("1 блюдо", "82", "Борщ со сметаной", 200, 250, 24, 92, 1.7, 5.0, 9.7, "молоко, сельдерей"),
     ("2 блюдо", "229", "Рыба, запечённая в омлете", 90, 100, 40, 160, 14.9, 9.6, 2.9, "рыба, яйцо, молоко"),
     ("гарнир", "304", "Рис отварной", 150, 180, 18, 209, 3.7, 5.4, 36.7, ""),
     ("напиток", "389", "Сок фруктовый", 200, 200, 8, 92, 1.0, 0.2, 20.2, ""),
     ("хлеб черн.", "", "Хлеб ржаной", 40, 50, 4, 79, 2.6, 0.5, 16.7, "глютен"),
     ("хлеб бел.", "", "Хлеб пшеничный", 30, 40, 4, 70, 2.3, 0.2, 14.8, "глютен")),
)


def _menu(conn: Connection, day: date, days: int = 6) -> None:
    from datetime import timedelta

    from pos.domain import AGE_OLDER, AGE_YOUNGER
    from server.office.menu import DishRow, replace_day

    for n in range(days):
        dishes = []
        for group in (AGE_YOUNGER, AGE_OLDER):
            for meal, menus in (("breakfast", _BREAKFASTS), ("lunch", _LUNCHES)):
                for section, recipe, name, young, old, rub, kcal, p, f, c, allergens in menus[n % 3]:
                    k = 1 if group == AGE_YOUNGER else old / young
                    energy, proteins, fats, carbs = (round(round(v * k, 1) * 100) for v in (kcal, p, f, c))
                    dishes.append(DishRow(meal, group, name, section, recipe, (young if k == 1 else old) * 100,
                                          rub * 100, energy, proteins, fats, carbs, allergens))
        replace_day(conn, "demo", SCHOOL_ID, day, dishes, today=day)
        day = school.next_school_day(day + timedelta(days=1))


# The calendar of the school year `day` falls in (2026/27 by the seeds: 01.09–31.05, holidays and vacations),
# and one class's excursion next week; the serving day itself stays a school day.
EXCURSION_CLASS, EXCURSION = "2б", "Экскурсия в краеведческий музей"


def calendar_of(first_year: int) -> tuple[date, date, list[tuple[date, date, str]]]:
    y, n = first_year, first_year + 1
    return date(y, 9, 1), date(n, 5, 31), [
        (date(y, 11, 4), date(y, 11, 4), "День народного единства"),
        (date(y, 12, 31), date(n, 1, 11), "Зимние каникулы"),
        (date(n, 2, 23), date(n, 2, 23), "День защитника Отечества"),
        (date(n, 3, 8), date(n, 3, 8), "Международный женский день"),
        (date(n, 3, 23), date(n, 3, 31), "Весенние каникулы"),
    ]


def _calendar(conn: Connection, day: date) -> None:
    from datetime import timedelta

    from server.office import calendar as cal

    first, last, holidays = calendar_of(day.year if day.month >= 7 else day.year - 1)
    cal.set_settings(conn, "demo", SCHOOL_ID, year_starts=first, year_ends=last)
    for start, end, reason in holidays:
        if not start <= day <= end:  # the demo serves `day`: it stays a school day
            cal.add_holidays(conn, "demo", SCHOOL_ID, start, end, reason)
    wednesday = day + timedelta(days=7 - day.weekday() + 2)
    if first <= wednesday <= last and load_calendar(conn, SCHOOL_ID, wednesday, wednesday).is_school_day(wednesday):
        cal.add_days_off(conn, "pitanie", SCHOOL_ID, school_class_id(EXCURSION_CLASS), wednesday, wednesday, EXCURSION)


def _serve(engine: Engine, store: Engine, terminal_id: str, day: date) -> None:
    """The first breakfast break served at the demo terminal, pushed to the server."""
    from pos.counter import Counter
    from pos.settings import write_meta

    with store.begin() as t:
        write_meta(t, {"terminal_id": terminal_id})
    counter = Counter(store)
    tz = ZoneInfo(school.TIMEZONE)
    for at, card in school.breakfast_script(store, day):
        counter.tap_text(card, reader_id="demo", now=at.replace(tzinfo=tz).astimezone(UTC))
    with store.connect() as t:
        events = [event_to_wire(dict(r._mapping)) for r in t.execute(select(pm.Event.__table__))]
    with engine.begin() as conn:
        ingest(conn, Principal("terminal", terminal_id, SCHOOL_ID), events, stale_hours=1e6)


def main() -> None:
    """Serve the demo office on 127.0.0.1 (`make office`)."""
    import os

    from werkzeug.serving import run_simple

    from server.app import create_app
    from server.migrate import upgrade

    port = int(os.environ.get("PORT", "8080"))
    path = Path("var") / "office-demo.db"
    path.parent.mkdir(exist_ok=True)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    app = create_app({"database_url": url})
    from server.app import state

    day = build(state(app).engine)
    print(f"Школьный офис (демо): http://127.0.0.1:{port}/   день раздачи {day:%d.%m.%Y}, база {path}")
    for demo in LOGINS:
        note = f" ({demo.note})" if demo.note else ""
        print(f"  {demo.role.ru + note:40} логин {demo.login:10} пароль {demo.password}")
    sys.stdout.flush()
    run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
