"""Invitations, password resets and removal of access: the rules and their audit records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from server.accounts import LoginLimits
from server.models import UserLink
from server.office import audit, users
from server.office.roles import Role, Scope
from tests.server.office.conftest import PASSWORD, Office

LIMITS = LoginLimits(per_login=3, per_ip=100, window=timedelta(minutes=10))


def _invite(engine: Engine, login: str = "ivanova", role: str = "teacher", classes: tuple[str, ...] = ("1а",)
            ) -> tuple[int, str]:
    with engine.begin() as conn:
        user_id, token, _expires = users.invite(conn, "admin", "sch1", login, role, list(classes))
    return user_id, token


def test_invited_teacher_sets_a_password_through_the_link_once_and_holds_the_class(office: Office) -> None:
    user_id, token = _invite(office.engine)
    with office.engine.begin() as conn:
        assert users.sign_in(conn, "ivanova", "", "1.1.1.1", LIMITS) is None  # no password before the link
        me = users.accept_link(conn, token, "Иванова  Мария ", "new-password-1", "new-password-1")
        assert (me.name, [(g.role, g.scope, g.scope_id) for g in me.grants]) == (
            "Иванова Мария", [(Role.TEACHER, Scope.CLASS, "1а")])
        assert users.sign_in(conn, "IVANOVA", "new-password-1", "1.1.1.1", LIMITS) is not None
        with pytest.raises(users.UserError, match="недействительна"):
            users.accept_link(conn, token, "Кто-то", "other-password", "other-password")
        changes = audit.changes(conn, "sch1", entity="user")
    assert [(c.actor, c.action, c.entity_id) for c in changes] == [
        ("ivanova", "set_password", str(user_id)), ("admin", "invite", str(user_id))]
    assert changes[1].after == {"login": "ivanova", "role": "teacher", "classes": ["1а"]}


def test_an_expired_link_opens_nothing(office: Office) -> None:
    _user_id, token = _invite(office.engine)
    with office.engine.begin() as conn:
        conn.execute(update(UserLink).values(expires_at=UserLink.created_at + timedelta(days=-1)))
        assert users.open_link(conn, token) is None


@pytest.mark.parametrize(("login", "role", "classes", "message"), [
    ("x", "coordinator", (), "логин"),
    ("coordinator", "coordinator", (), "уже занят"),
    ("petrov", "teacher", (), "хотя бы один класс"),
    ("petrov", "teacher", ("9я",), "нет таких классов"),
    ("petrov", "district", (), "нельзя выдать"),
    ("petrov", "", (), "выберите роль"),
])
def test_a_wrong_invitation_is_refused_with_a_reason(office: Office, login: str, role: str,
                                                      classes: tuple[str, ...], message: str) -> None:
    with pytest.raises(users.UserError, match=message):
        _invite(office.engine, login, role, classes)


def test_reset_ends_the_password_and_the_sessions_until_the_new_link_is_used(office: Office) -> None:
    old_key = office.keys[Role.COORDINATOR]
    with office.engine.begin() as conn:
        token, _ = users.reset_password(conn, "admin", "sch1", office.ids[Role.COORDINATOR])
        assert users.load(conn, old_key) is None
        assert users.sign_in(conn, "coordinator", PASSWORD, "1.1.1.1", LIMITS) is None
        users.accept_link(conn, token, "Новое Имя", "fresh-password", "fresh-password")
        assert users.sign_in(conn, "coordinator", "fresh-password", "1.1.1.1", LIMITS) is not None
        assert audit.changes(conn, "sch1")[-1].action == "reset_password"


def test_removed_user_cannot_sign_in_and_an_admin_cannot_remove_themself(office: Office) -> None:
    admin_id = office.ids[Role.SCHOOL_ADMIN]
    with office.engine.begin() as conn:
        users.remove_access(conn, "admin", admin_id, "sch1", office.ids[Role.CANTEEN])
        assert users.load(conn, office.keys[Role.CANTEEN]) is None
        assert users.sign_in(conn, "canteen", PASSWORD, "1.1.1.1", LIMITS) is None
        with pytest.raises(users.UserError, match="свой доступ"):
            users.remove_access(conn, "admin", admin_id, "sch1", admin_id)
        with pytest.raises(users.NotFound):  # a user of another school is not this school's to remove
            users.remove_access(conn, "admin", admin_id, "sch2", office.ids[Role.COORDINATOR])
        change = audit.changes(conn, "sch1")[0]
    assert (change.action, change.before["roles"], change.after["active"]) == ("remove_access", ["canteen"], False)


def test_sign_in_is_throttled_after_too_many_failures_even_with_the_right_password(office: Office) -> None:
    with office.engine.begin() as conn:
        for _ in range(LIMITS.per_login):
            assert users.sign_in(conn, "coordinator", "wrong", "1.1.1.1", LIMITS) is None
        with pytest.raises(users.Throttled):
            users.sign_in(conn, "coordinator", PASSWORD, "1.1.1.1", LIMITS)


def test_school_users_lists_roles_classes_and_state(office: Office) -> None:
    _invite(office.engine)
    with office.engine.connect() as conn:
        rows = {r.login: r for r in users.school_users(conn, "sch1")}
    assert set(rows) == {"school_admin", "coordinator", "teacher", "canteen", "parent", "ivanova"}
    assert (rows["ivanova"].status, rows["ivanova"].class_ids) == ("invite", ("1а",))
    assert rows["coordinator"].status == "active"


def test_the_first_administrator_is_invited_from_the_command_line(office: Office, db_url: str) -> None:
    from click.testing import CliRunner

    from pos.cli import main

    runner = CliRunner()
    env = {"CANTEEN_DATABASE_URL": db_url}
    done = runner.invoke(main, ["server", "user", "invite", "sch2", "director", "--role", "school_admin"], env=env)
    assert done.exit_code == 0, done.output
    token = done.output.strip().rsplit("/", 1)[1]
    with office.engine.connect() as conn:
        info = users.open_link(conn, token)
    assert info is not None and info.login == "director"
    wrong = runner.invoke(main, ["server", "user", "invite", "nowhere", "x2", "--role", "canteen"], env=env)
    assert wrong.exit_code == 1 and "школа «nowhere» не найдена" in wrong.output


def test_a_removed_user_can_be_invited_again_but_an_active_login_cannot_be_taken_over(office: Office) -> None:
    admin_id = office.ids[Role.SCHOOL_ADMIN]
    with office.engine.begin() as conn:
        users.remove_access(conn, "admin", admin_id, "sch1", office.ids[Role.CANTEEN])
        user_id, token, _ = users.invite(conn, "admin", "sch1", "canteen", "coordinator")
        assert user_id == office.ids[Role.CANTEEN]
        assert users.sign_in(conn, "canteen", PASSWORD, "1.1.1.1", LIMITS) is None  # the old password is gone
        me = users.accept_link(conn, token, "Снова в школе", "again-password", "again-password")
        assert [g.role for g in me.grants] == [Role.COORDINATOR]
        with pytest.raises(users.UserError, match="уже занят"):  # active in sch1: sch2 cannot take it over
            users.invite(conn, "admin2", "sch2", "coordinator", "school_admin")
