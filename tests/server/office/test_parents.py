"""The parents' rules (`server.parents`): letters with one-time codes, registering and linking, and what a parent
changes — paid orders, the daily limit, a lost card — reaching a real terminal store through its sync."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from flask import Flask
from sqlalchemy import Engine, func, select, update

from pos.counter import Counter
from pos.decide import Reason
from pos.domain import Meal
from pos.store import make_engine
from server import parents
from server.accounts import LoginLimits
from server.models import AuditEntry, Card, ClassOrder, Order, ParentCode, RoleGrant, School, Student
from server.office.changes import NotFound, OfficeError
from server.office.orders import Locked
from server.office.roles import Grant, Role, Scope
from server.office.users import Account, Throttled, sign_in
from sync.client import SyncClient
from tests.server.kit import TZ, enroll, school_today, seed_school

LIMITS = LoginLimits(per_login=3, per_ip=100, window=timedelta(minutes=10))
PASSWORD = "parent-pass-1"


def _letter(engine: Engine, student_id: str = "s1", class_id: str = "1а") -> str:
    with engine.begin() as conn:
        letters = parents.issue_letters(conn, "pitanie", "sch1", class_id, [student_id])
    return letters[0].code


def _register(engine: Engine, code: str, email: str = "mama@example.ru", ip: str = "10.0.0.1") -> Account:
    return parents.with_code(engine, LIMITS, lambda conn: parents.register(conn, code, email, PASSWORD, PASSWORD,
                                                                           ip, LIMITS))


def test_a_letter_has_a_short_code_and_only_its_hash_is_kept(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        letters = parents.issue_letters(conn, "pitanie", "sch1", "1а", ["s2", "s1"])
    assert [(x.full_name, x.class_name, x.school_name) for x in letters] == [
        ("Иванов Иван", "1А", "Школа sch1"), ("Петрова Анна", "1А", "Школа sch1")]
    code = letters[0].code
    assert len(code) == 11 and code[5] == "-"
    assert all(c in parents.ALPHABET for c in code.replace("-", ""))
    assert not set(code) & set("01OIL")
    with engine.connect() as conn:
        rows = conn.execute(select(ParentCode.code_hash, ParentCode.expires_at, ParentCode.created_at)).all()
    assert len(rows) == 2 and all(code.replace("-", "") not in r.code_hash for r in rows)
    assert all(r.expires_at - r.created_at == timedelta(days=parents.CODE_DAYS) for r in rows)


def test_a_parent_registers_with_the_code_and_gets_a_grant_over_the_child_only(engine: Engine) -> None:
    seed_school(engine)
    code = _letter(engine)
    me = _register(engine, code.lower().replace("-", " "), " Mama@Example.ru ")  # typed as it comes
    assert me.login == "mama@example.ru"
    assert me.grants == (Grant(Role.PARENT, Scope.STUDENT, "sch1", "s1"),)
    with engine.begin() as conn:
        assert sign_in(conn, "mama@example.ru", PASSWORD, "10.0.0.1", LIMITS) is not None
        used = conn.execute(select(ParentCode.used_at, ParentCode.used_by)).one()
        assert used.used_at is not None and used.used_by == me.id
    with pytest.raises(OfficeError, match="код не подходит"):  # single use
        _register(engine, code, "papa@example.ru")


def test_a_new_letter_ends_the_old_code_and_an_expired_code_is_refused(engine: Engine) -> None:
    seed_school(engine)
    old = _letter(engine)
    new = _letter(engine)
    with pytest.raises(OfficeError, match="код не подходит"):
        _register(engine, old)
    with engine.begin() as conn:
        conn.execute(update(ParentCode).values(expires_at=datetime(2000, 1, 1)))
    with pytest.raises(OfficeError, match="код не подходит"):
        _register(engine, new)


def test_guessing_codes_is_throttled_like_passwords(engine: Engine) -> None:
    seed_school(engine)
    code = _letter(engine)
    for _ in range(LIMITS.per_login):
        with pytest.raises(OfficeError, match="код не подходит"):
            _register(engine, "ABCDE-FGHJK")
    with pytest.raises(Throttled):  # even the right code waits now
        _register(engine, code)
    assert _register(engine, code, "other@example.ru", ip="10.0.0.2").login == "other@example.ru"


def test_registration_refuses_a_bad_email_a_taken_one_and_unequal_passwords(engine: Engine) -> None:
    seed_school(engine)
    code = _letter(engine)
    with pytest.raises(OfficeError, match="e-mail"), engine.begin() as conn:
        parents.register(conn, code, "не почта", PASSWORD, PASSWORD, "1", LIMITS)
    with pytest.raises(OfficeError, match="не совпадают"), engine.begin() as conn:
        parents.register(conn, code, "a@b.ru", PASSWORD, PASSWORD + "x", "1", LIMITS)
    with pytest.raises(OfficeError, match="не короче"), engine.begin() as conn:
        parents.register(conn, code, "a@b.ru", "short", "short", "1", LIMITS)
    _register(engine, code, "a@b.ru")
    with pytest.raises(OfficeError, match="уже есть кабинет"):
        _register(engine, _letter(engine, "s2"), "a@b.ru")


def test_one_parent_several_children_and_a_child_two_parents(engine: Engine) -> None:
    seed_school(engine)
    mother = _register(engine, _letter(engine, "s1"))
    second = _letter(engine, "s3", "5а")
    with engine.begin() as conn:
        assert parents.link_child(conn, mother, second, "1", LIMITS) == "Сидоров Пётр"
    father = _register(engine, _letter(engine, "s1"), "papa@example.ru")  # the second letter of the same child
    again = _letter(engine, "s1")
    with pytest.raises(OfficeError, match="уже есть в вашем кабинете"), engine.begin() as conn:
        parents.link_child(conn, father, again, "1", LIMITS)
    with engine.connect() as conn:
        grants = conn.execute(select(RoleGrant.user_id, RoleGrant.scope_id).where(RoleGrant.role == "parent")
                              .order_by(RoleGrant.id)).tuples().all()
        kids = parents.children(conn, [Grant(Role.PARENT, Scope.STUDENT, "sch1", "s1"),
                                       Grant(Role.PARENT, Scope.STUDENT, "sch1", "s3")])
    assert grants == [(mother.id, "s1"), (mother.id, "s3"), (father.id, "s1")]
    assert [(k["full_name"], k["class_name"]) for k in kids] == [("Иванов Иван", "1А"), ("Сидоров Пётр", "5А")]


def test_letters_only_for_the_class_students(engine: Engine) -> None:
    seed_school(engine)
    with pytest.raises(OfficeError, match="нет в классе"), engine.begin() as conn:
        parents.issue_letters(conn, "pitanie", "sch1", "1а", ["s3"])
    with pytest.raises(OfficeError, match="отметьте"), engine.begin() as conn:
        parents.issue_letters(conn, "pitanie", "sch1", "1а", [])
    with pytest.raises(NotFound), engine.begin() as conn:
        parents.issue_letters(conn, "pitanie", "sch1", "9я", ["s1"])
    _register(engine, _letter(engine, "s1"))
    _letter(engine, "s2")
    with engine.connect() as conn:
        rows = {r["id"]: r for r in parents.class_letters(conn, "sch1", "1а")["rows"]}
    assert rows["s1"]["parents"] == 1 and rows["s1"]["code_until"] is None
    assert rows["s2"]["parents"] == 0 and rows["s2"]["code_until"] is not None


def _morning() -> datetime:
    return datetime.combine(school_today(), time(8, 0), tzinfo=ZoneInfo(TZ))


def test_a_parent_orders_a_paid_meal_before_the_deadline_with_a_rev(engine: Engine) -> None:
    seed_school(engine)  # s4: grade 5, pays 75,00 ₽ for breakfast, 110,00 ₽ for lunch; ordered breakfast
    tomorrow = school_today() + timedelta(days=1)
    with engine.connect() as conn:
        days = {d.day: d for d in parents.order_days(conn, "sch1", "s4", now=_morning())}
        before = conn.execute(select(School.rev)).scalar_one()
    assert days[school_today()].locked and not days[tomorrow].locked
    assert days[tomorrow].prices == {"breakfast": 7500, "lunch": 11000} and days[tomorrow].chosen == ["breakfast"]
    with engine.begin() as conn:
        assert parents.save_orders(conn, "mama@example.ru", "sch1", "s4", {tomorrow: {"lunch"}}, now=_morning()) == 1
    with engine.connect() as conn:
        rows = conn.execute(select(Order.meal, Order.rev).where(Order.student_id == "s4", Order.day == tomorrow,
                                                                Order.school_id == "sch1")).all()
        classes = conn.execute(select(func.count()).select_from(ClassOrder)).scalar_one()
    assert [r.meal for r in rows] == ["lunch"] and rows[0].rev > before
    assert classes == 0  # a parent's order does not answer for the class
    with pytest.raises(Locked, match="закрыт"), engine.begin() as conn:
        parents.save_orders(conn, "mama@example.ru", "sch1", "s4", {school_today(): {"lunch"}}, now=_morning())


def test_a_parent_keeps_the_free_meals_and_cannot_order_what_has_no_price(engine: Engine) -> None:
    seed_school(engine)  # s1: grade 1, breakfast free
    tomorrow = school_today() + timedelta(days=1)
    with engine.begin() as conn:
        parents.save_orders(conn, "p", "sch1", "s1", {tomorrow: {"lunch"}}, now=_morning())
        assert set(conn.execute(select(Order.meal).where(Order.student_id == "s1", Order.day == tomorrow,
                                                         Order.school_id == "sch1")).scalars()) == {"breakfast",
                                                                                                    "lunch"}
    with pytest.raises(OfficeError, match="нельзя заказать «завтрак»"), engine.begin() as conn:
        parents.save_orders(conn, "p", "sch1", "s1", {tomorrow: {"breakfast", "lunch"}}, now=_morning())
    far = school_today() + timedelta(days=3)  # a school day without a menu: nothing paid to order
    with pytest.raises(OfficeError, match="нельзя заказать"), engine.begin() as conn:
        parents.save_orders(conn, "p", "sch1", "s1", {far: {"lunch"}}, now=_morning())
    with pytest.raises(OfficeError, match="не ближайший учебный день"), engine.begin() as conn:
        parents.save_orders(conn, "p", "sch1", "s1", {school_today() + timedelta(days=60): {"lunch"}},
                            now=_morning())


def test_the_daily_limit_takes_a_rev_and_is_read_in_rubles(engine: Engine) -> None:
    seed_school(engine)
    assert parents.parse_limit("150,50") == 15050 and parents.parse_limit(" ") is None
    for bad in ("-5", "много", "20000"):
        with pytest.raises(OfficeError):
            parents.parse_limit(bad)
    with engine.begin() as conn:
        parents.set_limit(conn, "mama@example.ru", "sch1", "s4", 15050)
    with engine.connect() as conn:
        limit, rev = conn.execute(select(Student.daily_limit_kopecks, Student.rev).where(
            Student.school_id == "sch1", Student.id == "s4")).one()
        assert (limit, rev) == (15050, conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one())
        actions = conn.execute(select(AuditEntry.action, AuditEntry.actor).where(
            AuditEntry.entity == "student")).tuples().all()
    assert ("daily_limit", "mama@example.ru") in actions


def test_a_parent_blocks_only_the_own_childs_card_and_the_terminal_refuses_it(app: Flask, engine: Engine,
                                                                              tmp_path: Path) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    store = make_engine(tmp_path / "t.db")
    client = SyncClient(store, "http://server", token, transport=httpx.WSGITransport(app=app))
    try:
        assert client.sync_once().ok
        with pytest.raises(OfficeError, match="нет такой карты"), engine.begin() as conn:
            parents.block_card(conn, "mama@example.ru", "sch1", "s1", "EM:0000000002")  # s2's card
        with engine.begin() as conn:
            parents.block_card(conn, "mama@example.ru", "sch1", "s1", "EM:0000000001")
        with engine.connect() as conn:
            assert conn.execute(select(Card.blocked, Card.blocked_reason).where(
                Card.uid == "EM:0000000001", Card.school_id == "sch1")).one() == (True, "утеряна")
        still = Counter(store).tap_text("EM:0000000002", meal=Meal.BREAKFAST)
        assert still.served
        assert client.sync_once().ok
        verdict = Counter(store).tap_text("EM:0000000001", meal=Meal.BREAKFAST)
        assert not verdict.served and verdict.reason is Reason.BLOCKED_CARD
    finally:
        client.close()
        store.dispose()


def test_the_child_page_shows_serves_pushed_by_a_terminal_paid_and_free(app: Flask, engine: Engine,
                                                                       tmp_path: Path) -> None:
    seed_school(engine)  # s4 pays for breakfast (top-up 500,00 ₽), s1's breakfast is free
    _, token = enroll(engine)
    store = make_engine(tmp_path / "t.db")
    client = SyncClient(store, "http://server", token, transport=httpx.WSGITransport(app=app))
    try:
        assert client.sync_once().ok
        now = datetime.now(UTC)
        assert Counter(store).tap_text("EM:0000000004", meal=Meal.BREAKFAST, now=now).served
        assert Counter(store).tap_text("EM:0000000001", meal=Meal.BREAKFAST, now=now).served
        assert client.sync_once().ok
    finally:
        client.close()
        store.dispose()
    with engine.connect() as conn:
        paid = parents.child(conn, "sch1", "s4", school_today())
        free = parents.child(conn, "sch1", "s1", school_today())
        with pytest.raises(NotFound):
            parents.child(conn, "sch1", "nobody", school_today())
    assert paid["balance_kopecks"] == 42500
    assert [(e.kind, e.amount_kopecks) for e in paid["statement"]] == [("debit", -7500), ("topup", 50000)]
    assert [(m["meal"], m["paid_kopecks"], m["free"]) for m in paid["meals"][0]["meals"]] == [("breakfast", 7500,
                                                                                                False)]
    assert [(m["meal"], m["paid_kopecks"], m["free"]) for m in free["meals"][0]["meals"]] == [("breakfast", 0, True)]


def test_a_card_blocked_by_a_parent_queues_the_letter_to_the_childs_parents(engine: Engine) -> None:
    from server.models import Notice

    seed_school(engine)
    _register(engine, _letter(engine), "mama@example.ru")
    _register(engine, _letter(engine), "papa@example.ru")
    with engine.begin() as conn:
        parents.block_card(conn, "mama@example.ru", "sch1", "s1", "EM:0000000001")
    with engine.connect() as conn:
        sent = conn.execute(select(Notice.recipient, Notice.kind, Notice.body).where(
            Notice.student_id == "s1").order_by(Notice.recipient)).all()
    assert [(r.recipient, r.kind) for r in sent] == [("mama@example.ru", "card_blocked"),
                                                     ("papa@example.ru", "card_blocked")]
    assert all("в личном кабинете родителя" in r.body for r in sent)


def test_a_parents_order_before_the_class_order_leaves_the_other_children_at_their_defaults(engine: Engine) -> None:
    from sqlalchemy import delete

    from server.office import orders

    seed_school(engine)  # 5а: s3 low income (breakfast free), s4 pays, s5 pays
    tomorrow = school_today() + timedelta(days=1)
    with engine.begin() as conn:  # the class has not ordered for tomorrow yet
        conn.execute(delete(Order).where(Order.school_id == "sch1", Order.day == tomorrow,
                                         Order.student_id.in_(["s3", "s4", "s5"])))
        parents.save_orders(conn, "mama@example.ru", "sch1", "s4", {tomorrow: {"lunch"}}, now=_morning())
    with engine.connect() as conn:
        sheet = orders.sheet(conn, "sch1", "5а", tomorrow, now=_morning())
    got = {r.student_id: r.meals for r in sheet.rows}
    assert sheet.source == "saved" and got == {"s3": ["breakfast"], "s4": ["lunch"], "s5": []}
