"""People of the office: sign-in, invitations and password resets by one-time links, removal of access.

A school administrator invites a person by login and role; the person follows a one-time link
(its token kept only as a SHA-256 hash, valid for `LINK_DAYS` days) and sets a name and a password.
A reset makes a new link and ends the old password and every session. Removing access drops the
user's grants in the school; a user left with no grants is deactivated. Each change is in the audit log.

Failed sign-ins count against the same database-kept limit as the administrators' API login
(`server.accounts.login_throttled`), per login name and per address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from server import accounts
from server.models import RoleGrant, School, SchoolClass, User, UserLink
from server.office.audit import record_change
from server.office.roles import ROLE_SCOPE, SCHOOL_ROLES, Grant, Role, Scope

LINK_DAYS = 7
MIN_PASSWORD = 8
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")


class UserError(ValueError):
    """A request about users that cannot be done; the message is Russian, for the page."""


class NotFound(LookupError):
    """No such user (or link) in this school."""


class Throttled(Exception):
    def __init__(self, wait: timedelta) -> None:
        super().__init__(wait)
        self.wait = wait


@dataclass(frozen=True)
class Account:
    """A signed-in (or signing-in) user with their grants."""

    id: int
    login: str
    name: str
    session_key: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class UserRow:
    """A user of a school as the users page lists them."""

    id: int
    login: str
    name: str
    roles: tuple[Role, ...]
    class_ids: tuple[str, ...]
    status: str  # active | invited | reset | expired | inactive
    link_expires: datetime | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _grants(conn: Connection, user_id: int) -> tuple[Grant, ...]:
    rows = conn.execute(select(RoleGrant.role, RoleGrant.scope_kind, RoleGrant.school_id, RoleGrant.scope_id)
                        .where(RoleGrant.user_id == user_id).order_by(RoleGrant.id)).all()
    return tuple(Grant(Role(r.role), Scope(r.scope_kind), r.school_id, r.scope_id) for r in rows)


def _account(conn: Connection, row: object) -> Account:
    return Account(row.id, row.login, row.name, row.session_key, _grants(conn, row.id))  # type: ignore[attr-defined]


def load(conn: Connection, session_key: str) -> Account | None:
    """The active user a sign-in cookie names, or None (signed out, reset, removed)."""
    row = conn.execute(select(User.id, User.login, User.name, User.session_key).where(
        User.session_key == session_key, User.active.is_(True), User.password_hash.is_not(None))).first()
    return None if row is None else _account(conn, row)


def sign_in(conn: Connection, login: str, password: str, ip: str, limits: accounts.LoginLimits) -> Account | None:
    """The user for a login and password, or None; raises Throttled past the limit of failures."""
    login = login.strip().lower()
    wait = accounts.login_throttled(conn, login, ip, limits)
    if wait:
        raise Throttled(wait)
    row = conn.execute(select(User.id, User.login, User.name, User.session_key, User.password_hash).where(
        User.login == login, User.active.is_(True))).first()
    if row is None or row.password_hash is None or not check_password_hash(row.password_hash, password[:1000]):
        accounts.record_login_failure(conn, login, ip, limits)
        return None
    return _account(conn, row)


def add_user(conn: Connection, login: str, *, name: str = "", password: str | None = None,
             grants: Iterable[Grant] = ()) -> int:
    """A user with grants, written directly (the demo and tests; people are invited through `invite`)."""
    login = _check_login(conn, login)
    if password is not None:
        _check_password(password)
    user_id = int(conn.execute(insert(User).values(
        login=login, name=name, active=True, created_at=accounts.utcnow(), session_key=secrets.token_hex(16),
        password_hash=None if password is None else generate_password_hash(password)).returning(User.id)).scalar_one())
    _add_grants(conn, user_id, grants)
    return user_id


def _add_grants(conn: Connection, user_id: int, grants: Iterable[Grant]) -> None:
    for g in grants:
        conn.execute(insert(RoleGrant).values(user_id=user_id, role=g.role.value, scope_kind=g.scope.value,
                                              school_id=g.school_id, scope_id=g.scope_id))


def _former_user(conn: Connection, login: str) -> int | None:
    """A deactivated user (no roles anywhere) under this login, made ready to be invited again.

    A login in use (any role in any school) is refused by `_check_login`: an invitation sets the
    password, so inviting an active login would hand its account to whoever gets the link.
    """
    row = conn.execute(select(User.id).where(User.login == login.strip().lower(), User.active.is_(False))).first()
    if row is None or conn.execute(select(RoleGrant.id).where(RoleGrant.user_id == row.id)).first() is not None:
        return None
    conn.execute(update(User).where(User.id == row.id).values(active=True, password_hash=None,
                                                              session_key=secrets.token_hex(16)))
    return int(row.id)


def _check_login(conn: Connection, login: str) -> str:
    login = login.strip().lower()
    if not _LOGIN.fullmatch(login):
        raise UserError("логин: от 2 до 64 латинских букв, цифр и знаков . _ @ -, начиная с буквы или цифры")
    if conn.execute(select(User.id).where(User.login == login)).first() is not None:
        raise UserError(f"логин «{login}» уже занят")
    return login


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"пароль: не короче {MIN_PASSWORD} символов")
    if len(password) > 200:
        raise UserError("пароль: не длиннее 200 символов")


def _new_link(conn: Connection, user_id: int, purpose: str) -> tuple[str, datetime]:
    now = accounts.utcnow()
    conn.execute(delete(UserLink).where(UserLink.user_id == user_id, UserLink.used_at.is_(None)))
    token = secrets.token_urlsafe(24)
    expires = now + timedelta(days=LINK_DAYS)
    conn.execute(insert(UserLink).values(token_hash=_hash(token), user_id=user_id, purpose=purpose,
                                         created_at=now, expires_at=expires))
    return token, expires


def school_grants(role: Role, school_id: str, class_ids: Sequence[str]) -> list[Grant]:
    if ROLE_SCOPE[role] is Scope.CLASS:
        return [Grant(role, Scope.CLASS, school_id, c) for c in class_ids]
    return [Grant(role, Scope.SCHOOL, school_id)]


def invite(conn: Connection, actor: str, school_id: str, login: str, role: str,
           class_ids: Sequence[str] = ()) -> tuple[int, str, datetime]:
    """Create an invited user with one role in a school: (user id, the link's token, its expiry)."""
    try:
        the_role = Role(role)
    except ValueError:
        raise UserError("выберите роль") from None
    if the_role not in SCHOOL_ROLES:
        raise UserError("эту роль пока нельзя выдать в школе")
    if conn.execute(select(School.id).where(School.id == school_id)).first() is None:
        raise UserError(f"школа «{school_id}» не найдена")
    class_ids = list(dict.fromkeys(class_ids))
    if ROLE_SCOPE[the_role] is Scope.CLASS:
        if not class_ids:
            raise UserError("классному руководителю нужен хотя бы один класс")
        known = set(conn.execute(select(SchoolClass.id).where(SchoolClass.school_id == school_id)).scalars())
        if unknown := [c for c in class_ids if c not in known]:
            raise UserError(f"нет таких классов в школе: {', '.join(unknown)}")
    grants = school_grants(the_role, school_id, class_ids)
    former = _former_user(conn, login)
    if former is None:
        user_id = add_user(conn, login, grants=grants)
    else:
        user_id = former
        _add_grants(conn, user_id, grants)
    token, expires = _new_link(conn, user_id, "invite")
    before = None if former is None else {"login": login.strip().lower(), "active": False}
    record_change(conn, actor, school_id, "user", user_id, "invite", before,
                  {"login": login.strip().lower(), "role": the_role.value, "classes": class_ids})
    return user_id, token, expires


def _school_user(conn: Connection, school_id: str, user_id: int) -> object:
    row = conn.execute(select(User.id, User.login, User.name, User.active).where(User.id == user_id)).first()
    in_school = conn.execute(select(RoleGrant.id).where(RoleGrant.user_id == user_id,
                                                        RoleGrant.school_id == school_id)).first()
    if row is None or in_school is None:
        raise NotFound(user_id)
    return row


def reset_password(conn: Connection, actor: str, school_id: str, user_id: int) -> tuple[str, datetime]:
    """End the user's password and sessions; the new one-time link (token, expiry) sets a new one."""
    row = _school_user(conn, school_id, user_id)
    conn.execute(update(User).where(User.id == user_id).values(password_hash=None, active=True,
                                                              session_key=secrets.token_hex(16)))
    token, expires = _new_link(conn, user_id, "reset")
    record_change(conn, actor, school_id, "user", user_id, "reset_password",
                  {"login": row.login, "password": "задан"}, {"login": row.login, "password": "ссылка"})  # type: ignore[attr-defined]
    return token, expires


def remove_access(conn: Connection, actor: str, actor_id: int, school_id: str, user_id: int) -> None:
    """Drop the user's roles in the school (not one's own); with no roles left, the user is deactivated."""
    if user_id == actor_id:
        raise UserError("свой доступ снять нельзя: попросите другого администратора школы")
    row = _school_user(conn, school_id, user_id)
    before = [g for g in _grants(conn, user_id) if g.school_id == school_id]
    conn.execute(delete(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.school_id == school_id))
    left = conn.execute(select(RoleGrant.id).where(RoleGrant.user_id == user_id)).first()
    # A new session key signs the user out everywhere; grants are re-read per request anyway.
    values: dict[str, object] = {"session_key": secrets.token_hex(16)}
    if left is None:
        values["active"] = False
        conn.execute(delete(UserLink).where(UserLink.user_id == user_id))
    conn.execute(update(User).where(User.id == user_id).values(**values))
    record_change(conn, actor, school_id, "user", user_id, "remove_access",
                  {"login": row.login, "roles": [_grant_text(g) for g in before]},  # type: ignore[attr-defined]
                  {"login": row.login, "roles": [], "active": left is not None})  # type: ignore[attr-defined]


def _grant_text(g: Grant) -> str:
    return f"{g.role.value}:{g.scope_id}" if g.scope_id else g.role.value


@dataclass(frozen=True)
class LinkInfo:
    user_id: int
    login: str
    name: str
    purpose: str


def open_link(conn: Connection, token: str) -> LinkInfo | None:
    """Whose a one-time link is, or None (unknown, used or expired)."""
    row = conn.execute(select(UserLink.user_id, UserLink.purpose, User.login, User.name)
                       .join(User, User.id == UserLink.user_id)
                       .where(UserLink.token_hash == _hash(token[:200]), UserLink.used_at.is_(None),
                              UserLink.expires_at > accounts.utcnow(), User.active.is_(True))).first()
    return None if row is None else LinkInfo(row.user_id, row.login, row.name, row.purpose)


def accept_link(conn: Connection, token: str, name: str, password: str, password2: str) -> Account:
    """Set the name and password through a one-time link; the link is used up and the user is signed in."""
    info = open_link(conn, token)
    if info is None:
        raise UserError("ссылка недействительна: она уже использована или истекла; попросите новую")
    name = " ".join(name.split())
    if not 2 <= len(name) <= 200:
        raise UserError("укажите имя и фамилию (от 2 до 200 символов)")
    if password != password2:
        raise UserError("пароли не совпадают")
    _check_password(password)
    key = secrets.token_hex(16)
    conn.execute(update(User).where(User.id == info.user_id).values(
        name=name, password_hash=generate_password_hash(password), session_key=key))
    conn.execute(update(UserLink).where(UserLink.token_hash == _hash(token)).values(used_at=accounts.utcnow()))
    conn.execute(delete(UserLink).where(UserLink.user_id == info.user_id, UserLink.used_at.is_(None)))
    schools: Sequence[str | None] = sorted({g.school_id for g in _grants(conn, info.user_id) if g.school_id})
    for school_id in schools or [None]:
        record_change(conn, info.login, school_id, "user", info.user_id, "set_password",
                      {"name": info.name}, {"name": name})
    return Account(info.user_id, info.login, name, key, _grants(conn, info.user_id))


def school_users(conn: Connection, school_id: str) -> list[UserRow]:
    """The users holding a role in the school, by login, with their roles there and their state."""
    grants = conn.execute(select(RoleGrant.user_id, RoleGrant.role, RoleGrant.scope_kind, RoleGrant.scope_id)
                          .where(RoleGrant.school_id == school_id).order_by(RoleGrant.id)).all()
    by_user: dict[int, list[object]] = {}
    for g in grants:
        by_user.setdefault(g.user_id, []).append(g)
    if not by_user:
        return []
    users = conn.execute(select(User.id, User.login, User.name, User.active, User.password_hash)
                         .where(User.id.in_(by_user)).order_by(User.login)).all()
    links = {r.user_id: r for r in conn.execute(
        select(UserLink.user_id, UserLink.purpose, UserLink.expires_at)
        .where(UserLink.user_id.in_(by_user), UserLink.used_at.is_(None)))}
    now = accounts.utcnow()
    out = []
    for u in users:
        link = links.get(u.id)
        if not u.active:
            status = "inactive"
        elif u.password_hash is not None:
            status = "active"
        elif link is None or link.expires_at <= now:
            status = "expired"
        else:
            status = link.purpose
        mine = by_user[u.id]
        out.append(UserRow(u.id, u.login, u.name, tuple(dict.fromkeys(Role(g.role) for g in mine)),  # type: ignore[attr-defined]
                           tuple(g.scope_id for g in mine if g.scope_kind == Scope.CLASS),  # type: ignore[attr-defined]
                           status, link.expires_at if link is not None else None))
    return out
