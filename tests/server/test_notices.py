"""What queues a notice to parents (`server.notices`): a balance falling below a parent's threshold (once per
fall, re-armed when it is back), a card blocked, an application decided; each parent's choices respected;
a notice commits with its change or not at all."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, update

from server import notices
from server.importer import import_rows
from server.models import Notice, Student, User
from server.office import benefits, roster
from server.office.changes import OfficeError
from server.office.roles import Grant, Role, Scope
from server.office.users import add_user
from tests.server.kit import enroll, school_today, seed_school
from tests.server.test_api import bearer, event
from tests.server.test_ingest_rules import reversal_of

MAMA, PAPA, GRANNY = "mama@example.ru", "papa@example.ru", "granny@example.ru"


def _parent(engine: Engine, login: str, *students: str, school_id: str = "sch1", **prefs: Any) -> int:
    with engine.begin() as conn:
        user_id = add_user(conn, login, grants=[Grant(Role.PARENT, Scope.STUDENT, school_id, s) for s in students])
        if prefs:
            notices.save_preferences(conn, user_id, **{"balance_low": True, "card_blocked": True,
                                                       "application": True, "threshold": "100", **prefs})
    return user_id


def _queued(engine: Engine, kind: str | None = None) -> list[Any]:
    query = select(Notice).order_by(Notice.id)
    if kind is not None:
        query = query.where(Notice.kind == kind)
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def _balance(engine: Engine, student_id: str = "s4") -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(Student.balance_kopecks).where(Student.school_id == "sch1",
                                                                      Student.id == student_id)).scalar_one())


class Window:
    """A terminal that serves paid breakfasts to s4 (75,00 ₽ each) through the real push endpoint."""

    def __init__(self, client: FlaskClient, engine: Engine) -> None:
        self.client, (self.terminal_id, self.token) = client, enroll(engine)
        self.seq = 0

    def serve(self, times: int = 1) -> list[dict[str, Any]]:
        events = []
        for _ in range(times):
            self.seq += 1
            events.append(event(self.terminal_id, self.seq, student_id="s4", card_uid="EM:0000000004",
                                outcome="serve_paid", paid_kopecks=7500, free_kopecks=0))
        self.push(events)
        return events

    def undo(self, serve: dict[str, Any]) -> None:
        self.seq += 1
        self.push([reversal_of(serve, self.seq)])

    def push(self, events: list[dict[str, Any]]) -> None:
        answer = self.client.post("/api/sync/push", json={"events": events}, headers=bearer(self.token)).json
        assert answer is not None and len(answer["stored"]) == len(events), answer


def _top_up(engine: Engine, amount: str, reference: str) -> None:
    with engine.begin() as conn:
        import_rows(conn, "sch1", "topups", [{"student_id": "s4", "amount": amount, "reference": reference,
                                              "paid_at": school_today().isoformat()}])


def test_a_fall_below_the_threshold_is_told_once_and_again_only_after_the_balance_is_back(
        client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)  # s4 holds 500,00 ₽
    _parent(engine, MAMA, "s4", threshold="300,00")
    window = Window(client, engine)
    window.serve(2)  # 350,00 ₽: above
    assert _queued(engine) == []
    window.serve()  # 275,00 ₽: the fall
    window.serve()  # 200,00 ₽: still below, no second letter
    told = _queued(engine, notices.BALANCE_LOW)
    assert _balance(engine) == 20000 and len(told) == 1
    assert told[0].recipient == MAMA and told[0].student_id == "s4"
    assert told[0].subject == "Баланс ниже 300,00 ₽: Орлова Мария"
    assert "осталось 275,00 ₽" in told[0].body and "порога 300,00 ₽" in told[0].body
    _top_up(engine, "100,00", "pay-2")  # 300,00 ₽: back at the threshold, re-armed, nothing told
    assert len(_queued(engine)) == 1
    window.serve()  # 225,00 ₽: a new fall
    window.serve()
    told = _queued(engine, notices.BALANCE_LOW)
    assert [n.body.split("осталось ")[1][:10] for n in told] == ["275,00 ₽ —", "225,00 ₽ —"]


def test_a_cancelled_serve_that_lifts_the_balance_back_re_arms_the_notice(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    _parent(engine, MAMA, "s4", threshold="300")
    window = Window(client, engine)
    window.serve(2)
    [third] = window.serve()  # 275,00 ₽: told
    window.undo(third)  # 350,00 ₽: re-armed
    window.serve()  # 275,00 ₽ again: told again
    assert _balance(engine) == 27500 and len(_queued(engine, notices.BALANCE_LOW)) == 2


def test_one_batch_of_many_serves_tells_each_parent_once_with_their_own_threshold(
        client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    _parent(engine, MAMA, "s4", threshold="450")
    _parent(engine, PAPA, "s4")  # no preferences saved: the default threshold, 100,00 ₽
    _parent(engine, GRANNY, "s4", balance_low=False, threshold="450")
    Window(client, engine).serve(3)  # 275,00 ₽
    assert [n.recipient for n in _queued(engine)] == [MAMA]
    Window(client, engine).serve(3)  # 50,00 ₽
    assert [n.recipient for n in _queued(engine)] == [MAMA, PAPA]
    assert "Баланс ниже 100,00 ₽" in _queued(engine)[1].subject


def test_a_parent_of_another_child_or_without_an_email_or_inactive_hears_nothing(
        client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    seed_school(engine, "sch2")
    _parent(engine, "other@example.ru", "s5")
    _parent(engine, "sch2parent@example.ru", "s4", school_id="sch2")
    _parent(engine, "no-email-login", "s4")
    gone = _parent(engine, "gone@example.ru", "s4")
    with engine.begin() as conn:
        conn.execute(update(User).where(User.id == gone).values(active=False))
    Window(client, engine).serve(6)  # 50,00 ₽, below the default threshold
    assert _queued(engine) == []


def test_a_card_blocked_by_the_office_tells_the_childs_parents(engine: Engine) -> None:
    seed_school(engine)
    _parent(engine, MAMA, "s1")
    _parent(engine, PAPA, "s1", card_blocked=False)
    _parent(engine, "other@example.ru", "s2")
    with engine.begin() as conn:
        roster.block_card(conn, "coordinator", "sch1", "EM:0000000001", "утеряна")
    told = _queued(engine)
    assert [(n.recipient, n.kind, n.subject) for n in told] == [
        (MAMA, notices.CARD_BLOCKED, "Карта заблокирована: Иванов Иван")]
    body = told[0].body
    assert "Карта EM:0000000001 ученика Иванов Иван заблокирована школой " + school_today().strftime("%d.%m.%Y") in body
    assert "Причина: утеряна." in body and "http://localhost:5000/parent" in body


def test_a_card_blocked_by_the_parent_says_so_and_the_link_follows_the_public_url(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_school(engine)
    _parent(engine, MAMA, "s1")
    monkeypatch.setenv("CANTEEN_PUBLIC_URL", "https://pitanie.example.ru/")
    with engine.begin() as conn:
        assert notices.card_blocked(conn, "sch1", "s1", "EM:0000000001", MAMA) == 1
    body = _queued(engine)[0].body
    assert "заблокирована в личном кабинете родителя" in body
    assert "https://pitanie.example.ru/parent/notices" in body


def test_a_commission_decision_tells_the_parents_granted_or_refused(engine: Engine) -> None:
    seed_school(engine)
    _parent(engine, MAMA, "s2")
    _parent(engine, PAPA, "s5", application=False)
    day = school_today()
    with engine.begin() as conn:
        granted = benefits.register(conn, "test", "sch1", student_id="s2", category="low_income", registered_on=day,
                                    received=(1, 2, 3, 4, 5))
        benefits.decide(conn, "test", "sch1", granted, granted=True, decided_on=day, protocol_no="7")
        refused = benefits.register(conn, "test", "sch1", student_id="s2", category="large_family",
                                    registered_on=day)
        reason = next(iter(benefits.school_policy(conn, "sch1").refusal_reasons.items()))
        benefits.decide(conn, "test", "sch1", refused, granted=False, decided_on=day, reason=reason[0])
        other = benefits.register(conn, "test", "sch1", student_id="s5", category="large_family", registered_on=day)
        benefits.decide(conn, "test", "sch1", other, granted=False, decided_on=day, reason=reason[0])
    told = _queued(engine, notices.APPLICATION)
    assert [(n.recipient, n.subject) for n in told] == [
        (MAMA, "Льготное питание предоставляется: Петрова Анна"), (MAMA, "Отказ в льготном питании: Петрова Анна")]
    assert f"решение комиссии от {day:%d.%m.%Y}: льготное питание предоставляется" in told[0].body
    assert "(категория: Малообеспеченные (доход ниже прожиточного минимума), п. 4.3 а)" in told[0].body
    assert f"в льготном питании отказано. Причина: {reason[1]}" in told[1].body


def test_a_notice_commits_with_its_change_or_not_at_all(engine: Engine) -> None:
    seed_school(engine)
    _parent(engine, MAMA, "s1")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        roster.block_card(conn, "coordinator", "sch1", "EM:0000000001", "утеряна")
        assert len(list(conn.execute(select(Notice.id)))) == 1
        raise RuntimeError("the request failed after the change")
    assert _queued(engine) == []
    with engine.connect() as conn:
        assert roster.student_card(conn, "sch1", "s1")["cards"][0]["blocked"] is False


@pytest.mark.parametrize(("typed", "kopecks"), [("100", 10000), ("48,5", 4850), ("1 000,00 ₽", 100000), ("0", 0)])
def test_a_threshold_is_read_in_roubles(typed: str, kopecks: int) -> None:
    assert notices.parse_threshold(typed) == kopecks


@pytest.mark.parametrize(("typed", "message"), [
    ("12,5О", "сумма должна быть в рублях с копейками, например «48,58», а не «12,5О»"),
    ("", "укажите порог баланса"), ("-5", "не может быть отрицательной: «-5»"),
    ("20000", "не больше 10\u202f000,00 ₽")])
def test_a_bad_threshold_is_refused_in_russian(typed: str, message: str) -> None:
    with pytest.raises(OfficeError, match=message):
        notices.parse_threshold(typed)


def test_only_a_parent_saves_notice_preferences(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        teacher = add_user(conn, "teacher@example.ru", grants=[Grant(Role.TEACHER, Scope.CLASS, "sch1", "1а")])
        with pytest.raises(OfficeError, match="только родители"):
            notices.save_preferences(conn, teacher, balance_low=True, card_blocked=True, application=True,
                                     threshold="100")


def test_the_ingest_checks_thresholds_with_one_query_per_batch(client: FlaskClient, engine: Engine,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seed_school(engine)
    _parent(engine, MAMA, "s4")
    calls: list[list[str]] = []
    real = notices.balances_changed

    def counted(conn: Any, school_id: str, student_ids: Any) -> int:
        calls.append(sorted(student_ids))
        return real(conn, school_id, student_ids)

    monkeypatch.setattr(notices, "balances_changed", counted)
    Window(client, engine).serve(4)
    assert calls == [["s4"]]
