"""Benefits as the seeds run them: application and checklist, decision, order, entitlement, deadlines, lists."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from pos.policy import PolicyError, parse_policy, shipped_policies
from server.importer import import_rows
from server.models import Entitlement, School
from server.office import benefits
from server.office.audit import history
from server.office.changes import OfficeError
from tests.server.kit import school_today, seed_school

THU = date(2026, 10, 1)  # a Thursday


def register(engine: Engine, received: tuple[int, ...] = (1, 2, 3, 4, 5), on: date = THU,
             student_id: str = "s5", category: str = "low_income") -> str:
    with engine.begin() as conn:
        return benefits.register(conn, "коорд", "sch1", student_id=student_id, category=category, registered_on=on,
                                 applicant="Козлова Ирина", received=received)


def view(engine: Engine, app_id: str, today: date = THU) -> dict[str, object]:
    with engine.connect() as conn:
        return benefits.application(conn, "sch1", app_id, today=today)


def test_the_checklist_is_the_policys_list_for_the_category(engine: Engine) -> None:
    seed_school(engine)  # Nazarovo: the statement, then п. 4.4's four documents
    app_id = register(engine, received=(1, 3))
    docs = view(engine, app_id)["documents"]
    assert [(d["n"], d["received"]) for d in docs] == [(1, True), (2, False), (3, True), (4, False), (5, False)]
    assert docs[0]["title"].startswith("Заявление") and docs[4]["title"].startswith("Сведения о размере доходов")


def test_an_incomplete_application_cannot_be_granted_and_stays_undecided(engine: Engine) -> None:
    seed_school(engine)
    app_id = register(engine, received=(1, 2, 3, 4))
    with pytest.raises(OfficeError, match="Сведения о размере доходов"), engine.begin() as conn:
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=True, decided_on=THU)
    assert view(engine, app_id)["status"] == benefits.REGISTERED


def test_a_refusal_needs_one_of_the_policys_reasons(engine: Engine) -> None:
    seed_school(engine)
    app_id = register(engine, received=(1,))
    with pytest.raises(OfficeError, match="incomplete"), engine.begin() as conn:
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=False, decided_on=THU, reason="не нравится")
    with engine.begin() as conn:
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=False, decided_on=THU, reason="incomplete",
                        protocol_no="7")
    shown = view(engine, app_id)
    assert shown["status"] == benefits.REFUSED and str(shown["refusal_text"]).startswith("Предоставлен неполный")


def test_the_order_makes_the_entitlement_from_the_next_day_to_31_may_with_a_rev(engine: Engine) -> None:
    seed_school(engine)
    app_id = register(engine)
    with engine.begin() as conn:
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=True, decided_on=date(2026, 10, 5),
                        protocol_no="12")
        entitlement_id = benefits.record_order(conn, "директор", "sch1", app_id, order_no="01-04-77",
                                               order_date=date(2026, 10, 7))
    with engine.connect() as conn:
        e = conn.execute(select(Entitlement).where(Entitlement.id == entitlement_id)).one()
        school_rev = conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one()
        log = history(conn, "sch1", "application", app_id)
    assert (e.student_id, e.category, e.starts, e.ends) == ("s5", "low_income", date(2026, 10, 8), date(2027, 5, 31))
    assert (e.order_no, e.order_date, e.rev) == ("01-04-77", date(2026, 10, 7), school_rev)
    assert [(x["actor"], x["action"]) for x in log] == [("коорд", "register"), ("комиссия", "decide"),
                                                        ("директор", "order")]


def test_an_order_may_end_the_benefit_earlier_but_not_before_it_starts(engine: Engine) -> None:
    seed_school(engine)
    app_id = register(engine)
    with engine.begin() as conn:
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=True, decided_on=THU)
    with pytest.raises(OfficeError, match="раньше начала"), engine.begin() as conn:
        benefits.record_order(conn, "директор", "sch1", app_id, order_no="5", order_date=THU, ends=THU)
    with engine.begin() as conn:
        entitlement_id = benefits.record_order(conn, "директор", "sch1", app_id, order_no="5", order_date=THU,
                                               ends=date(2026, 12, 31))
        assert conn.execute(select(Entitlement.ends).where(Entitlement.id == entitlement_id)).scalar_one() == \
            date(2026, 12, 31)


def test_no_order_before_the_commission_decides(engine: Engine) -> None:
    seed_school(engine)
    app_id = register(engine)
    with pytest.raises(OfficeError, match="после решения"), engine.begin() as conn:
        benefits.record_order(conn, "директор", "sch1", app_id, order_no="5", order_date=THU)
    with engine.connect() as conn:
        assert conn.execute(select(Entitlement.id).where(Entitlement.student_id == "s5")).first() is None


def test_a_decision_is_overdue_after_ten_working_days_not_counting_weekends_and_holidays(engine: Engine) -> None:
    seed_school(engine)
    app_id = register(engine)  # Thursday 01.10: the 10th working day is Thursday 15.10
    with engine.connect() as conn:
        assert [a["id"] for a in benefits.overdue(conn, "sch1", date(2026, 10, 15))] == []
        assert [a["id"] for a in benefits.overdue(conn, "sch1", date(2026, 10, 16))] == [app_id]
    with engine.begin() as conn:
        import_rows(conn, "sch1", "holidays", [{"day": "2026-10-05", "reason": "День учителя"}])
    with engine.connect() as conn:
        assert benefits.overdue(conn, "sch1", date(2026, 10, 16)) == []
    assert view(engine, app_id)["decision_due"] == date(2026, 10, 16)


def test_a_decided_application_is_not_overdue(engine: Engine) -> None:
    seed_school(engine)
    app_id = register(engine, received=())
    with engine.begin() as conn:
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=False, decided_on=date(2026, 11, 1),
                        reason="no_right")
        assert benefits.overdue(conn, "sch1", date(2026, 11, 2)) == []


def test_a_summer_application_is_due_by_7_september(engine: Engine) -> None:
    seed_school(engine)
    with engine.connect() as conn:
        assert benefits.decision_due(conn, "sch1", date(2026, 8, 20)) == date(2026, 9, 7)


def test_the_school_year_ends_on_31_may_and_summer_belongs_to_the_next_year() -> None:
    assert benefits.school_year_end(date(2026, 10, 8)) == date(2027, 5, 31)
    assert benefits.school_year_end(date(2027, 3, 1)) == date(2027, 5, 31)
    assert benefits.school_year_end(date(2027, 8, 20)) == date(2028, 5, 31)


def test_lists_per_category_show_the_students_in_force_with_their_basis(engine: Engine) -> None:
    seed_school(engine)  # s3: low_income by order 01-04-1 of 01.09.2020, open-ended
    app_id = register(engine)
    with engine.begin() as conn:
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=True, decided_on=THU, protocol_no="3")
        benefits.record_order(conn, "директор", "sch1", app_id, order_no="01-04-9", order_date=THU)
    with engine.connect() as conn:
        before = benefits.category_lists(conn, "sch1", THU)
        after = benefits.category_lists(conn, "sch1", date(2026, 10, 2))
    assert [r["student_id"] for r in before["low_income"]] == ["s3"]
    rows = {r["student_id"]: r for r in after["low_income"]}
    assert set(rows) == {"s3", "s5"} and after["ovz"] == []
    assert rows["s5"]["class_name"] == "5А" and rows["s5"]["birth_date"] == date(2014, 3, 12)
    assert "протокол № 3" in rows["s5"]["basis"] and "приказ № 01-04-9 от 01.10.2026" in rows["s5"]["basis"]
    assert (rows["s5"]["starts"], rows["s5"]["ends"]) == (date(2026, 10, 2), date(2027, 5, 31))


def test_an_unknown_category_in_the_documents_list_fails_the_policy() -> None:
    text = shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
    with pytest.raises(PolicyError, match="нет такой категории"):
        parse_policy(text.replace('ovz = ["Копия заключения', 'pupils = ["Копия заключения'), "x.toml")


def test_an_application_dated_in_the_future_is_refused(engine: Engine) -> None:
    seed_school(engine)
    with pytest.raises(OfficeError, match="позже сегодняшней"), engine.begin() as conn:
        benefits.register(conn, "коорд", "sch1", student_id="s5", category="ovz",
                          registered_on=school_today() + timedelta(days=1))


def test_documents_handed_in_later_complete_the_application(engine: Engine) -> None:
    seed_school(engine)
    app_id = register(engine, received=(1,))
    with engine.begin() as conn:
        benefits.mark_documents(conn, "коорд", "sch1", app_id, [1, 2, 3, 4, 5])
        benefits.decide(conn, "комиссия", "sch1", app_id, granted=True, decided_on=THU)
    assert view(engine, app_id)["status"] == benefits.GRANTED
    with pytest.raises(OfficeError, match="уже принято решение"), engine.begin() as conn:
        benefits.mark_documents(conn, "коорд", "sch1", app_id, [1])
