"""The class's order (server.office.orders): defaults, «как в прошлый раз», warnings, submitting, the
deadline in the school's time zone (five- and six-day weeks, the day before a holiday), the coordinator's
late amendment, and past days / days without lessons refused — also by the file import."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, insert, select, update

from server.importer import ImportFailed, import_rows
from server.models import (
    Absence,
    ClassDayOff,
    ClassOrder,
    Holiday,
    KitchenSending,
    MenuPrice,
    Order,
    OrderChange,
    School,
    StandingOrder,
    Student,
    Tombstone,
)
from server.office import orders
from server.office.changes import OfficeError
from tests.server.kit import seed_school

TZ = ZoneInfo("Asia/Krasnoyarsk")
FRI, SAT, SUN, MON, TUE, WED = (date(2026, 12, d) for d in (4, 5, 6, 7, 8, 9))


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ)


EARLY = at(date(2026, 12, 3), 12, 0)  # Thursday noon: every day below is still open


def school(engine: Engine, week_days: str = "1,2,3,4,5") -> None:
    """sch1 with a school week, prices for the days of the tests and no orders of the seed."""
    seed_school(engine)
    with engine.begin() as conn:
        conn.execute(update(School).where(School.id == "sch1").values(week_days=week_days))
        conn.execute(delete(Order).where(Order.school_id == "sch1"))
        conn.execute(delete(MenuPrice).where(MenuPrice.school_id == "sch1"))
        conn.execute(insert(MenuPrice), [{"school_id": "sch1", "day": d, "meal": m, "price_kopecks": p, "rev": 0}
                                         for d in (FRI, SAT, MON, TUE, WED)
                                         for m, p in (("breakfast", 7500), ("lunch", 11000))])


def ordered(engine: Engine, day: date) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        return set(conn.execute(select(Order.student_id, Order.meal).where(
            Order.school_id == "sch1", Order.day == day)).tuples())


def submit(engine: Engine, class_id: str, day: date, choices: dict[str, tuple[str, ...] | None], *,
           now: datetime = EARLY, may_amend: bool = False, reason: str = "", actor: str = "teacher") -> Any:
    """`None` for a student: «не придёт»."""
    with engine.begin() as conn:
        return orders.submit(conn, actor, "sch1", class_id, day, {
            sid: orders.Choice(frozenset(meals or ()), absent=meals is None) for sid, meals in choices.items()},
            now=now, may_amend=may_amend, reason=reason)


def sheet(engine: Engine, class_id: str, day: date, now: datetime = EARLY, **kw: Any) -> orders.Sheet:
    with engine.connect() as conn:
        return orders.sheet(conn, "sch1", class_id, day, now=now, **kw)


def test_a_new_sheet_ticks_free_meals_and_the_standing_choice(engine: Engine) -> None:
    school(engine)
    with engine.begin() as conn:
        conn.execute(insert(StandingOrder).values(school_id="sch1", student_id="s2", weekday=1, meal="lunch"))
        conn.execute(update(Student).where(Student.id == "s6").values(diet_note="без сахара",
                                                                      daily_limit_kopecks=10000))
    s = sheet(engine, "1а", MON)
    rows = {r.student_id: r for r in s.rows}
    assert s.source == "defaults" and s.class_name == "1А" and not s.locked
    assert [r.full_name for r in s.rows] == ["Волков Олег", "Иванов Иван", "Петрова Анна"]
    assert rows["s1"].meals == ["breakfast"] and "breakfast" in rows["s1"].free  # grade 1: breakfast free
    assert rows["s2"].meals == ["breakfast", "lunch"] and rows["s2"].standing == ["lunch"]
    assert rows["s2"].prices == {"lunch": 11000} and rows["s2"].paid_kopecks == 11000
    assert rows["s6"].diet_note == "без сахара" and rows["s6"].daily_limit_kopecks == 10000
    assert sheet(engine, "1а", TUE).rows[2].meals == ["breakfast"]  # the standing lunch is Mondays only
    assert s.totals == {"free": 3, "paid": 1, "paid_kopecks": 11000, "absent": 0}
    assert s.deadline == at(FRI, 10, 0) and s.meals == ["breakfast", "lunch"]
    benefit = {r.student_id: r for r in sheet(engine, "5а", MON).rows}["s3"]
    assert benefit.categories == ["low_income"] and benefit.category_titles and benefit.meals == ["breakfast"]
    assert {r.student_id: r.meals for r in sheet(engine, "5а", MON).rows}["s4"] == []  # pays: nothing by default


def test_submit_writes_orders_absences_the_class_order_and_each_change(engine: Engine) -> None:
    school(engine)
    with engine.connect() as conn:
        rev0 = conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one()
    done = submit(engine, "1а", MON, {"s1": ("breakfast",), "s2": ("breakfast", "lunch"), "s6": None})
    assert (done.added, done.removed, done.absent, done.late, done.after_sent) == (3, 0, 1, False, False)
    assert ordered(engine, MON) == {("s1", "breakfast"), ("s2", "breakfast"), ("s2", "lunch")}
    with engine.connect() as conn:
        rev = conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one()
        assert rev > rev0
        assert set(conn.execute(select(Order.rev).where(Order.day == MON)).scalars()) == {rev}  # terminals pull it
        assert conn.execute(select(Absence.student_id).where(Absence.day == MON)).scalars().all() == ["s6"]
        co = conn.execute(select(ClassOrder)).one()
        assert (co.class_id, co.day, co.submitted_by) == ("1а", MON, "teacher")
    s = sheet(engine, "1а", MON)
    assert s.source == "submitted" and {r.student_id: r.absent for r in s.rows} == {"s1": False, "s2": False,
                                                                                    "s6": True}
    # a second submission: s2's lunch removed (a tombstone), s6 present again with breakfast
    done = submit(engine, "1а", MON, {"s2": ("breakfast",), "s6": ("breakfast",)})
    assert (done.added, done.removed, done.absent) == (1, 1, 1)
    assert ordered(engine, MON) == {("s1", "breakfast"), ("s2", "breakfast"), ("s6", "breakfast")}
    with engine.connect() as conn:
        assert conn.execute(select(Tombstone.key).where(Tombstone.table == "orders")).scalars().all() == [
            '["s2", "2026-12-07", "lunch"]']
        assert conn.execute(select(Absence)).first() is None
        changes = conn.execute(select(OrderChange.student_id, OrderChange.meal, OrderChange.action, OrderChange.late)
                               .order_by(OrderChange.id)).tuples().all()
    assert changes == [("s1", "breakfast", "add", False), ("s2", "breakfast", "add", False),
                       ("s2", "lunch", "add", False), ("s6", "", "absent", False),
                       ("s6", "breakfast", "add", False), ("s2", "lunch", "remove", False),
                       ("s6", "", "present", False)]


def test_an_absent_student_gets_no_orders_whatever_is_ticked(engine: Engine) -> None:
    school(engine)
    with engine.begin() as conn:
        orders.submit(conn, "teacher", "sch1", "1а", MON, {"s1": orders.Choice(frozenset({"breakfast"}), absent=True)},
                      now=EARLY, may_amend=False)
    assert ordered(engine, MON) == set()


def test_as_last_time_copies_the_last_submitted_day_of_students_still_there(engine: Engine) -> None:
    school(engine)
    submit(engine, "1а", MON, {"s1": None, "s2": ("breakfast", "lunch"), "s6": ()})
    s = sheet(engine, "1а", TUE, like_last=True)
    assert s.source == "last" and s.last_day == MON
    assert {r.student_id: r.meals for r in s.rows} == {"s1": ["breakfast"],  # absent last time: the defaults
                                                       "s2": ["breakfast", "lunch"], "s6": []}
    assert sheet(engine, "1а", TUE).source == "defaults"


def test_warnings_for_the_balance_with_other_days_the_daily_limit_and_the_diet(engine: Engine) -> None:
    school(engine)
    with engine.begin() as conn:
        conn.execute(update(Student).where(Student.id == "s4").values(balance_kopecks=20000,
                                                                      daily_limit_kopecks=15000))
    submit(engine, "5а", TUE, {"s4": ("breakfast",)})  # 75 ₽ another day, not served yet
    s4 = {r.student_id: r for r in sheet(engine, "5а", MON, choices={
        "s4": orders.Choice(frozenset({"breakfast", "lunch"}))}).rows}["s4"]
    assert s4.paid_kopecks == 18500
    assert s4.warnings == ["Не хватает денег на счёте: на счёте 200,00 ₽, платно 185,00 ₽ "
                           "(и на другие дни 75,00 ₽)",
                           "Сверх дневного лимита родителей 150,00 ₽: платно 185,00 ₽"]
    fine = {r.student_id: r for r in sheet(engine, "5а", MON, choices={
        "s4": orders.Choice(frozenset({"lunch"}))}).rows}["s4"]
    assert fine.warnings == []


def test_a_dish_clashing_with_the_diet_note_is_warned_of() -> None:
    dishes = {"breakfast": [("Каша молочная рисовая", "молоко, глютен"), ("Чай", "")],
              "lunch": [("Суп куриный", "сельдерей")]}
    clash = orders.diet_clashes("Аллергия на молоко", ["breakfast", "lunch"], dishes)
    assert clash == ["Особенности питания «Аллергия на молоко»: в блюде «Каша молочная рисовая» (завтрак) — "
                     "молоко, молочная"]
    assert orders.diet_clashes("Аллергия на молоко", ["lunch"], dishes) == []  # breakfast not ordered
    assert orders.diet_clashes("без орехов", ["breakfast", "lunch"], dishes) == []
    assert orders.diet_clashes("", ["breakfast"], dishes) == []
    row = orders.Row("s1", "Иванов Иван", [], [], {}, 0, {"breakfast": 7500}, 10000, None, "аллергия на молоко",
                     False, ["breakfast"], [])
    assert orders.warnings_for(row, 0, dishes)[0].startswith("Особенности питания")


@pytest.mark.parametrize(("week_days", "day", "due"), [
    ("1,2,3,4,5", MON, FRI),  # Friday's order covers Monday in a five-day week
    ("1,2,3,4,5,6", MON, SAT),  # in a six-day week Saturday's does
    ("1,2,3,4,5,6", SAT, FRI),
])
def test_the_deadline_is_10_00_school_time_of_the_school_day_before(engine: Engine, week_days: str, day: date,
                                                                    due: date) -> None:
    school(engine, week_days)
    submit(engine, "1а", day, {"s1": ("breakfast",)}, now=at(due, 9, 59))
    assert ordered(engine, day) == {("s1", "breakfast")}
    assert not sheet(engine, "1а", day, now=at(due, 9, 59)).locked
    assert sheet(engine, "1а", day, now=at(due, 10, 1)).locked
    with pytest.raises(orders.Locked) as locked:
        submit(engine, "1а", day, {"s1": ()}, now=at(due, 10, 1))
    assert str(locked.value).startswith(
        f"Приём заявок на {day:%d.%m.%Y} закрыт в 10:00 {due:%d.%m.%Y} (время школы)")
    assert ordered(engine, day) == {("s1", "breakfast")}  # nothing changed


def test_on_friday_after_ten_a_six_day_school_still_orders_monday(engine: Engine) -> None:
    school(engine, "1,2,3,4,5,6")
    submit(engine, "1а", MON, {"s1": ("breakfast",)}, now=at(FRI, 10, 1))
    assert ordered(engine, MON) == {("s1", "breakfast")}


def test_the_order_after_a_holiday_is_due_the_day_before_the_holiday(engine: Engine) -> None:
    school(engine)
    with engine.begin() as conn:
        conn.execute(insert(Holiday).values(school_id="sch1", day=TUE, reason="праздник", rev=0))
    with engine.connect() as conn:
        assert orders.class_context(conn, "sch1", "1а", WED)[3] == at(MON, 10, 0)
    submit(engine, "1а", WED, {"s1": ("breakfast",)}, now=at(MON, 9, 59))
    with pytest.raises(orders.Locked, match=re.escape("Приём заявок на 09.12.2026 закрыт в 10:00 07.12.2026")):
        submit(engine, "1а", WED, {"s1": ()}, now=at(MON, 10, 1))
    with pytest.raises(OfficeError, match=re.escape("08.12.2026 — не учебный день: праздник")):
        submit(engine, "1а", TUE, {"s1": ("breakfast",)}, now=at(MON, 9, 0))


def test_the_coordinator_amends_after_the_deadline_only_with_a_reason(engine: Engine) -> None:
    school(engine)
    submit(engine, "1а", MON, {"s1": ("breakfast",), "s2": None})
    late = at(FRI, 10, 1)
    with pytest.raises(OfficeError, match="укажите причину изменения"):
        submit(engine, "1а", MON, {"s2": ("breakfast",)}, now=late, may_amend=True, reason="  ")
    done = submit(engine, "1а", MON, {"s2": ("breakfast",)}, now=late, may_amend=True, reason="придёт: справка",
                  actor="coordinator")
    assert done.late and not done.after_sent
    with engine.begin() as conn:
        conn.execute(insert(KitchenSending).values(school_id="sch1", day=MON, sent_by="coordinator",
                                                   sent_at=datetime(2026, 12, 4, 3, 30)))
    done = submit(engine, "1а", MON, {"s1": ()}, now=late, may_amend=True, reason="заболел", actor="coordinator")
    assert done.late and done.after_sent
    assert ordered(engine, MON) == {("s2", "breakfast")}
    with engine.connect() as conn:
        history = orders.history(conn, "sch1", MON)
        view = orders.overview(conn, "sch1", MON, now=late)
        co = conn.execute(select(ClassOrder.submitted_by)).scalar_one()
    assert co == "teacher"  # the teacher answered for the day; the amendments are changes
    assert [(h["full_name"], h["what"], h["reason"], h["late"], h["after_sent"]) for h in history[:3]] == [
        ("Иванов Иван", "завтрак: снято", "заболел", True, True),
        ("Петрова Анна", "придёт", "придёт: справка", True, False),
        ("Петрова Анна", "завтрак: заказано", "придёт: справка", True, False)]
    one_a = next(c for c in view["classes"] if c["id"] == "1а")
    assert one_a["late_changes"] == 3 and one_a["submitted_by"] == "teacher" and view["sent"] is not None


def test_the_overview_marks_classes_not_submitted_from_half_past_nine(engine: Engine) -> None:
    school(engine)
    submit(engine, "1а", MON, {"s1": ("breakfast",)})
    with engine.connect() as conn:
        before = orders.overview(conn, "sch1", MON, now=at(FRI, 9, 29))
        after = orders.overview(conn, "sch1", MON, now=at(FRI, 9, 30))
    assert [(c["name"], c["overdue"]) for c in before["classes"]] == [("1А", False), ("5А", False)]
    assert [(c["name"], c["overdue"]) for c in after["classes"]] == [("1А", False), ("5А", True)]
    assert after["missing"] == 1 and after["classes"][0]["meals"] == {"breakfast": 1}


@pytest.mark.parametrize(("day", "message"), [
    (date(2026, 12, 2), "02.12.2026 — прошедший день: заявка на него не принимается"),
    (SUN, "06.12.2026 — выходной день (воскресенье)"),
    (SAT, "05.12.2026 — выходной день (суббота)"),
])
def test_past_days_and_days_off_are_refused_by_the_sheet_and_the_submit(engine: Engine, day: date,
                                                                        message: str) -> None:
    school(engine)
    with pytest.raises(OfficeError, match=re.escape(message)):
        sheet(engine, "1а", day)
    with pytest.raises(OfficeError, match=re.escape(message)):
        submit(engine, "1а", day, {"s1": ("breakfast",)}, may_amend=True, reason="x")
    assert ordered(engine, day) == set()


def test_a_class_day_off_is_refused_for_that_class_only(engine: Engine) -> None:
    school(engine)
    with engine.begin() as conn:
        conn.execute(insert(ClassDayOff).values(school_id="sch1", class_id="1а", day=MON, reason="экскурсия", rev=0))
    with pytest.raises(OfficeError, match=re.escape("07.12.2026 — у класса нет занятий: экскурсия")):
        submit(engine, "1а", MON, {"s1": ("breakfast",)})
    submit(engine, "5а", MON, {"s3": ("breakfast",)})
    with engine.connect() as conn:
        view = orders.overview(conn, "sch1", MON, now=at(FRI, 11, 0))
    assert [(c["name"], c["day_off"], c["overdue"]) for c in view["classes"]] == [
        ("1А", "07.12.2026 — у класса нет занятий: экскурсия", False), ("5А", None, False)]


def test_garbage_choices_are_refused_in_russian(engine: Engine) -> None:
    school(engine)
    with pytest.raises(OfficeError, match="ученика с кодом s3 нет в классе 1А"):
        submit(engine, "1а", MON, {"s3": ("breakfast",)})
    with pytest.raises(OfficeError, match="неизвестный приём пищи «ужин»"):
        submit(engine, "1а", MON, {"s1": ("ужин",)})
    with pytest.raises(OfficeError, match="класса 9я нет в школе"):
        submit(engine, "9я", MON, {"s1": ("breakfast",)})
    assert ordered(engine, MON) == set()


def test_the_file_import_refuses_past_days_sundays_holidays_and_class_days_off(engine: Engine) -> None:
    school(engine)
    with engine.begin() as conn:
        conn.execute(insert(Holiday).values(school_id="sch1", day=TUE, reason="праздник", rev=0))
        conn.execute(insert(ClassDayOff).values(school_id="sch1", class_id="5а", day=WED, reason="экскурсия", rev=0))
    rows = [{"student_id": "s1", "day": d, "meals": "завтрак"} for d in ("2026-12-02", "2026-12-06", "2026-12-08")]
    rows += [{"student_id": "s3", "day": "2026-12-09", "meals": "завтрак"},
             {"student_id": "s1", "day": "2026-12-09", "meals": "завтрак"}]
    with engine.begin() as conn, pytest.raises(ImportFailed) as failed:
        import_rows(conn, "sch1", "orders", rows, today=date(2026, 12, 3))
    assert failed.value.errors == [
        "строка 1, «Дата»: 02.12.2026 — прошедший день: заявка на него не принимается",
        "строка 2, «Дата»: 06.12.2026 — выходной день (воскресенье)",
        "строка 3, «Дата»: 08.12.2026 — не учебный день: праздник",
        "строка 4, «Дата»: 09.12.2026 — у класса нет занятий: экскурсия"]
    with engine.begin() as conn:
        import_rows(conn, "sch1", "orders", rows[4:], today=date(2026, 12, 3))
    assert ordered(engine, WED) == {("s1", "breakfast")}


def test_the_standing_choice_is_replaced_per_student(engine: Engine) -> None:
    school(engine)
    with engine.begin() as conn:
        assert orders.set_standing(conn, "teacher", "sch1", "1а", {"s1": {(1, "lunch"), (3, "lunch")}}) == 1
        assert orders.set_standing(conn, "teacher", "sch1", "1а", {"s1": {(1, "lunch"), (3, "lunch")}}) == 0
        with pytest.raises(OfficeError, match="нет в классе"):
            orders.set_standing(conn, "teacher", "sch1", "1а", {"s3": {(1, "lunch")}})
        with pytest.raises(OfficeError, match="день недели 1–7"):
            orders.set_standing(conn, "teacher", "sch1", "1а", {"s1": {(8, "lunch")}})
    with engine.connect() as conn:
        assert orders.standing_of(conn, "sch1", ["s1"]) == {"s1": {(1, "lunch"), (3, "lunch")}}
    assert {r.student_id: r.meals for r in sheet(engine, "1а", WED).rows}["s1"] == ["breakfast", "lunch"]


def test_the_days_offered_are_today_and_the_next_five_school_days() -> None:
    from pos.calendar import Calendar

    cal = Calendar(week_days=frozenset({1, 2, 3, 4, 5}), holidays={TUE: "праздник"})
    assert orders.order_days(cal, FRI, "1а") == [FRI, MON, WED, date(2026, 12, 10), date(2026, 12, 11),
                                                 date(2026, 12, 14)]
    assert orders.order_days(cal, SAT, "1а")[0] == MON
    assert datetime(2026, 12, 4, 3, 1, tzinfo=UTC) > at(FRI, 10, 0)  # 10:01 Krasnoyarsk is 03:01 UTC


def test_the_sheet_prices_by_the_menu_age_group_and_warns_of_the_day_s_dishes(engine: Engine) -> None:
    from server.models import Dish

    school(engine)
    dish = {"school_id": "sch1", "day": MON, "meal": "lunch", "section": "гор.блюдо", "recipe": "173",
            "yield_c": 20000, "energy_c": 0, "proteins_c": 0, "fats_c": 0, "carbs_c": 0}
    with engine.begin() as conn:
        conn.execute(delete(MenuPrice).where(MenuPrice.day == MON, MenuPrice.meal == "lunch"))
        conn.execute(insert(MenuPrice), [
            {"school_id": "sch1", "day": MON, "meal": "lunch", "age_group": g, "price_kopecks": p, "rev": 0}
            for g, p in (("7-11", 9000), ("12+", 12000))])
        conn.execute(insert(Dish), [
            {**dish, "age_group": g, "position": 1, "name": "Каша рисовая молочная", "price_kopecks": p,
             "allergens": "молоко"} for g, p in (("7-11", 9000), ("12+", 12000))])
        conn.execute(update(Student).where(Student.id == "s4").values(balance_kopecks=50000,
                                                                      diet_note="Аллергия на молоко"))
    rows = {r.student_id: r for r in sheet(engine, "5а", MON, choices={
        "s4": orders.Choice(frozenset({"lunch"})), "s5": orders.Choice(frozenset({"lunch"}))}).rows}
    # s4 (born 11.02.2014) is 12 on 07.12.2026: the older group's price; the same for s5 (12.03.2014)
    assert rows["s4"].prices["lunch"] == 12000 and rows["s4"].paid_kopecks == 12000
    assert rows["s4"].warnings == ["Особенности питания «Аллергия на молоко»: в блюде «Каша рисовая молочная» "
                                   "(обед) — молоко, молочная"]
    assert not any("Особенности" in w for w in rows["s5"].warnings)  # no diet note
    young = {r.student_id: r for r in sheet(engine, "1а", MON).rows}
    assert young["s1"].prices["lunch"] == 9000  # born 2018: the 7–11 group
